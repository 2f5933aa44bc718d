// `npm run bench` (full, under 10 minutes) and `npm run bench -- --quick` (under 2 minutes): measures
// the real service against the MP SIEM emulator and the fake Telegram Bot API, then writes
// bench/results/<date>-<mode>.md, a JSON file with the raw figures and two SVG charts.
//
// Schedule (full): an idle service starts first, alone, then runs beside everything else for the
// whole run. Then the year-of-traffic store (retention), alone: it writes and copies a few hundred
// MB, which would stall the other services' disk writes; and the earlier commit's build for the idle
// RSS comparison, alone too. Latency at poll intervals 1 s and 3 s and the action round trip run
// together (each mostly waits on its own clock), and beside them the light new scenarios: idle RSS of
// this build and of the earlier commit, and the 150 ms-latency world; then the 300 burst alone; then
// the 2,500 burst, with the growth scenarios starting once its private chat is complete (from then on
// the burst only trickles into the groups at 20 a minute); then the soak, which keeps a core busy and
// so runs last, beside the idle service's last minutes. Quick mode leaves out the idle RSS comparison
// (a short idle stretch says nothing about memory) and runs the others in smaller variants.
//
// `--only NAME[,NAME]` runs just those of the new scenarios (soak, latency150, retention, idle-rss,
// failover, postgres), or the bursts (burst: the mode's bursts, one after the other, without the growth
// scenarios beside the last one), or issue 13's routing world (routing: 200 chats with filters, 2,000
// incidents), or issue 15's reminder world (reminders: 10,000 open incidents under a policy, about 6
// minutes), one after the other, and writes bench/results/<date>-<mode>-only-<names>.md/.json.
// Three of them run only so, never in the whole run (which they would take past 10 minutes): failover
// (two instances on PostgreSQL, the leader killed five times, about 2 minutes), postgres (latency
// and the 2,500 burst on PostgreSQL beside SQLite in the same run, about 7 minutes) and routing. The soak makes
// 200,000 Telegram calls there; inside the full run it makes fewer (FULL.soak.callsInRun) to keep
// the run within 10 minutes. `--soak-calls N` overrides both. `--previous FILE.json` names the run
// whose figures the report shows beside this one's (default: the newest earlier *-full.json here).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { machineInfo } from "./lib/proc.js";
import { type BenchData, type Outcome, renderReport, targets } from "./lib/report.js";
import { histogramSvg, lineChartSvg } from "./lib/svg.js";
import { CLI_PATH, floodTotals, liveServices, REPO, sleep } from "./lib/world.js";
import { runAction } from "./scenarios/action.js";
import { runBurst } from "./scenarios/burst.js";
import { runFailover } from "./scenarios/failover.js";
import { type GrowthRow, runGrowthChats, runGrowthHistory } from "./scenarios/growth.js";
import { IdleRun } from "./scenarios/idle.js";
import { type BaselineBuild, buildBaseline, runIdleRss } from "./scenarios/idle-rss.js";
import { runLatency } from "./scenarios/latency.js";
import { runLatency150 } from "./scenarios/latency150.js";
import { runPostgresComparison } from "./scenarios/postgres.js";
import { type RemindersPlan, runReminders } from "./scenarios/reminders.js";
import { runRetention } from "./scenarios/retention.js";
import { runRouting } from "./scenarios/routing.js";
import { runSoak } from "./scenarios/soak.js";

interface Plan {
  mode: "full" | "quick";
  latencyIncidents: number;
  actionPresses: number;
  /** `highs`: High incidents spread through the burst (each goes out alone, ahead of the rest). */
  bursts: Array<{ size: number; timeoutSec: number; highs: number }>;
  growthChats: Array<{ chats: number; incidents: number }>;
  history: { stored: number; incidents: number } | null;
  /** The idle service is measured at least this long (and as long as the run lasts). */
  idleMinMs: number;
  /** Soak: Telegram calls inside the whole run, and alone (`--only soak`). */
  soak: { callsInRun: number; callsAlone: number; chats: number; incidents: number; timeoutSec: number };
  latency150: { chats: number; incidents: number };
  retention: { incidents: number; ticks: number; idleSec: number };
  /** null: not in this mode's whole run (`--only idle-rss` still runs it, with the full plan's stretch). */
  idleRss: { idleSec: number } | null;
  /** Issue 13's routing world (`--only routing`; not in the whole run, which must fit in 10 minutes). */
  routing: { chats: number; incidents: number; highs: number; timeoutSec: number };
  /** Issue 15's reminder world (`--only reminders`; not in the whole run). */
  reminders: Omit<RemindersPlan, "seed">;
}

export const NEW_SCENARIOS = [
  "soak",
  "latency150",
  "retention",
  "idle-rss",
  "failover",
  "postgres",
  "burst",
  "routing",
  "reminders",
] as const;
type NewScenario = (typeof NEW_SCENARIOS)[number];

const FULL: Plan = {
  mode: "full",
  latencyIncidents: 45,
  actionPresses: 15,
  bursts: [
    { size: 300, timeoutSec: 120, highs: 1 },
    { size: 2500, timeoutSec: 330, highs: 0 },
  ],
  growthChats: [
    { chats: 10, incidents: 5 },
    { chats: 100, incidents: 3 },
    { chats: 1000, incidents: 1 },
  ],
  history: { stored: 10_000, incidents: 5 },
  idleMinMs: 8 * 60_000,
  soak: { callsInRun: 30_000, callsAlone: 200_000, chats: 100, incidents: 50, timeoutSec: 1_500 },
  latency150: { chats: 50, incidents: 3 },
  retention: { incidents: 100_000, ticks: 30, idleSec: 15 },
  idleRss: { idleSec: 180 },
  routing: { chats: 200, incidents: 2000, highs: 10, timeoutSec: 480 },
  reminders: {
    incidents: 10_000,
    pollIntervalSec: 3,
    spreadSec: 120,
    remindAfterSec: 270,
    remindEverySec: 30,
    remindMax: 2,
  },
};

const QUICK: Plan = {
  mode: "quick",
  latencyIncidents: 6,
  actionPresses: 5,
  bursts: [{ size: 300, timeoutSec: 90, highs: 1 }],
  growthChats: [
    { chats: 10, incidents: 2 },
    { chats: 100, incidents: 2 },
  ],
  history: null,
  idleMinMs: 0,
  soak: { callsInRun: 5_000, callsAlone: 20_000, chats: 50, incidents: 20, timeoutSec: 300 },
  latency150: { chats: 50, incidents: 1 },
  retention: { incidents: 10_000, ticks: 15, idleSec: 3 },
  idleRss: null,
  routing: { chats: 50, incidents: 500, highs: 3, timeoutSec: 240 },
  reminders: {
    incidents: 10_000,
    pollIntervalSec: 3,
    spreadSec: 120,
    remindAfterSec: 270,
    remindEverySec: 30,
    remindMax: 2,
  },
};

const SEED = 20_240_601;
const RESULTS_DIR = join(REPO, "bench", "results");
const runStartedAt = Date.now();

function log(line: string): void {
  const t = ((Date.now() - runStartedAt) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`[bench ${t}s] ${line}\n`);
}

async function attempt<T>(name: string, work: () => Promise<T>): Promise<Outcome<T>> {
  const started = Date.now();
  log(`${name}: start`);
  try {
    const value = await work();
    log(`${name}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return { ok: true, value };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${name}: FAILED: ${message}`);
    return { ok: false, error: message };
  }
}

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// An interrupted run must not leave services behind: stop the children this process started.
process.on("exit", () => {
  for (const service of liveServices) service.child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping the services started by the benchmark`);
    process.exit(130);
  });
}

async function runGrowthAll(plan: Plan): Promise<Array<{ label: string; outcome: Outcome<GrowthRow> }>> {
  const rows: Array<{ label: string; outcome: Outcome<GrowthRow> }> = [];
  for (const [i, g] of plan.growthChats.entries()) {
    const label = `${g.chats} chats`;
    rows.push({
      label,
      outcome: await attempt(`growth ${label}`, () =>
        runGrowthChats({ chats: g.chats, incidents: g.incidents, seed: SEED + 100 + i }),
      ),
    });
  }
  if (plan.history) {
    const h = plan.history;
    const label = `${h.stored} incidents stored`;
    rows.push({
      label,
      outcome: await attempt(`growth ${label}`, () =>
        runGrowthHistory({ stored: h.stored, incidents: h.incidents, seed: SEED + 200 }),
      ),
    });
  }
  return rows;
}

/** Writes the JSON (raw figures), the Markdown report and the two charts of a run. */
function resultsBase(data: Pick<BenchData, "date" | "mode" | "only">): string {
  return `${data.date}-${data.mode}${data.only ? `-only-${data.only.join("-")}` : ""}`;
}

/**
 * The run whose figures the report shows beside this one's: --previous, or the newest full run that
 * started before this one.
 */
function previousRun(data: Pick<BenchData, "startedAt">): { file: string; data: BenchData } | null {
  const index = process.argv.indexOf("--previous");
  if (index > 0) {
    const file = process.argv[index + 1];
    if (file === undefined) throw new Error("--previous needs the JSON file of a run");
    return { file, data: JSON.parse(readFileSync(file, "utf8")) as BenchData };
  }
  if (!existsSync(RESULTS_DIR)) return null;
  const earlier = readdirSync(RESULTS_DIR)
    .filter((name) => /^\d{4}-\d{2}-\d{2}-full\.json$/.test(name))
    .map((name) => join(RESULTS_DIR, name))
    .map((file) => ({ file, data: JSON.parse(readFileSync(file, "utf8")) as BenchData }))
    .filter((run) => run.data.startedAt < data.startedAt)
    .sort((a, b) => a.data.startedAt.localeCompare(b.data.startedAt));
  return earlier.at(-1) ?? null;
}

function writeResults(data: BenchData, previous: BenchData | null): void {
  const base = resultsBase(data);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const latencyPanels = data.latency
    .filter((l) => l.outcome.ok)
    .map((l) => {
      const v = (l.outcome as { value: Awaited<ReturnType<typeof runLatency>> }).value;
      return {
        title: `poll interval ${l.intervalSec} s`,
        values: v.samples,
        markers: [
          { x: v.summary.p50, label: `p50 ${v.summary.p50.toFixed(2)} s`, color: "#2ca02c" },
          { x: v.summary.p95, label: `p95 ${v.summary.p95.toFixed(2)} s`, color: "#d62728" },
          { x: l.intervalSec + 0.5, label: `target ${l.intervalSec + 0.5} s`, color: "#555" },
        ],
      };
    });
  if (data.only) {
    writeFileSync(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(data, null, 1)}\n`);
    writeFileSync(join(RESULTS_DIR, `${base}.md`), renderReport(data, previous));
    return;
  }
  writeFileSync(
    join(RESULTS_DIR, data.charts.latency),
    histogramSvg(
      `Notification latency (${data.date}, ${data.mode})`,
      latencyPanels,
      "seconds from visible in the SIEM to the message in Telegram",
    ),
  );
  const burstPanels = data.bursts
    .filter((b) => b.outcome.ok)
    .map((b) => {
      const v = (b.outcome as { value: Awaited<ReturnType<typeof runBurst>> }).value;
      return {
        title: `${v.size.toLocaleString("en")} incidents at once${v.completeSec === null ? " (not complete)" : `: complete in ${v.completeSec.toFixed(1)} s`}`,
        series: v.chats.map((c) => ({ label: c.label, points: c.timeline })),
        yTarget: v.size,
        markers: [
          { x: v.boundNeededSec, label: `lower bound ${v.boundNeededSec.toFixed(1)} s`, color: "#555" },
          ...(v.size === 300 ? [{ x: 60, label: "target 60 s", color: "#d62728" }] : []),
          ...(v.size === 2500 ? [{ x: 300, label: "target 300 s", color: "#d62728" }] : []),
        ],
      };
    });
  writeFileSync(
    join(RESULTS_DIR, data.charts.burst),
    lineChartSvg(
      `Burst completion (${data.date}, ${data.mode})`,
      burstPanels,
      "seconds since the burst appeared in the SIEM",
      "incidents visible in the chat",
    ),
  );
  writeFileSync(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(data, null, 1)}\n`);
  const report = renderReport(data, previous);
  writeFileSync(join(RESULTS_DIR, `${base}.md`), report);
}

async function main(): Promise<void> {
  // `--render FILE.json` rewrites a run's report and charts from its saved figures (no measuring).
  const renderIndex = process.argv.indexOf("--render");
  if (renderIndex > 0) {
    const file = process.argv[renderIndex + 1];
    if (file === undefined) throw new Error("--render needs the JSON file of a run");
    const data = JSON.parse(readFileSync(file, "utf8")) as BenchData;
    writeResults(data, previousRun(data)?.data ?? null);
    log(`rewrote bench/results/${resultsBase(data)}.md and its charts from ${file}`);
    return;
  }
  const plan = process.argv.includes("--quick") ? QUICK : FULL;
  const onlyIndex = process.argv.indexOf("--only");
  const only =
    onlyIndex > 0 ? (process.argv[onlyIndex + 1] ?? "").split(",").filter((name) => name !== "") : null;
  for (const name of only ?? []) {
    if (!(NEW_SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`--only: unknown scenario "${name}"; one of ${NEW_SCENARIOS.join(", ")}`);
    }
  }
  if (only !== null && only.length === 0) throw new Error(`--only needs a name: ${NEW_SCENARIOS.join(", ")}`);
  const soakCallsIndex = process.argv.indexOf("--soak-calls");
  const soakCalls = soakCallsIndex > 0 ? Number(process.argv[soakCallsIndex + 1]) : null;
  if (soakCalls !== null && !(soakCalls > 0)) throw new Error("--soak-calls needs a number of calls");
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm run bench does it)`);
  }
  const machine = machineInfo();
  const startedAt = new Date();
  log(
    `${plan.mode} mode on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage[0].toFixed(1)}`,
  );

  const extra: Pick<
    BenchData,
    "soak" | "latency150" | "retention" | "idleRss" | "failover" | "postgres" | "routing" | "reminders"
  > = {};
  const onlyBursts: BenchData["bursts"] = [];
  const newScenario = (name: NewScenario, calls?: number, built?: Outcome<BaselineBuild>) => {
    switch (name) {
      case "soak": {
        const n = soakCalls ?? calls ?? plan.soak.callsAlone;
        return attempt(`soak, ${n.toLocaleString("en")} Telegram calls`, () =>
          runSoak({ ...plan.soak, calls: n, seed: SEED + 300 }),
        ).then((outcome) => {
          extra.soak = outcome;
        });
      }
      case "latency150":
        return attempt("150 ms-latency world", () =>
          runLatency150({ ...plan.latency150, seed: SEED + 310 }),
        ).then((outcome) => {
          extra.latency150 = outcome;
        });
      case "retention":
        return attempt("retention: a year of traffic", () =>
          runRetention({ ...plan.retention, seed: SEED + 320 }),
        ).then((outcome) => {
          extra.retention = outcome;
        });
      case "idle-rss":
        return attempt("idle RSS of run, this build and adb736a", () => {
          if (built && !built.ok) throw new Error(`the earlier build failed: ${built.error}`);
          return runIdleRss({
            idleSec: (plan.idleRss ?? FULL.idleRss ?? { idleSec: 180 }).idleSec,
            seed: SEED + 330,
            ...(built?.ok ? { built: built.value } : {}),
          });
        }).then((outcome) => {
          extra.idleRss = outcome;
        });
      case "failover":
        return attempt("failover: two instances on PostgreSQL, the leader killed 5 times", () =>
          runFailover({ kills: 5, streamEveryMs: 1_500, seed: SEED + 340 }),
        ).then((outcome) => {
          extra.failover = outcome;
        });
      case "postgres": {
        const burst = FULL.bursts.find((b) => b.size === 2500)!;
        return attempt("latency and the 2,500 burst on PostgreSQL and SQLite", () =>
          runPostgresComparison({
            latencyIncidents: plan.latencyIncidents,
            burstSize: burst.size,
            burstTimeoutSec: burst.timeoutSec,
            // The whole run's seeds for these worlds (below), so each gets the same incidents.
            latencySeeds: { 1: SEED + 10, 3: SEED + 11 },
            burstSeed: SEED + 31,
            log,
          }),
        ).then((outcome) => {
          extra.postgres = outcome;
        });
      }
      case "routing":
        return attempt(
          `routing: ${plan.routing.chats} chats with filters, ${plan.routing.incidents.toLocaleString("en")} incidents`,
          () => runRouting({ ...plan.routing, seed: SEED + 350 }),
        ).then((outcome) => {
          extra.routing = outcome;
        });
      case "reminders":
        return attempt(
          `reminders: ${plan.reminders.incidents.toLocaleString("en")} open incidents under a policy, on against off`,
          () => runReminders({ ...plan.reminders, seed: SEED + 360 }),
        ).then((outcome) => {
          extra.reminders = outcome;
        });
      case "burst":
        return (async () => {
          for (const [i, b] of plan.bursts.entries()) {
            onlyBursts.push({
              size: b.size,
              outcome: await attempt(`burst ${b.size}`, () => runBurst({ ...b, seed: SEED + 30 + i })),
            });
          }
        })();
    }
  };

  if (only !== null) {
    for (const name of only as NewScenario[]) await newScenario(name);
    const load = os.loadavg();
    const data: BenchData = {
      mode: plan.mode,
      only,
      date: localDate(startedAt),
      startedAt: startedAt.toISOString(),
      durationSec: (Date.now() - runStartedAt) / 1000,
      machine,
      loadAverageEnd: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
      latency: [],
      action: { ok: false, error: "not run (--only)" },
      bursts: onlyBursts,
      idle: { ok: false, error: "not run (--only)" },
      growth: [],
      flood: floodTotals,
      charts: { latency: "", burst: "" },
      notes: [`Only ${only.join(", ")} (\`--only\`); the other scenarios were not run.`],
      ...extra,
    };
    const base = resultsBase(data);
    writeResults(data, previousRun(data)?.data ?? null);
    log(`results: bench/results/${base}.md (+ .json)`);
    for (const t of targets(data)) {
      log(
        `${t.pass === null ? (t.measured === "—" ? "not run" : "not judged") : t.pass ? "pass" : "FAIL"}  ${t.name}: ${t.measured}`,
      );
    }
    return;
  }

  // Alone, so that its start-up time is not slowed by the other services starting.
  const idleRun = await attempt("idle service start", () =>
    IdleRun.start({ seed: SEED + 1, intervalSec: 3 }),
  );

  // The year-of-traffic store goes alone, before the timed scenarios; so does the earlier commit's
  // build (full mode only: a quick idle stretch says nothing about memory).
  await newScenario("retention");
  const idleRssBuild =
    plan.idleRss === null ? null : await attempt("idle RSS: build adb736a", async () => buildBaseline());
  const [lat1, lat3, action] = await Promise.all([
    attempt("latency, poll interval 1 s", () =>
      runLatency({ intervalSec: 1, incidents: plan.latencyIncidents, seed: SEED + 10 }),
    ),
    attempt("latency, poll interval 3 s", () =>
      runLatency({ intervalSec: 3, incidents: plan.latencyIncidents, seed: SEED + 11 }),
    ),
    attempt("action round trip", () => runAction({ presses: plan.actionPresses, seed: SEED + 20 })),
    // Light beside these (mostly waiting on their own clocks).
    idleRssBuild === null ? Promise.resolve() : newScenario("idle-rss", undefined, idleRssBuild),
    newScenario("latency150"),
  ]);

  const bursts: BenchData["bursts"] = [];
  let growth: BenchData["growth"] = [];
  for (const [i, b] of plan.bursts.entries()) {
    const last = i === plan.bursts.length - 1;
    if (!last) {
      bursts.push({
        size: b.size,
        outcome: await attempt(`burst ${b.size}`, () => runBurst({ ...b, seed: SEED + 30 + i })),
      });
      continue;
    }
    // The last burst shares its tail with the growth scenarios (see the schedule above).
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const burst = attempt(`burst ${b.size}`, () =>
      runBurst({ ...b, seed: SEED + 30 + i, onPrivateComplete: () => release() }),
    ).finally(() => release());
    const rows = (plan.mode === "quick" ? Promise.resolve() : gate).then(() => runGrowthAll(plan));
    const [burstOutcome, growthRows] = await Promise.all([burst, rows]);
    bursts.push({ size: b.size, outcome: burstOutcome });
    growth = growthRows;
  }

  // Last: it keeps a core busy, so nothing timed runs beside it but the idle service (CPU time only).
  await newScenario("soak", plan.soak.callsInRun);

  let idle: Outcome<Awaited<ReturnType<IdleRun["finish"]>>>;
  if (idleRun.ok) {
    const waitMs = plan.idleMinMs - idleRun.value.idleMs;
    if (waitMs > 0) log(`idle service: ${(waitMs / 1000).toFixed(0)} s more of idle time`);
    await sleep(waitMs);
    idle = await attempt("idle service measurement", () => idleRun.value.finish(3));
  } else {
    idle = idleRun;
  }

  const date = localDate(startedAt);
  const base = `${date}-${plan.mode}`;
  const load = os.loadavg();
  const data: BenchData = {
    mode: plan.mode,
    date,
    startedAt: startedAt.toISOString(),
    durationSec: (Date.now() - runStartedAt) / 1000,
    machine,
    loadAverageEnd: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
    latency: [
      { intervalSec: 1, outcome: lat1 },
      { intervalSec: 3, outcome: lat3 },
    ],
    action,
    bursts,
    idle,
    growth,
    flood: floodTotals,
    charts: { latency: `${base}-latency.svg`, burst: `${base}-burst.svg` },
    ...extra,
    notes:
      plan.mode === "quick"
        ? [
            "Quick mode: fewer samples (6 incidents per latency run, 5 presses), no 2,500 burst, growth with 10 and " +
              "100 chats only (no 1,000 chats, no 10,000 stored incidents), and an idle stretch of about a minute " +
              "right after start (so its CPU figure includes the service settling in, while the other scenarios " +
              "load the machine). Use the full run for the figures.",
            `New scenarios in their quick variants: soak ${plan.soak.callsInRun.toLocaleString("en")} Telegram calls, ` +
              `the 150 ms world with ${plan.latency150.incidents} incident, retention on ${plan.retention.incidents.toLocaleString("en")} ` +
              "incidents; no idle RSS comparison (`npm run bench -- --only idle-rss` runs it).",
          ]
        : [
            `The soak inside the full run makes ${(soakCalls ?? plan.soak.callsInRun).toLocaleString("en")} Telegram calls, to keep the ` +
              "run within about 10 minutes; `npm run bench -- --only soak` makes the 200,000.",
          ],
  };

  writeResults(data, previousRun(data)?.data ?? null);
  log(`results: bench/results/${base}.md (+ .json, -latency.svg, -burst.svg)`);
  for (const t of targets(data)) {
    log(
      `${t.pass === null ? (t.measured === "—" ? "not run" : "not judged") : t.pass ? "pass" : "FAIL"}  ${t.name}: ${t.measured}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
