// §3 Action round trip: a person presses Approve under an incident message → the service moves the
// incident in the SIEM → every copy of the message (in every chat) is edited to show it.
import { encodeCallbackData } from "../../src/render/callback-data.js";
import { seededRandom, uniform } from "../lib/random.js";
import { type Summary, summarize } from "../lib/stats.js";
import { ADMIN, keysIn, sleep, standardChats, World, waitUntil } from "../lib/world.js";

/** Gaps between presses: every press edits one message per group, and a group takes 20 a minute. */
const PRESS_GAP_MS: readonly [number, number] = [3_500, 4_500];
/** Sends plus edits a group may take in one minute without the pacer holding anything back (19 − 1). */
const GROUP_MINUTE_BUDGET = 18;

export interface ActionResult {
  presses: number;
  /** Seconds from the press to the last copy edited, per completed press. */
  roundTrips: number[];
  summary: Summary;
  /** Seconds from the press to the button's answer (the spinner stops). */
  answers: Summary;
  /** Presses whose copies were not all edited within 15 s, or whose incident did not change in the SIEM. */
  failed: number;
  copiesPerIncident: number;
  siemRequestsPerAction: number;
  durationSec: number;
}

export async function runAction(opts: { presses: number; seed: number }): Promise<ActionResult> {
  const random = seededRandom(opts.seed);
  const world = await World.create({ name: "action", seed: opts.seed, chats: standardChats() });
  const startedAt = Date.now();
  try {
    await world.allowChats();
    await world.spawn({ pollIntervalSec: 3 });
    if ((await world.waitFirstPoll()) === null)
      throw new Error("the service did not poll the SIEM within 30 s");
    if (!(await world.waitBotPolling())) throw new Error("the bot did not start long polling within 30 s");

    const incidents = world.emu.state.addBurst(opts.presses);
    const keys = incidents.map((i) => i.key);
    if (!(await waitUntil(() => world.tracker.allVisible(keys), 90_000))) {
      throw new Error("the incidents to press were not delivered within 90 s");
    }
    // The message ids of every copy: single messages with buttons.
    const copies = new Map<string, Map<number, number>>();
    let lastGroupSend = 0;
    for (const chat of world.chats) {
      for (const message of world.fake.messages(chat.id)) {
        const shown = keysIn(message.plainText);
        if (shown.length !== 1 || message.replyMarkup === undefined) continue;
        const key = shown[0]!;
        if (!copies.has(key)) copies.set(key, new Map());
        copies.get(key)!.set(chat.id, message.messageId);
        if (chat.kind !== "private")
          lastGroupSend = Math.max(lastGroupSend, world.tracker.seenAt(chat.id, key) ?? 0);
      }
    }
    // Let the sends leave the groups' one-minute window when they and the edits would not fit in it.
    if (2 * opts.presses > GROUP_MINUTE_BUDGET) await sleep(lastGroupSend + 61_000 - Date.now());

    const editedAt = new Map<string, number>();
    const unsubscribe = world.fake.onMessage((event) => {
      if (event.kind !== "edited" || !/\bApproved\b/.test(event.message.plainText)) return;
      const copy = `${event.message.chatId}:${event.message.messageId}`;
      if (!editedAt.has(copy)) editedAt.set(copy, Date.now());
    });
    const requestsBefore = world.siemRequests();
    const listsBefore = world.listCalls();
    const roundTrips: number[] = [];
    const answers: number[] = [];
    let failed = 0;
    try {
      for (const [i, incident] of incidents.entries()) {
        const chat = world.chats[i % world.chats.length]!;
        const perChat = copies.get(incident.key);
        const messageId = perChat?.get(chat.id);
        if (perChat === undefined || messageId === undefined || perChat.size !== world.chats.length) {
          failed++;
          continue;
        }
        const data = encodeCallbackData({ kind: "incident", action: "approve", incidentId: incident.id });
        const pressedAt = Date.now();
        const pressId = world.fake.pressButton(ADMIN, chat.id, messageId, data);
        let answeredAt: number | undefined;
        const copyIds = [...perChat].map(([chatId, id]) => `${chatId}:${id}`);
        const done = await waitUntil(
          () => {
            if (answeredAt === undefined && world.fake.answeredCallbacks().has(pressId))
              answeredAt = Date.now();
            return answeredAt !== undefined && copyIds.every((c) => editedAt.has(c));
          },
          15_000,
          5,
        );
        if (answeredAt !== undefined) answers.push((answeredAt - pressedAt) / 1000);
        const inSiem = world.emu.state.get(incident.id)?.status === "Approved";
        if (done && inSiem) {
          roundTrips.push((Math.max(...copyIds.map((c) => editedAt.get(c)!)) - pressedAt) / 1000);
        } else {
          failed++;
        }
        await sleep(pressedAt + uniform(random, PRESS_GAP_MS[0], PRESS_GAP_MS[1]) - Date.now());
      }
    } finally {
      unsubscribe();
    }
    return {
      presses: opts.presses,
      roundTrips,
      summary: summarize(roundTrips),
      answers: summarize(answers),
      failed,
      copiesPerIncident: world.chats.length,
      // The polls' list calls go on meanwhile; they are not the action's.
      siemRequestsPerAction:
        (world.siemRequests() - requestsBefore - (world.listCalls() - listsBefore)) / opts.presses,
      durationSec: (Date.now() - startedAt) / 1000,
    };
  } finally {
    await world.close();
  }
}
