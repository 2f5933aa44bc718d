// A world where every Bot API call is answered 150 ms late (a delaying proxy on 127.0.0.1 in front of
// the fake, which keeps Telegram's flood limits): 50 allowed chats, private and groups, one incident at
// a time. How long until the last chat has its message, against what Telegram's 30 messages/s allow
// (50 messages ≥ 50/30 s) plus one round trip.
import { startDelayProxy } from "../lib/delay-proxy.js";
import { fastestDeliverySeconds } from "../lib/stats.js";
import { manyChats, sleep, World, waitUntil } from "../lib/world.js";

export const LATENCY150_DELAY_MS = 150;

export interface Latency150Run {
  /** Seconds from visible in the SIEM to the first chat's message reaching the fake. */
  firstSec: number;
  /** Seconds from visible in the SIEM to the last chat's message. */
  lastSec: number;
  /** Seconds from the first chat's message to the last one's: the part Telegram's limits bound. */
  spreadSec: number;
  missing: number;
}

export interface Latency150Result {
  delayMs: number;
  chats: number;
  privateChats: number;
  groups: number;
  runs: Latency150Run[];
  /** The bound the issue names: n / 30 s plus one round trip. */
  boundSec: number;
  /** The fastest schedule under the fake's limits (30 in any second, 1/s and 20/min per chat) plus one round trip. */
  scheduleBoundSec: number;
  sendMessageCalls: number;
  tooManyRequests: number;
  duringRetryAfter: number;
}

export async function runLatency150(opts: {
  chats: number;
  incidents: number;
  seed: number;
}): Promise<Latency150Result> {
  const chats = manyChats(opts.chats);
  const world = await World.create({ name: "latency150", seed: opts.seed, chats });
  const proxy = await startDelayProxy({ target: world.fake.apiRoot, delayMs: LATENCY150_DELAY_MS });
  try {
    await world.allowChats();
    await world.spawn({ pollIntervalSec: 1, apiRoot: proxy.url });
    if ((await world.waitFirstPoll()) === null)
      throw new Error("the service did not poll the SIEM within 30 s");
    if (!(await world.waitBotPolling())) throw new Error("the bot did not poll Telegram within 30 s");
    // Warm-up (first render, connections), not measured; then a pause so every chat's allowance is back.
    const warm = world.addIncident();
    if (!(await waitUntil(() => world.tracker.allVisible([warm.incident.key]), 60_000))) {
      throw new Error("the warm-up incident did not reach every chat within 60 s");
    }
    const runs: Latency150Run[] = [];
    for (let i = 0; i < opts.incidents; i++) {
      await sleep(3_500);
      const { incident, visibleAt } = world.addIncident();
      await waitUntil(() => world.tracker.allVisible([incident.key]), 60_000);
      const seen = chats
        .map((c) => world.tracker.seenAt(c.id, incident.key))
        .filter((at): at is number => at !== undefined);
      const first = Math.min(...seen);
      const last = Math.max(...seen);
      runs.push({
        firstSec: (first - visibleAt) / 1000,
        lastSec: (last - visibleAt) / 1000,
        spreadSec: (last - first) / 1000,
        missing: chats.length - seen.length,
      });
    }
    const rtt = LATENCY150_DELAY_MS / 1000;
    const stats = world.fake.stats();
    return {
      delayMs: LATENCY150_DELAY_MS,
      chats: chats.length,
      privateChats: chats.filter((c) => c.kind === "private").length,
      groups: chats.filter((c) => c.kind !== "private").length,
      runs,
      boundSec: chats.length / 30 + rtt,
      scheduleBoundSec:
        fastestDeliverySeconds(chats.map((c) => ({ group: c.kind !== "private", messages: 1 }))) + rtt,
      sendMessageCalls: stats.byMethod.sendMessage ?? 0,
      tooManyRequests: stats.tooManyRequests,
      duringRetryAfter: stats.duringRetryAfter,
    };
  } finally {
    await world.close();
    await proxy.close();
  }
}
