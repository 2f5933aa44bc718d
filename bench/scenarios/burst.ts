// §2 Burst completion: n incidents appear at once; how long until every one is visible in every
// chat (as a single message or a digest line), with how many messages, how many 429s, and how that
// compares with the fastest delivery Telegram's limits allow.
import { fastestDeliverySeconds, messagesNeeded } from "../lib/stats.js";
import { type ServiceProcess, sleep, standardChats, World, waitUntil } from "../lib/world.js";

export interface BurstChatResult {
  label: string;
  kind: string;
  visible: number;
  completeSec: number | null;
  /** sendMessage calls Telegram accepted. */
  messages: number;
  /** Keys shown again in a later message (must be 0). */
  repeats: number;
  /** [seconds since the burst, incidents visible]. */
  timeline: Array<[number, number]>;
}

export interface BurstResult {
  size: number;
  intervalSec: number;
  /** Seconds until every incident was visible in every chat; null when not within the wait. */
  completeSec: number | null;
  timeoutSec: number;
  chats: BurstChatResult[];
  tooManyRequests: number;
  duringRetryAfter: number;
  /** The most incidents the service fitted into one message (its digest capacity for this content). */
  maxPerMessage: number;
  /** ceil(size / maxPerMessage): the fewest messages per chat that can show every incident. */
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

export async function runBurst(opts: {
  size: number;
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
    const keys = world.emu.state.addBurst(opts.size).map((i) => i.key);
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
        timeline: (world.tracker.timeline.get(chat.id) ?? []).map(([t, n]) => [(t - burstAt) / 1000, n]),
      };
    });
    const maxPerMessage = world.tracker.maxKeysPerMessage;
    const neededPerChat = messagesNeeded(opts.size, maxPerMessage);
    const boundNeededSec = fastestDeliverySeconds(
      world.chats.map((c) => ({ group: c.kind !== "private", messages: neededPerChat })),
    );
    const boundSentSec = fastestDeliverySeconds(
      chats.map((c) => ({ group: c.kind !== "private", messages: c.messages })),
    );
    const completeSec = complete ? Math.max(...chats.map((c) => c.completeSec ?? 0)) : null;
    return {
      size: opts.size,
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
