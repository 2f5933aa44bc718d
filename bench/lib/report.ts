// The Markdown result of one run: machine, method, one table per measurement and the targets as
// pass/fail. Numbers only; the charts are separate SVG files beside it.
import type { ActionResult } from "../scenarios/action.js";
import type { BurstResult } from "../scenarios/burst.js";
import type { GrowthRow } from "../scenarios/growth.js";
import type { IdleResult } from "../scenarios/idle.js";
import type { LatencyResult } from "../scenarios/latency.js";
import type { MachineInfo } from "./proc.js";
import { TELEGRAM_LIMITS } from "./stats.js";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

export interface BenchData {
  mode: "full" | "quick";
  date: string;
  startedAt: string;
  durationSec: number;
  machine: MachineInfo;
  loadAverageEnd: [number, number, number];
  latency: Array<{ intervalSec: number; outcome: Outcome<LatencyResult> }>;
  action: Outcome<ActionResult>;
  bursts: Array<{ size: number; outcome: Outcome<BurstResult> }>;
  idle: Outcome<IdleResult>;
  growth: Array<{ label: string; outcome: Outcome<GrowthRow> }>;
  flood: Array<{ world: string; tooManyRequests: number; duringRetryAfter: number }>;
  charts: { latency: string; burst: string };
  notes: string[];
}

export interface Target {
  name: string;
  measured: string;
  pass: boolean | null;
}

const s = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits);
const mb = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined ? "—" : `${(bytes / 2 ** 20).toFixed(0)} MB`;
const verdict = (pass: boolean | null) => (pass === null ? "not run" : pass ? "**pass**" : "**FAIL**");

function row(cells: Array<string | number>): string {
  return `| ${cells.join(" | ")} |`;
}

function table(header: string[], rows: Array<Array<string | number>>): string[] {
  return [row(header), row(header.map(() => "---")), ...rows.map(row)];
}

export function targets(data: BenchData): Target[] {
  const out: Target[] = [];
  for (const { intervalSec, outcome } of data.latency) {
    const limit = intervalSec + 0.5;
    out.push({
      name: `p95 notification latency ≤ poll interval + 0.5 s (interval ${intervalSec} s: ≤ ${limit} s)`,
      measured: outcome.ok ? `${s(outcome.value.summary.p95)} s` : `error: ${outcome.error}`,
      pass: outcome.ok ? outcome.value.summary.p95 <= limit && outcome.value.missing === 0 : false,
    });
  }
  for (const [size, limitSec] of [
    [300, 60],
    [2500, 300],
  ] as const) {
    const burst = data.bursts.find((b) => b.size === size);
    if (burst === undefined) {
      out.push({
        name: `${size.toLocaleString("en")}-incident burst complete in every chat within ${limitSec} s`,
        measured: "—",
        pass: null,
      });
      continue;
    }
    const o = burst.outcome;
    out.push({
      name: `${size.toLocaleString("en")}-incident burst complete in every chat within ${limitSec} s`,
      measured: o.ok
        ? o.value.completeSec === null
          ? `not complete after ${o.value.timeoutSec} s`
          : `${s(o.value.completeSec, 1)} s`
        : `error: ${o.error}`,
      pass: o.ok ? o.value.completeSec !== null && o.value.completeSec <= limitSec : false,
    });
  }
  const during = data.flood.reduce((sum, f) => sum + f.duringRetryAfter, 0);
  out.push({
    name: "zero requests during retry_after (every world of the run)",
    measured: String(during),
    pass: during === 0,
  });
  const a = data.action;
  out.push({
    name: "action round trip p95 ≤ 1.5 s",
    measured: a.ok ? `${s(a.value.summary.p95)} s (${a.value.failed} failed)` : `error: ${a.error}`,
    pass: a.ok ? a.value.summary.p95 <= 1.5 && a.value.failed === 0 : false,
  });
  const idle = data.idle;
  if (idle.ok) {
    const v = idle.value;
    const rssMax = Math.max(v.rssAfterStartBytes ?? 0, v.rssEndBytes ?? 0, ...v.rssSamples.map((x) => x[1]));
    out.push(
      {
        name: "idle: ≤ 2 SIEM requests per poll",
        measured: s(v.siemRequestsPerPoll),
        pass: v.siemRequestsPerPoll <= 2,
      },
      { name: "idle: ≤ 1 % CPU", measured: `${s(v.cpuPercent, 2)} %`, pass: v.cpuPercent <= 1 },
      {
        name: "idle: resident memory ≤ 120 MB",
        measured: `${mb(rssMax)} (highest sample)`,
        pass: rssMax <= 120 * 2 ** 20,
      },
    );
  } else {
    out.push({ name: "idle targets", measured: `error: ${idle.error}`, pass: false });
  }
  const big = data.bursts.find((b) => b.size === 2500);
  if (big === undefined) {
    out.push({ name: "resident memory after the 2,500 burst ≤ 200 MB", measured: "—", pass: null });
  } else {
    const rss = big.outcome.ok ? big.outcome.value.rssAfterBytes : null;
    out.push({
      name: "resident memory after the 2,500 burst ≤ 200 MB",
      measured: big.outcome.ok
        ? `${mb(rss)} (peak ${mb(big.outcome.value.peakRssBytes)})`
        : `error: ${big.outcome.error}`,
      pass: rss !== null && rss <= 200 * 2 ** 20,
    });
  }
  return out;
}

function errorLine<T>(name: string, outcome: Outcome<T>): string[] {
  return outcome.ok ? [] : [`- ${name}: **error** — ${outcome.error}`];
}

export function renderReport(data: BenchData): string {
  const m = data.machine;
  const L = TELEGRAM_LIMITS;
  const lines: string[] = [
    `# Benchmark ${data.date} (${data.mode} mode)`,
    "",
    `Run with \`npm run bench${data.mode === "quick" ? " -- --quick" : ""}\`, started ${data.startedAt}, took ${(data.durationSec / 60).toFixed(1)} min (after the build).`,
    "",
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.os}. ` +
      `Load average at start ${m.loadAverage.map((x) => x.toFixed(1)).join(" / ")}, at end ${data.loadAverageEnd.map((x) => x.toFixed(1)).join(" / ")} ` +
      "(1/5/15 min; other work on the machine shares its cores).",
    "",
    "The service runs as it does in production, `node dist/cli.js run`, one child process per scenario, each " +
      "with its own SQLite file, MP SIEM emulator and fake Telegram Bot API (real HTTP on 127.0.0.1). The fake " +
      `enforces Telegram's flood limits: ${L.perChatPerSec} message/s per chat with a burst of ${L.perChatBurst}, ` +
      `${L.perGroupPerMin}/min per group, ${L.perBotPerSec}/s per bot, 429 with \`retry_after\` beyond, and flags ` +
      "any request made while a `retry_after` is running. Memory (VmRSS) and CPU time (utime + stime) are read from " +
      "`/proc/<pid>` of the service process. Chats: one private chat and two supergroups unless a row says otherwise.",
    "",
    "## Targets",
    "",
    ...table(
      ["target", "measured", "result"],
      targets(data).map((t) => [t.name, t.measured, verdict(t.pass)]),
    ),
    "",
  ];

  lines.push("## 1. Notification latency", "");
  lines.push(
    "Incidents are created one at a time, 3.5–5 s apart at random (so no group exceeds 20 messages a minute and " +
      "each lands at a random point of the poll cycle); latency is from the moment the emulator makes the incident " +
      "visible to its `sendMessage` reaching the fake, for every chat. One warm-up incident is not counted. The " +
      "floor set by polling is half an interval on average, a whole interval at worst.",
    "",
  );
  lines.push(
    ...table(
      [
        "poll interval",
        "samples (incidents × chats)",
        "p50",
        "p95",
        "p99",
        "max",
        "p95 / interval",
        "not delivered",
        "SIEM list calls per poll",
        "other SIEM requests per incident",
      ],
      data.latency
        .filter((l) => l.outcome.ok)
        .map(({ intervalSec, outcome }) => {
          const v = (outcome as { value: LatencyResult }).value;
          return [
            `${intervalSec} s`,
            `${v.samples.length} (${v.incidents} × ${v.chats})`,
            `${s(v.summary.p50)} s`,
            `${s(v.summary.p95)} s`,
            `${s(v.summary.p99)} s`,
            `${s(v.summary.max)} s`,
            s(v.p95Ratio),
            v.missing,
            s(v.listCallsPerPoll),
            s(v.siemRequestsPerIncident),
          ];
        }),
    ),
  );
  for (const l of data.latency) lines.push(...errorLine(`interval ${l.intervalSec} s`, l.outcome));
  lines.push("", `![latency histogram](${data.charts.latency})`, "");

  lines.push("## 2. Burst completion", "");
  lines.push(
    "All incidents of a burst appear in the SIEM at once (poll interval 3 s). Complete = every incident visible in " +
      "every chat, as a single message or a digest line. **Lower bound**: a message holds at most *k* incidents " +
      "(*k* = the most the service fitted into one message in this run — the 4096-character limit sets it), so a " +
      "chat needs at least *M* = ⌈n / k⌉ messages; the bound is the fastest schedule of *M* messages per chat that " +
      `the limits allow, every chat starting with its full burst allowance: a private chat sends message *i* at ` +
      `max(0, i − ${L.perChatBurst} + 1) / ${L.perChatPerSec} s; a group also never more than ${L.perGroupPerMin} in any 60 s ` +
      `(message *i* ≥ message *i − ${L.perGroupPerMin}* + 60 s); the bot never more than ${L.perBotPerSec} in any second. ` +
      "The bound leaves out everything that is not Telegram (noticing the burst takes up to one poll interval), so " +
      "a small burst that fits in the first allowance has a bound near 0 s. *Bound (sent)* is the same schedule " +
      "for the messages the service actually sent.",
    "",
  );
  const okBursts = data.bursts
    .filter((b) => b.outcome.ok)
    .map((b) => (b.outcome as { value: BurstResult }).value);
  lines.push(
    ...table(
      [
        "burst",
        "complete",
        "per chat (private / group / group)",
        "messages per chat",
        "k",
        "M",
        "lower bound",
        "ratio",
        "bound (sent)",
        "429s",
        "during retry_after",
        "shown twice",
        "SIEM requests",
        "CPU",
        "RSS after (peak)",
      ],
      okBursts.map((b) => [
        b.size.toLocaleString("en"),
        b.completeSec === null ? `not within ${b.timeoutSec} s` : `${s(b.completeSec, 1)} s`,
        b.chats
          .map((c) => (c.completeSec === null ? `${c.visible}/${b.size}` : `${s(c.completeSec, 1)} s`))
          .join(" / "),
        b.chats.map((c) => c.messages).join(" / "),
        b.maxPerMessage,
        b.neededPerChat,
        `${s(b.boundNeededSec, 1)} s`,
        b.ratio === null ? "—" : `${s(b.ratio, 2)}×`,
        `${s(b.boundSentSec, 1)} s`,
        b.tooManyRequests,
        b.duringRetryAfter,
        b.chats.reduce((sum, c) => sum + c.repeats, 0),
        b.siemRequests,
        `${s(b.cpuSec, 1)} s`,
        `${mb(b.rssAfterBytes)} (${mb(b.peakRssBytes)})`,
      ]),
    ),
  );
  for (const b of data.bursts) lines.push(...errorLine(`burst ${b.size}`, b.outcome));
  lines.push("", `![burst completion](${data.charts.burst})`, "");

  lines.push("## 3. Action round trip", "");
  lines.push(
    "The admin presses Approve under an incident message (rotating over the three chats, 3.5–4.5 s apart); the " +
      "round trip is from the press to the last of the three copies edited to show *Approved* (the incident is " +
      "checked to be Approved in the SIEM). Poll interval 3 s: the edit does not wait for a poll.",
    "",
  );
  if (data.action.ok) {
    const v = data.action.value;
    lines.push(
      ...table(
        [
          "presses",
          "copies each",
          "p50",
          "p95",
          "max",
          "press answered p50 / p95",
          "failed",
          "SIEM requests per press",
        ],
        [
          [
            v.presses,
            v.copiesPerIncident,
            `${s(v.summary.p50)} s`,
            `${s(v.summary.p95)} s`,
            `${s(v.summary.max)} s`,
            `${s(v.answers.p50)} / ${s(v.answers.p95)} s`,
            v.failed,
            s(v.siemRequestsPerAction, 1),
          ],
        ],
      ),
    );
  } else lines.push(...errorLine("action", data.action));
  lines.push("");

  lines.push("## 4. Cost", "");
  if (data.idle.ok) {
    const v = data.idle.value;
    const byRoute = Object.entries(v.byRoute)
      .map(([route, n]) => `${route} ${n}`)
      .join(", ");
    const samples = v.rssSamples.filter((_, i, all) => i % 4 === 3 || i === all.length - 1);
    lines.push(
      `Idle service: poll interval ${v.intervalSec} s, three allowed chats, no incidents, measured for ${(v.idleSec / 60).toFixed(1)} min ` +
        (data.mode === "quick"
          ? "(quick mode: a short stretch, not the 10 minutes of the full run)."
          : "(the whole run; `npm run bench` must finish within 10 minutes, build included, so the stretch is a little shorter than 10 minutes)."),
      "",
      ...table(
        ["measure", "value"],
        [
          ["start-up: process spawned → first SIEM poll", `${s(v.startupToFirstPollSec)} s`],
          ["resident memory 5 s after the first poll", mb(v.rssAfterStartBytes)],
          [`resident memory after ${(v.idleSec / 60).toFixed(1)} min idle`, mb(v.rssEndBytes)],
          [
            "resident memory over the idle stretch (min idle: MB)",
            samples.map(([t, b]) => `${t.toFixed(1)}: ${(b / 2 ** 20).toFixed(0)}`).join(", ") || "—",
          ],
          ["SIEM requests per idle minute", s(v.siemRequestsPerMinute, 1)],
          [
            "SIEM requests per poll",
            `${s(v.siemRequestsPerPoll)} (${v.siemRequests} in ${v.polls} polls: ${byRoute || "none"})`,
          ],
          ["CPU seconds per idle minute", s(v.cpuSecPerMinute, 3)],
          ["CPU while idle", `${s(v.cpuPercent, 2)} % of one core`],
        ],
      ),
    );
  } else lines.push(...errorLine("idle", data.idle));
  const perIncident = data.latency
    .filter((l) => l.outcome.ok)
    .map(
      (l) =>
        `${s((l.outcome as { value: LatencyResult }).value.siemRequestsPerIncident, 1)} at interval ${l.intervalSec} s`,
    );
  const big = okBursts.find((b) => b.size === 2500);
  lines.push(
    "",
    `SIEM requests per incident beyond the polls' list calls (details and events read before a single message): ${perIncident.join(", ") || "—"}; ` +
      `incidents that go out in digests need none (${okBursts.map((b) => `${b.size.toLocaleString("en")} burst: ${b.siemRequests} requests in all`).join(", ")}).`,
    "",
    `Resident memory after the 2,500 burst: ${big ? `${mb(big.rssAfterBytes)}, peak ${mb(big.peakRssBytes)}` : "not run in this mode"}.`,
    "",
  );

  lines.push("## 5. Growth", "");
  lines.push(
    "Allowed chats are written into the store before the service starts (four private chats to every group); " +
      "incidents are then created one at a time. *First copy* is the latency to the first chat, *last copy* to the " +
      `last one; with many chats the last copy is bounded by Telegram's ${L.perBotPerSec} messages/s per bot (the bound column). ` +
      "The 10,000-incident row has them in the SIEM (spread over the last day) and in the store as delivered.",
    "",
  );
  lines.push(
    ...table(
      [
        "set-up",
        "incidents",
        "RSS after start",
        "RSS after",
        "first copy p50 (max)",
        "last copy p50 (max)",
        "all copies p50 / p95",
        "bound for last copy",
        "not delivered",
        "mean SIEM poll",
      ],
      data.growth
        .filter((g) => g.outcome.ok)
        .map((g) => {
          const v = (g.outcome as { value: GrowthRow }).value;
          return [
            v.label,
            v.incidents,
            mb(v.rssAfterStartBytes),
            mb(v.rssAfterBytes),
            `${s(v.firstCopy.p50)} s (${s(v.firstCopy.max)} s)`,
            `${s(v.lastCopy.p50)} s (${s(v.lastCopy.max)} s)`,
            `${s(v.allCopies.p50)} / ${s(v.allCopies.p95)} s`,
            `${s(v.boundLastCopySec, 1)} s`,
            v.missing,
            `${s(v.meanPollSec * 1000, 0)} ms`,
          ];
        }),
    ),
  );
  for (const g of data.growth) lines.push(...errorLine(g.label, g.outcome));
  lines.push("");

  lines.push("## Flood control over the whole run", "");
  lines.push(
    ...table(
      ["world", "429 answers", "requests during retry_after"],
      data.flood.map((f) => [f.world, f.tooManyRequests, f.duringRetryAfter]),
    ),
  );
  if (data.notes.length > 0) lines.push("", "## Notes", "", ...data.notes.map((n) => `- ${n}`));
  lines.push("");
  return lines.join("\n");
}
