// §1 Notification latency: incidents created one at a time at random moments; the time from the
// moment the emulator makes one visible to its message reaching the fake Bot API, in every chat.
import { seededRandom, uniform } from "../lib/random.js";
import { type Summary, summarize } from "../lib/stats.js";
import { sleep, standardChats, World, waitUntil } from "../lib/world.js";

/**
 * Gaps between incidents. At least 3.5 s, so that no group ever gets more than Telegram's 20 messages
 * a minute (which would add the flood limit's wait to the latency); random, so each incident lands at
 * a random point of the poll cycle.
 */
export const LATENCY_GAP_MS: readonly [number, number] = [3_500, 5_000];

export interface LatencyResult {
  intervalSec: number;
  incidents: number;
  chats: number;
  /** Seconds, one per (incident, chat). */
  samples: number[];
  summary: Summary;
  /** p95 / poll interval. */
  p95Ratio: number;
  /** (incident, chat) pairs not delivered within the wait. */
  missing: number;
  /** List calls per poll (new incidents and changes: 2 when one page holds them). */
  listCallsPerPoll: number;
  /** SIEM requests other than the poll's list calls (details, events), per incident. */
  siemRequestsPerIncident: number;
  durationSec: number;
}

export async function runLatency(opts: {
  intervalSec: number;
  incidents: number;
  seed: number;
  /** The service on this (empty) PostgreSQL database instead of a SQLite file. */
  dbUrl?: string;
}): Promise<LatencyResult> {
  const random = seededRandom(opts.seed);
  const world = await World.create({
    name: `latency-${opts.intervalSec}s${opts.dbUrl ? "-postgres" : ""}`,
    seed: opts.seed,
    chats: standardChats(),
    ...(opts.dbUrl ? { dbUrl: opts.dbUrl } : {}),
  });
  const startedAt = Date.now();
  try {
    await world.allowChats();
    const service = await world.spawn({ pollIntervalSec: opts.intervalSec });
    if ((await world.waitFirstPoll()) === null)
      throw new Error("the service did not poll the SIEM within 30 s");
    // One warm-up incident (first render, first Telegram connection) is not measured.
    const warm = world.addIncident();
    if (!(await waitUntil(() => world.tracker.allVisible([warm.incident.key]), 30_000))) {
      throw new Error("the warm-up incident was not delivered within 30 s");
    }
    const requestsBefore = world.siemRequests();
    const listsBefore = world.listCalls();
    const pollsBefore = await service.polls();

    const created: Array<{ key: string; visibleAt: number }> = [];
    for (let i = 0; i < opts.incidents; i++) {
      await sleep(uniform(random, LATENCY_GAP_MS[0], LATENCY_GAP_MS[1]));
      const { incident, visibleAt } = world.addIncident();
      created.push({ key: incident.key, visibleAt });
    }
    const keys = created.map((c) => c.key);
    await waitUntil(() => world.tracker.allVisible(keys), 20_000 + opts.intervalSec * 1000);

    const requests = world.siemRequests() - requestsBefore;
    const lists = world.listCalls() - listsBefore;
    const polls = (await service.polls()) - pollsBefore;
    const samples: number[] = [];
    let missing = 0;
    for (const { key, visibleAt } of created) {
      for (const chat of world.chats) {
        const seen = world.tracker.seenAt(chat.id, key);
        if (seen === undefined) missing++;
        else samples.push((seen - visibleAt) / 1000);
      }
    }
    const summary = summarize(samples);
    return {
      intervalSec: opts.intervalSec,
      incidents: opts.incidents,
      chats: world.chats.length,
      samples,
      summary,
      p95Ratio: summary.p95 / opts.intervalSec,
      missing,
      listCallsPerPoll: polls > 0 ? lists / polls : Number.NaN,
      siemRequestsPerIncident: (requests - lists) / opts.incidents,
      durationSec: (Date.now() - startedAt) / 1000,
    };
  } finally {
    await world.close();
  }
}
