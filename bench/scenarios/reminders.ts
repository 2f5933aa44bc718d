// Issue 15's scale world: 10,000 open New incidents under a reminder policy. Two worlds side by side, the
// same in all but the policy: the service with reminders on (BOT_REMIND_AFTER/EVERY/MAX) and without.
// The incidents are in each world's emulator and in its store as already delivered to two chats in
// digests of 30, their copies sent one after the other over spreadSec before the services start (seeding,
// as the growth scenario's stored history does: delivering 10,000 cards to two chats under Telegram's
// limits would take hours). They were created long before (one a second, ending 15 minutes before the
// first send), so the change poll does not list them again. The fake's flood limits are off and the pacer scaled up (bench/lib/scaled-service.mjs), in both
// worlds, so the reminders the policy sends never wait on Telegram and never retry.
//
// Timeline (from the seeding's clock, base): the first copies were sent at base − SPREAD, the last at base;
// the services start; the reminders-on service schedules the 10,000 jobs (500 a tick); then a quiet
// stretch with 10,000 jobs pending and none due (idle CPU, on against off); then the firing stretch,
// from base − SPREAD + AFTER (the first reminder due) to base + AFTER + EVERY + a few polls (the last
// second reminder), in which every job is checked twice: SIEM requests a minute and lateness there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { IncidentSummary } from "../../src/siem/types.js";
import { REPO, type ServiceProcess, sleep, World } from "../lib/world.js";

/** Pacing far above anything this world reaches (as the soak's). */
const SCALED_PACER = {
  perChatPerSec: 10_000,
  perChatBurst: 10_000,
  perGroupPerMin: 10_000_000,
  perBotPerSec: 100_000,
};

/** Incidents per seeded digest message. */
const DIGEST_SIZE = 30;

/** The engine's documented budget (src/schedule/engine.ts): 60 re-reads a minute, three requests each. */
export const REREAD_BUDGET_PER_MIN = 60;
export const REQUESTS_PER_REREAD = 3;
/** Idle CPU the policy may add, share of one core (issue 15). */
export const EXTRA_IDLE_CPU_LIMIT = 0.01;

export interface RemindersPlan {
  incidents: number;
  pollIntervalSec: number;
  /** The first copies were sent over this many seconds before the services start. */
  spreadSec: number;
  remindAfterSec: number;
  remindEverySec: number;
  remindMax: number;
  seed: number;
}

export interface CpuStretch {
  fromSec: number;
  toSec: number;
  onCpuSec: number;
  offCpuSec: number;
  /** (on − off) / wall time: share of one core. */
  extraShare: number;
  onShare: number;
  offShare: number;
}

export interface RemindersResult {
  plan: Omit<RemindersPlan, "seed">;
  chats: number;
  seedSec: number;
  /** Seconds from base at which the services had polled the SIEM once. */
  startedAtSec: number;
  quiet: CpuStretch;
  firing: CpuStretch;
  /** The reminders-on service's fire-time checks, from its /metrics. */
  checks: { siem: number; store: number };
  steps: { remind: number; ended: number };
  /** Per-incident SIEM requests (everything but the list calls) of each world over the firing stretch. */
  incidentRequests: { on: number; off: number; byRoute: Record<string, number> };
  /** Fire-time SIEM requests a minute: (on − off) over the firing stretch, and the most in any 60 s window. */
  requestsPerMin: number;
  maxRequestsIn60s: number;
  budgetRequestsPerMin: number;
  lateness: {
    count: number;
    sumSec: number;
    /** Cumulative counts by upper bound (s), from the histogram. */
    buckets: Array<[number, number]>;
    /** The smallest bucket bound under which 95 % of the checks were (an upper bound on p95). */
    p95UpperSec: number | null;
    /** p95 interpolated linearly inside its bucket. */
    p95Sec: number | null;
    p50Sec: number | null;
  };
  /** Replies (reminders) and all sendMessage calls the fake received in each world. */
  replies: { on: number; off: number };
  sends: { on: number; off: number };
  /** Card edits each service made (none expected: nothing changes in the SIEM). */
  edits: { on: number; off: number };
  /** Mean SIEM poll duration of each service, seconds. */
  meanPollSec: { on: number; off: number };
  /** The reminders-on service's tick log lines that said a tick failed. */
  tickFailures: number;
  samples: Array<{ sec: number; onCpu: number; offCpu: number; onIncidentRequests: number }>;
}

function incidentRequests(world: World): { total: number; byRoute: Record<string, number> } {
  const byRoute: Record<string, number> = {};
  let total = 0;
  for (const [route, n] of Object.entries(world.emu.state.stats().requests)) {
    if (route.includes("/api/v2/incidents") && route.startsWith("POST")) continue; // list calls
    if (route.includes("/connect/token")) continue;
    byRoute[route] = n;
    total += n;
  }
  return { total, byRoute };
}

/** Seeds `count` New incidents: in the emulator, and in the store as delivered to every chat at `sentAt(i)`. */
async function seed(world: World, count: number, base: number, spreadMs: number): Promise<void> {
  const summaries: IncidentSummary[] = [];
  // Created one a second, ending well before the services' change poll overlap (2 min): with all of them
  // inside it, every poll would list the 10,000 again, in both worlds.
  const created = base - spreadMs - count * 1_000 - 15 * 60_000;
  for (let i = 0; i < count; i++) {
    const inc = world.emu.state.addIncident({ status: "New", created: new Date(created + i * 1_000) });
    summaries.push({
      id: inc.id,
      key: inc.key,
      name: inc.name,
      category: inc.category ?? "",
      type: inc.type ?? "",
      status: inc.status,
      severity: inc.severity ?? "",
      created: new Date(inc.created),
      isConfirmed: inc.isConfirmed,
    });
  }
  const newest = created + (count - 1) * 1_000;
  let clock = newest + 30_000;
  await world.withStore(
    async (store) => {
      await store.incidents.ingest(summaries, newest);
      const rows = await store.outbox.pending(count * world.chats.length + 10);
      const order = new Map(summaries.map((s, i) => [s.id, i]));
      // In digests of DIGEST_SIZE per chat, as a flood goes out (a single card would also be read again
      // late, for its details, and edited: work both worlds would do, unrelated to reminders), sent in
      // incident order over the spread.
      const byIncident = new Map<string, Array<{ id: number; chatId: number }>>();
      for (const r of rows) {
        const copies = byIncident.get(r.incidentId) ?? [];
        copies.push({ id: r.id, chatId: r.chatId });
        byIncident.set(r.incidentId, copies);
      }
      const sorted = [...byIncident.entries()].sort((a, b) => order.get(a[0])! - order.get(b[0])!);
      const chatIndex = new Map(world.chats.map((c, i) => [c.id, i]));
      for (const [i, [, copies]] of sorted.entries()) {
        clock = base - spreadMs + Math.floor((i * spreadMs) / count);
        for (const copy of copies) {
          const messageId = 1 + chatIndex.get(copy.chatId)! * count + Math.floor(i / DIGEST_SIZE);
          await store.outbox.markSent([copy.id], messageId, "digest", 1);
        }
      }
    },
    () => clock,
  );
}

function cpuStretch(samples: RemindersResult["samples"], fromSec: number, toSec: number): CpuStretch {
  const inside = samples.filter((s) => s.sec >= fromSec && s.sec <= toSec);
  const first = inside[0];
  const last = inside.at(-1);
  if (!first || !last || last.sec <= first.sec) {
    return {
      fromSec,
      toSec,
      onCpuSec: 0,
      offCpuSec: 0,
      extraShare: Number.NaN,
      onShare: Number.NaN,
      offShare: Number.NaN,
    };
  }
  const wall = last.sec - first.sec;
  const onCpuSec = last.onCpu - first.onCpu;
  const offCpuSec = last.offCpu - first.offCpu;
  return {
    fromSec: first.sec,
    toSec: last.sec,
    onCpuSec,
    offCpuSec,
    extraShare: (onCpuSec - offCpuSec) / wall,
    onShare: onCpuSec / wall,
    offShare: offCpuSec / wall,
  };
}

async function histogram(service: ServiceProcess, name: string): Promise<Array<[number, number]>> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  const out: Array<[number, number]> = [];
  for (const line of text.split("\n")) {
    const m = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`).exec(line);
    if (m) out.push([m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The q-quantile from cumulative buckets: the bucket's upper bound, and a linear guess inside it. */
function quantile(
  buckets: Array<[number, number]>,
  q: number,
): { upper: number | null; guess: number | null } {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return { upper: null, guess: null };
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, cum] of buckets) {
    if (cum >= rank) {
      if (!Number.isFinite(bound)) return { upper: bound, guess: prevBound };
      const share = cum === prevCount ? 1 : (rank - prevCount) / (cum - prevCount);
      return { upper: bound, guess: prevBound + share * (bound - prevBound) };
    }
    prevBound = bound;
    prevCount = cum;
  }
  return { upper: null, guess: null };
}

export async function runReminders(plan: RemindersPlan): Promise<RemindersResult> {
  const chats = [
    { id: 4242, kind: "private" as const, label: "private" },
    { id: -1001000000001, kind: "supergroup" as const, label: "group A" },
  ];
  const worlds: World[] = [];
  try {
    const on = await World.create({ name: "reminders-on", seed: plan.seed, chats, fakeLimits: false });
    worlds.push(on);
    const off = await World.create({ name: "reminders-off", seed: plan.seed, chats, fakeLimits: false });
    worlds.push(off);
    const seedStarted = Date.now();
    const base = seedStarted;
    const spreadMs = plan.spreadSec * 1000;
    for (const w of [on, off]) {
      await w.allowChats();
      await seed(w, plan.incidents, base, spreadMs);
    }
    const seedSec = (Date.now() - seedStarted) / 1000;
    const script = join(REPO, "bench", "lib", "scaled-service.mjs");
    const common = {
      BENCH_PACER_LIMITS: JSON.stringify(SCALED_PACER),
      LOG_LEVEL: "warn",
      BOT_REMIND_MIN_SEVERITY: "low",
    };
    // BENCH_CPU_PROF=<dir>: the reminders-on service writes a V8 CPU profile there when it stops.
    const profileDir = process.env.BENCH_CPU_PROF;
    const onService = await on.spawn({
      pollIntervalSec: plan.pollIntervalSec,
      command: [script],
      ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
      env: {
        ...common,
        BOT_REMIND_AFTER: `${plan.remindAfterSec}s`,
        BOT_REMIND_EVERY: `${plan.remindEverySec}s`,
        BOT_REMIND_MAX: String(plan.remindMax),
      },
    });
    const offService = await off.spawn({
      pollIntervalSec: plan.pollIntervalSec,
      command: [script],
      env: common,
    });
    for (const [w, label] of [
      [on, "on"],
      [off, "off"],
    ] as const) {
      if ((await w.waitFirstPoll(60_000)) === null) {
        throw new Error(`reminders ${label}: the service did not poll the SIEM within 60 s`);
      }
    }
    const sec = () => (Date.now() - base) / 1000;
    const startedAtSec = sec();
    const repliesIn = (w: World) =>
      w.fake.calls.filter((c) => c.method === "sendMessage" && c.params.reply_parameters !== undefined)
        .length;
    const sendsIn = (w: World) => w.fake.calls.filter((c) => c.method === "sendMessage").length;

    // Quiet: from when the 10,000 jobs are surely scheduled (20 ticks of 500) to just before the first is due.
    const scheduledBySec = startedAtSec + 25 * plan.pollIntervalSec;
    const firstDueSec = -plan.spreadSec + plan.remindAfterSec;
    const lastDueSec = plan.remindAfterSec + (plan.remindMax - 1) * plan.remindEverySec;
    const endSec = lastDueSec + 4 * plan.pollIntervalSec;
    if (firstDueSec - 2 < scheduledBySec + 20) {
      throw new Error(
        `the plan leaves no quiet stretch: jobs scheduled by ${scheduledBySec.toFixed(0)} s, first due at ${firstDueSec} s`,
      );
    }
    const samples: RemindersResult["samples"] = [];
    const sample = () => {
      const onCpu = onService.cpu();
      const offCpu = offService.cpu();
      if (onCpu === null || offCpu === null) throw new Error("a service exited during the run");
      samples.push({ sec: sec(), onCpu, offCpu, onIncidentRequests: incidentRequests(on).total });
    };
    let firingStart: { on: number; off: number } | null = null;
    while (sec() < endSec) {
      sample();
      if (firingStart === null && sec() >= firstDueSec - 1) {
        firingStart = { on: incidentRequests(on).total, off: incidentRequests(off).total };
      }
      await sleep(Math.min(2_000, Math.max(50, (endSec - sec()) * 1000)));
    }
    sample();
    const onReq = incidentRequests(on);
    const offReq = incidentRequests(off);
    const start = firingStart ?? { on: 0, off: 0 };
    const firingReqOn = onReq.total - start.on;
    const firingReqOff = offReq.total - start.off;
    const quiet = cpuStretch(samples, scheduledBySec, firstDueSec - 1);
    const firing = cpuStretch(samples, firstDueSec - 1, endSec);
    const firingMin = (firing.toSec - firing.fromSec) / 60;
    let maxIn60 = 0;
    for (const a of samples) {
      for (const b of samples) {
        if (b.sec > a.sec && b.sec - a.sec <= 60) {
          maxIn60 = Math.max(maxIn60, b.onIncidentRequests - a.onIncidentRequests);
        }
      }
    }
    const buckets = await histogram(onService, "mpsiem_telegram_reminder_lateness_seconds");
    const p95 = quantile(buckets, 0.95);
    const p50 = quantile(buckets, 0.5);
    const result: RemindersResult = {
      plan: {
        incidents: plan.incidents,
        pollIntervalSec: plan.pollIntervalSec,
        spreadSec: plan.spreadSec,
        remindAfterSec: plan.remindAfterSec,
        remindEverySec: plan.remindEverySec,
        remindMax: plan.remindMax,
      },
      chats: chats.length,
      seedSec,
      startedAtSec,
      quiet,
      firing,
      checks: {
        siem: await onService.metric("mpsiem_telegram_reminder_checks_total", { source: "siem" }),
        store: await onService.metric("mpsiem_telegram_reminder_checks_total", { source: "store" }),
      },
      steps: {
        remind: await onService.metric("mpsiem_telegram_reminder_steps_total", { kind: "remind" }),
        ended: await onService.metric("mpsiem_telegram_reminder_steps_total", { kind: "ended" }),
      },
      incidentRequests: { on: firingReqOn, off: firingReqOff, byRoute: onReq.byRoute },
      requestsPerMin: (firingReqOn - firingReqOff) / firingMin,
      maxRequestsIn60s: maxIn60,
      budgetRequestsPerMin: REREAD_BUDGET_PER_MIN * REQUESTS_PER_REREAD,
      lateness: {
        count: await onService.metric("mpsiem_telegram_reminder_lateness_seconds_count"),
        sumSec: await onService.metric("mpsiem_telegram_reminder_lateness_seconds_sum"),
        buckets: buckets.map(([b, n]) => [Number.isFinite(b) ? b : -1, n]),
        p95UpperSec: p95.upper !== null && Number.isFinite(p95.upper) ? p95.upper : null,
        p95Sec: p95.guess,
        p50Sec: p50.guess,
      },
      replies: { on: repliesIn(on), off: repliesIn(off) },
      sends: { on: sendsIn(on), off: sendsIn(off) },
      edits: {
        on: await onService.metric("mpsiem_message_edits_total"),
        off: await offService.metric("mpsiem_message_edits_total"),
      },
      meanPollSec: {
        on:
          (await onService.metric("mpsiem_poll_duration_seconds_sum")) /
          (await onService.metric("mpsiem_poll_duration_seconds_count")),
        off:
          (await offService.metric("mpsiem_poll_duration_seconds_sum")) /
          (await offService.metric("mpsiem_poll_duration_seconds_count")),
      },
      tickFailures: readFileSync(onService.logPath, "utf8").split("reminder tick failed").length - 1,
      samples,
    };
    return result;
  } finally {
    await Promise.allSettled(worlds.map((w) => w.close()));
  }
}
