// §2 Burst completion: n incidents appear at once; how long until every one is visible in every
// chat (as a single message or a digest line), with how many messages, how many 429s, and how that
// compares with the fastest delivery Telegram's limits allow.
//
// The burst is Medium and Low incidents with `highs` High ones spread through it. A High incident is
// never put in a digest (design.md §3): each takes a message of its own, ahead of the lower ones, so
// the bound counts it as one. (The emulator's own mix is over 40 % High; a flood of High incidents
// goes out one message each, by contract, and is a different world.)
import { fastestDeliverySeconds, messagesNeeded } from "../lib/stats.js";
import { keysIn, type ServiceProcess, sleep, standardChats, World, waitUntil } from "../lib/world.js";

export interface BurstChatResult {
  label: string;
  kind: string;
  visible: number;
  completeSec: number | null;
  /** sendMessage calls Telegram accepted. */
  messages: number;
  /** Keys shown again in a later message (must be 0). */
  repeats: number;
  /** High incidents of the burst that arrived as a message of their own. */
  highsAlone: number;
  /** High incidents of the burst that arrived before the chat's first digest of it. */
  highsBeforeDigests: number;
  /** [seconds since the burst, incidents visible]. */
  timeline: Array<[number, number]>;
}

export interface BurstResult {
  size: number;
  /** High incidents in the burst (each needs a message of its own). */
  highs?: number;
  intervalSec: number;
  /** Seconds until every incident was visible in every chat; null when not within the wait. */
  completeSec: number | null;
  timeoutSec: number;
  chats: BurstChatResult[];
  tooManyRequests: number;
  duringRetryAfter: number;
  /** The most incidents the service fitted into one message (its digest capacity for this content). */
  maxPerMessage: number;
  /** highs + ceil((size - highs) / maxPerMessage): the fewest messages per chat that can show every incident. */
  neededPerChat: number;
  /** Fastest delivery of neededPerChat messages to each chat under Telegram's limits. */
  boundNeededSec: number;
  /** Fastest delivery of the messages the service actually sent. */
  boundSentSec: number;
  /** completeSec / boundNeededSec. */
  ratio: number | null;
  rssAfterBytes: number | null;
  peakRssBytes: number | null;
  cpuSec: number | null;
  siemRequests: number;
}

/** The burst's severities: `highs` High ones spread evenly, the rest Medium (one in three) and Low. */
export function burstSeverities(size: number, highs: number): Array<"High" | "Medium" | "Low"> {
  const high = new Set(Array.from({ length: highs }, (_, j) => Math.floor(((j + 0.5) * size) / highs)));
  return Array.from({ length: size }, (_, i) => (high.has(i) ? "High" : i % 3 === 0 ? "Medium" : "Low"));
}

export async function runBurst(opts: {
  size: number;
  /** High incidents in the burst (default 0). */
  highs?: number;
  seed: number;
  timeoutSec: number;
  /** Called once the private chat shows every incident (the rest of the run is the groups' pace). */
  onPrivateComplete?: () => void;
  /** Called with the running service, e.g. to read its memory later. */
  onService?: (service: ServiceProcess) => void;
  /** The service on this (empty) PostgreSQL database instead of a SQLite file. */
  dbUrl?: string;
}): Promise<BurstResult> {
  const intervalSec = 3;
  const world = await World.create({
    name: `burst-${opts.size}${opts.dbUrl ? "-postgres" : ""}`,
    seed: opts.seed,
    chats: standardChats(),
    ...(opts.dbUrl ? { dbUrl: opts.dbUrl } : {}),
  });
  try {
    await world.allowChats();
    const service = await world.spawn({ pollIntervalSec: intervalSec });
    opts.onService?.(service);
    if ((await world.waitFirstPoll()) === null)
      throw new Error("the service did not poll the SIEM within 30 s");
    await sleep(1_000);

    const firstCall = world.fake.calls.length;
    const requestsBefore = world.siemRequests();
    const cpuBefore = service.cpu();
    const severities = burstSeverities(opts.size, opts.highs ?? 0);
    // All at once, as addBurst makes them, with the severities above.
    const burst = severities.map((severity) => world.emu.state.addIncident({ severity }));
    const keys = burst.map((i) => i.key);
    const highKeys = new Set(burst.filter((i) => i.severity === "High").map((i) => i.key));
    const burstAt = Date.now();

    const privateChat = world.chats.find((c) => c.kind === "private")!;
    let privateDone = false;
    const complete = await waitUntil(
      () => {
        if (!privateDone && world.tracker.countIn(privateChat.id, keys) === keys.length) {
          privateDone = true;
          opts.onPrivateComplete?.();
        }
        return world.tracker.allVisible(keys);
      },
      opts.timeoutSec * 1000,
      50,
    );
    if (!privateDone) opts.onPrivateComplete?.();
    const cpuAfter = service.cpu();

    const calls = world.fake.calls.slice(firstCall);
    const okBody = (response: unknown) => (response as { ok?: boolean } | null)?.ok === true;
    const chats: BurstChatResult[] = world.chats.map((chat) => {
      const seen = keys.map((k) => world.tracker.seenAt(chat.id, k));
      const visible = seen.filter((t) => t !== undefined).length;
      const last = Math.max(...seen.map((t) => t ?? Number.POSITIVE_INFINITY));
      return {
        label: chat.label,
        kind: chat.kind,
        visible,
        completeSec: visible === keys.length ? (last - burstAt) / 1000 : null,
        messages: calls.filter(
          (c) => c.method === "sendMessage" && Number(c.params.chat_id) === chat.id && okBody(c.response),
        ).length,
        repeats: world.tracker.repeats.get(chat.id) ?? 0,
        ...highsIn(world.fake.messages(chat.id), highKeys),
        timeline: (world.tracker.timeline.get(chat.id) ?? []).map(([t, n]) => [(t - burstAt) / 1000, n]),
      };
    });
    const maxPerMessage = world.tracker.maxKeysPerMessage;
    const neededPerChat = highKeys.size + messagesNeeded(opts.size - highKeys.size, maxPerMessage);
    const boundNeededSec = fastestDeliverySeconds(
      world.chats.map((c) => ({ group: c.kind !== "private", messages: neededPerChat })),
    );
    const boundSentSec = fastestDeliverySeconds(
      chats.map((c) => ({ group: c.kind !== "private", messages: c.messages })),
    );
    const completeSec = complete ? Math.max(...chats.map((c) => c.completeSec ?? 0)) : null;
    return {
      size: opts.size,
      highs: highKeys.size,
      intervalSec,
      completeSec,
      timeoutSec: opts.timeoutSec,
      chats,
      tooManyRequests: calls.filter((c) => (c.response as { error_code?: number } | null)?.error_code === 429)
        .length,
      duringRetryAfter: calls.filter((c) => c.duringRetryAfter).length,
      maxPerMessage,
      neededPerChat,
      boundNeededSec,
      boundSentSec,
      ratio: completeSec !== null && boundNeededSec > 0 ? completeSec / boundNeededSec : null,
      rssAfterBytes: service.rss(),
      peakRssBytes: service.peakRss(),
      cpuSec: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
      siemRequests: world.siemRequests() - requestsBefore,
    };
  } finally {
    await world.close();
  }
}

/** How the burst's High incidents arrived in one chat: alone, and ahead of the first digest. */
function highsIn(
  messages: ReadonlyArray<{ plainText: string }>,
  highKeys: ReadonlySet<string>,
): { highsAlone: number; highsBeforeDigests: number } {
  let highsAlone = 0;
  let highsBeforeDigests = 0;
  let digestSeen = false;
  for (const message of messages) {
    const keys = keysIn(message.plainText);
    if (keys.length > 1) digestSeen = true;
    for (const key of keys) {
      if (!highKeys.has(key)) continue;
      if (keys.length === 1) highsAlone++;
      if (!digestSeen) highsBeforeDigests++;
    }
  }
  return { highsAlone, highsBeforeDigests };
}
