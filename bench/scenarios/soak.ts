// Soak: 200,000 Telegram calls through the real service, its heap and resident memory sampled along
// the way. Many chats receive a set of incidents, then the incidents keep changing in the SIEM, so
// every change is an edit in every chat. The fake's flood limits are off and the service's pacer is
// scaled up to match (bench/lib/scaled-service.mjs), so the calls take minutes, not days; every call
// still goes through the pacer, the delivery lanes and grammY as in production.
//
// "Flat" is judged on the heap floor: the lowest heap-used sample in each tenth of the run (after the
// first tenth, the warm-up), which is what stays after garbage collection. A leak of one small object
// per call (an AbortSignal kept alive, nodejs/node#55351) grows it steadily; a threshold of 2 MB per
// 100,000 calls is 20 bytes a call.
import { join } from "node:path";
import { manyChats, REPO, type ServiceProcess, sleep, World, waitUntil } from "../lib/world.js";

export const SOAK_FLAT_MB_PER_100K = 2;
/**
 * Below this many calls the verdict is not given: the heap swings by 100 MB between collections, and
 * a few tenths of a short run cannot tell a leak of this size from those swings.
 */
export const SOAK_MIN_CALLS_TO_JUDGE = 100_000;

/** Pacing far above anything the soak reaches: only the machine limits the calls. */
const SCALED_PACER = {
  perChatPerSec: 10_000,
  perChatBurst: 10_000,
  perGroupPerMin: 10_000_000,
  perBotPerSec: 100_000,
};

export interface SoakSample {
  sec: number;
  calls: number;
  heapUsedBytes: number;
  rssBytes: number;
}

export interface SoakResult {
  targetCalls: number;
  calls: number;
  byMethod: Record<string, number>;
  chats: number;
  incidents: number;
  changes: number;
  durationSec: number;
  callsPerSec: number;
  samples: SoakSample[];
  heap: { firstBytes: number; lastBytes: number; maxBytes: number; floorSlopeMbPer100k: number };
  rss: { firstBytes: number; lastBytes: number; maxBytes: number; floorSlopeMbPer100k: number };
  /** null: too few calls to judge (SOAK_MIN_CALLS_TO_JUDGE). */
  flat: boolean | null;
  node: string;
  /** CPU seconds of the service process and of this process (the fakes) over the run. */
  serviceCpuSec: number;
  benchCpuSec: number;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** MB per 100,000 calls of the lowest sample in each tenth of the run, the first tenth left out. */
export function floorSlopeMbPer100k(samples: readonly SoakSample[], pick: (s: SoakSample) => number): number {
  if (samples.length === 0) return Number.NaN;
  const total = samples.at(-1)!.calls;
  const floors: Array<[number, number]> = [];
  for (let tenth = 1; tenth < 10; tenth++) {
    const inside = samples.filter(
      (s) => s.calls > (total * tenth) / 10 && s.calls <= (total * (tenth + 1)) / 10,
    );
    if (inside.length === 0) continue;
    const lowest = inside.reduce((a, b) => (pick(b) < pick(a) ? b : a));
    floors.push([lowest.calls / 100_000, pick(lowest) / 2 ** 20]);
  }
  return slope(floors);
}

/** Flat, growing, or null when the run was too short to tell. */
export function soakVerdict(calls: number, heapFloorSlopeMbPer100k: number): boolean | null {
  if (calls < SOAK_MIN_CALLS_TO_JUDGE || !Number.isFinite(heapFloorSlopeMbPer100k)) return null;
  return heapFloorSlopeMbPer100k < SOAK_FLAT_MB_PER_100K;
}

function totalCalls(world: World): number {
  return Object.values(world.fake.stats().byMethod).reduce((a, b) => a + b, 0);
}

export async function runSoak(opts: {
  calls: number;
  chats: number;
  incidents: number;
  seed: number;
  /** Gives up (with what it has) after this long. */
  timeoutSec: number;
  /** Another build's copy of bench/lib/scaled-service.mjs (beside its own dist/), to compare builds. */
  serviceScript?: string;
}): Promise<SoakResult> {
  const chats = manyChats(opts.chats);
  const world = await World.create({ name: "soak", seed: opts.seed, chats, fakeLimits: false });
  let service: ServiceProcess | undefined;
  try {
    await world.allowChats();
    service = await world.spawn({
      pollIntervalSec: 0.5,
      command: [opts.serviceScript ?? join(REPO, "bench", "lib", "scaled-service.mjs")],
      env: { BENCH_PACER_LIMITS: JSON.stringify(SCALED_PACER), LOG_LEVEL: "warn" },
    });
    if ((await world.waitFirstPoll(60_000)) === null)
      throw new Error("the service did not poll the SIEM within 60 s");
    if (!(await world.waitBotPolling())) throw new Error("the bot did not poll Telegram within 30 s");

    const started = Date.now();
    const serviceCpu0 = service.cpu() ?? 0;
    const benchCpu0 = process.cpuUsage();
    const samples: SoakSample[] = [];
    const sample = async () => {
      const heap = await service!.heapUsed();
      const rss = service!.rss();
      // The fake keeps every call it saw; the soak only needs the counts (stats() keeps those).
      world.fake.calls.length = 0;
      if (rss !== null)
        samples.push({
          sec: (Date.now() - started) / 1000,
          calls: totalCalls(world),
          heapUsedBytes: heap,
          rssBytes: rss,
        });
    };
    await sample();

    const created = Array.from({ length: opts.incidents }, () =>
      world.emu.state.addIncident({ status: "New" }),
    );
    const keys = created.map((c) => c.key);
    await waitUntil(() => world.tracker.allVisible(keys), 120_000, 50);

    // Then changes, a few incidents at a time: the next round once the edits of the one before last
    // are done (or after 2 s, as changes of one incident may be shown by a single edit).
    let changes = 0;
    let round = 0;
    const perRound = Math.max(1, Math.min(opts.incidents, 10));
    const editsAt: number[] = [];
    let roundAt = 0;
    let lastSampleAt = Date.now();
    const deadline = started + opts.timeoutSec * 1000;
    while (totalCalls(world) < opts.calls && Date.now() < deadline) {
      const edits = world.fake.stats().byMethod.editMessageText ?? 0;
      const target = (editsAt.at(-2) ?? 0) + perRound * chats.length;
      if (edits >= target || Date.now() - roundAt > 2_000) {
        editsAt.push(edits + perRound * chats.length);
        roundAt = Date.now();
        for (let i = 0; i < perRound; i++) {
          const incident = created[(round * perRound + i) % created.length]!;
          const current = world.emu.state.get(incident.id)!.status;
          world.emu.state.setStatus(incident.id, current === "InProgress" ? "New" : "InProgress");
          changes++;
        }
        round++;
      }
      await sleep(50);
      if (Date.now() - lastSampleAt >= 1_000) {
        lastSampleAt = Date.now();
        await sample();
      }
    }
    await sample();
    const serviceCpuSec = (service.cpu() ?? 0) - serviceCpu0;
    const benchCpu = process.cpuUsage(benchCpu0);
    const durationSec = (Date.now() - started) / 1000;
    const calls = totalCalls(world);
    const heaps = samples.map((s) => s.heapUsedBytes);
    const rsses = samples.map((s) => s.rssBytes);
    const heapSlope = floorSlopeMbPer100k(samples, (s) => s.heapUsedBytes);
    return {
      targetCalls: opts.calls,
      calls,
      byMethod: world.fake.stats().byMethod,
      chats: chats.length,
      incidents: opts.incidents,
      changes,
      durationSec,
      callsPerSec: calls / durationSec,
      samples,
      heap: {
        firstBytes: heaps[0]!,
        lastBytes: heaps.at(-1)!,
        maxBytes: Math.max(...heaps),
        floorSlopeMbPer100k: heapSlope,
      },
      rss: {
        firstBytes: rsses[0]!,
        lastBytes: rsses.at(-1)!,
        maxBytes: Math.max(...rsses),
        floorSlopeMbPer100k: floorSlopeMbPer100k(samples, (s) => s.rssBytes),
      },
      flat: soakVerdict(calls, heapSlope),
      node: process.version,
      serviceCpuSec,
      benchCpuSec: (benchCpu.user + benchCpu.system) / 1e6,
    };
  } finally {
    await world.close();
  }
}
