// §5 Growth: latency and memory with many allowed chats (seeded into the store before start), and
// with 10,000 incidents already in the store (and in the SIEM).
import type { IncidentSummary } from "../../src/siem/types.js";
import { seededRandom, uniform } from "../lib/random.js";
import { fastestDeliverySeconds, type Summary, summarize } from "../lib/stats.js";
import { type BenchChat, manyChats, sleep, standardChats, World, waitUntil } from "../lib/world.js";

export interface GrowthRow {
  label: string;
  chats: number;
  storedIncidents: number;
  incidents: number;
  rssAfterStartBytes: number | null;
  rssAfterBytes: number | null;
  /** Seconds from visible to the first chat's copy, per incident. */
  firstCopy: Summary;
  /** Seconds from visible to the last chat's copy, per incident. */
  lastCopy: Summary;
  /** Seconds, every (incident, chat) pair. */
  allCopies: Summary;
  /** Fastest delivery of one message to every chat under Telegram's limits (30/s per bot). */
  boundLastCopySec: number;
  missing: number;
  /** Mean duration of one SIEM poll (new incidents + changes), seconds. */
  meanPollSec: number;
  seedSec: number;
}

/** 10,000 incidents spread over the last day, in the emulator and in the store as already delivered. */
async function seedHistory(world: World, count: number): Promise<void> {
  const end = Date.now() - 5 * 60_000;
  const span = 24 * 3_600_000;
  const summaries: IncidentSummary[] = [];
  for (let i = 0; i < count; i++) {
    const inc = world.emu.state.addIncident({ created: new Date(end - span + (i * span) / count) });
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
  const newest = Math.max(...summaries.map((s) => s.created.getTime()));
  // Stored and sent an hour ago: the service's pacer, which counts recent sends after a restart,
  // must not take this history for messages Telegram still holds against the chats' limits.
  const anHourAgo = Date.now() - 3_600_000;
  await world.withStore(
    async (store) => {
      await store.incidents.ingest(summaries, newest);
      // As if delivered long ago, in digests of 30.
      const rows = await store.outbox.pending(count * world.chats.length + 10);
      let messageId = 1;
      for (const chat of world.chats) {
        const ids = rows.filter((r) => r.chatId === chat.id).map((r) => r.id);
        for (let i = 0; i < ids.length; i += 30) {
          await store.outbox.markSent(ids.slice(i, i + 30), messageId++, "digest", 0);
        }
      }
    },
    () => anHourAgo,
  );
}

async function runGrowth(opts: {
  label: string;
  chats: BenchChat[];
  history: number;
  incidents: number;
  seed: number;
}): Promise<GrowthRow> {
  const random = seededRandom(opts.seed);
  const world = await World.create({
    name: opts.history > 0 ? `growth-${opts.history}-stored` : `growth-${opts.chats.length}-chats`,
    seed: opts.seed,
    chats: opts.chats,
  });
  try {
    const seedStart = Date.now();
    await world.allowChats();
    if (opts.history > 0) await seedHistory(world, opts.history);
    const seedSec = (Date.now() - seedStart) / 1000;
    const service = await world.spawn({ pollIntervalSec: 3 });
    if ((await world.waitFirstPoll(60_000)) === null)
      throw new Error("the service did not poll the SIEM within 60 s");
    await sleep(3_000);
    const rssAfterStart = service.rss();
    const boundLastCopySec = fastestDeliverySeconds(
      opts.chats.map((c) => ({ group: c.kind !== "private", messages: 1 })),
    );
    const first: number[] = [];
    const last: number[] = [];
    const all: number[] = [];
    let missing = 0;
    for (let i = 0; i < opts.incidents; i++) {
      const { incident, visibleAt } = world.addIncident();
      await waitUntil(() => world.tracker.allVisible([incident.key]), 30_000 + boundLastCopySec * 3_000, 20);
      const seen: number[] = [];
      for (const chat of world.chats) {
        const at = world.tracker.seenAt(chat.id, incident.key);
        if (at === undefined) missing++;
        else seen.push((at - visibleAt) / 1000);
      }
      all.push(...seen);
      if (seen.length > 0) first.push(Math.min(...seen));
      if (seen.length === world.chats.length) last.push(Math.max(...seen));
      // Random gaps of 3.5–5 s (as for §1), after the chats' pace has let the incident through.
      await sleep(visibleAt + uniform(random, 3_500, 5_000) - Date.now());
    }
    const pollSum = await service.metric("mpsiem_poll_duration_seconds_sum");
    const pollCount = await service.metric("mpsiem_poll_duration_seconds_count");
    return {
      label: opts.label,
      chats: opts.chats.length,
      storedIncidents: opts.history,
      incidents: opts.incidents,
      rssAfterStartBytes: rssAfterStart,
      rssAfterBytes: service.rss(),
      firstCopy: summarize(first),
      lastCopy: summarize(last),
      allCopies: summarize(all),
      boundLastCopySec,
      missing,
      meanPollSec: pollCount > 0 ? pollSum / pollCount : Number.NaN,
      seedSec,
    };
  } finally {
    await world.close();
  }
}

export function runGrowthChats(opts: { chats: number; incidents: number; seed: number }): Promise<GrowthRow> {
  return runGrowth({
    label: `${opts.chats} chats`,
    chats: manyChats(opts.chats),
    history: 0,
    incidents: opts.incidents,
    seed: opts.seed,
  });
}

export function runGrowthHistory(opts: {
  stored: number;
  incidents: number;
  seed: number;
}): Promise<GrowthRow> {
  return runGrowth({
    label: `3 chats, ${opts.stored.toLocaleString("en")} incidents stored`,
    chats: standardChats(),
    history: opts.stored,
    incidents: opts.incidents,
    seed: opts.seed,
  });
}
