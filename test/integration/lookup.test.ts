// /inc and actionable digests, against the MP SIEM emulator and the fake Bot API over HTTP: the three
// forms of /inc send the full card (with its buttons) into the asking chat and topic, also for an
// incident older than the store; that card is edited when the status changes in the SIEM UI; a stranger
// gets a refusal with no incident data; a missing key gets a short answer; forged and huge arguments make
// no SIEM call; a digest line's /inc_N opens the full card, and the digest shows the new status mark.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage, FakeUser } from "../../src/botapi-fake/index.js";
import type { EmulatorIncident } from "../../src/emulator/index.js";
import { lookupEn } from "../../src/i18n/lookup-en.js";
import {
  ADMIN,
  ALICE,
  firstPollDone,
  GROUP_CHAT,
  keysIn,
  MALLORY,
  PRIVATE_CHAT,
  type RunningService,
  startWorld,
  type World,
  waitUntil,
} from "./harness.js";

const STRANGER: FakeUser = { id: 7777, username: "stranger", first_name: "Eve" };
const BOT = "FakeMpSiemBot";
const TOPIC = 77;

function buttonsOf(message: FakeMessage): string[] {
  const markup = message.replyMarkup as { inline_keyboard?: Array<Array<{ text: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().map((b) => b.text);
}

/** A full card (not a digest line) of this incident. */
const isCardOf = (incident: EmulatorIncident) => (m: FakeMessage) =>
  keysIn(m).length === 1 && keysIn(m)[0] === incident.key && /Status: /.test(m.plainText);

describe("/inc and actionable digests", () => {
  let world: World;
  let running: RunningService;
  let old: EmulatorIncident;

  const requests = (route: string) => world.emu.state.stats().requests[route] ?? 0;
  const cards = (chatId: number, incident: EmulatorIncident) =>
    world.fake.messages(chatId).filter(isCardOf(incident));

  /** Sends `text` as `who` and waits for the bot's next message in that chat; returns it. */
  /**
   * Sends `text` and returns the first message that then arrives in the chat and satisfies `answer`
   * (default: any). A group also gets incidents meanwhile, so a test that expects a card says which.
   */
  async function ask(
    who: FakeUser,
    chatId: number,
    text: string,
    threadId?: number,
    answer: (m: FakeMessage) => boolean = () => true,
  ): Promise<FakeMessage> {
    const before = world.fake.messages(chatId).length;
    world.fake.sendText(who, chatId, text, threadId === undefined ? undefined : { threadId });
    const found = () => world.fake.messages(chatId).slice(before).find(answer);
    await waitUntil(
      `an answer to ${JSON.stringify(text.slice(0, 40))}`,
      () => found() !== undefined,
      10_000,
      {
        pollMs: 20,
      },
    );
    return found()!;
  }

  beforeAll(async () => {
    world = await startWorld();
    // Years older than anything the service will ever poll (BOT_INITIAL_LOOKBACK is 24h).
    old = world.emu.state.addIncident({
      created: "2023-01-15T08:00:00Z",
      status: "New",
      name: "Ancient_bruteforce",
      severity: "Medium",
      eventsCount: 2,
    });
    world.fake.addChat({
      id: STRANGER.id,
      type: "private",
      first_name: STRANGER.first_name,
      username: STRANGER.username,
    });
    running = await world.startInProcess({
      bot: { pollIntervalMs: 1000 },
      deliveryTuning: { digestThresholdMs: 1_000 },
    });
    await firstPollDone(running);
    await world.approveByPerson(running, ALICE, PRIVATE_CHAT);
    await world.approveByPerson(running, ALICE, GROUP_CHAT);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });

  it("/inc KEY from an allowed user: the full card with its buttons, for an incident older than the store, queued nowhere else", async () => {
    const store = running.service.parts.store;
    expect(await store.incidents.get(old.id)).toBeUndefined();
    const answer = await ask(ALICE, PRIVATE_CHAT, `/inc ${old.key}`);
    expect(isCardOf(old)(answer)).toBe(true);
    expect(answer.plainText).toContain("Ancient_bruteforce");
    expect(answer.plainText).toMatch(/Status: New/);
    expect(buttonsOf(answer).some((b) => b.includes("Approve"))).toBe(true);
    expect(buttonsOf(answer).some((b) => b.includes("Refresh"))).toBe(true);
    // Stored through the normal read path, as a copy of this chat only: no outbox row for any chat.
    expect((await store.incidents.get(old.id))?.key).toBe(old.key);
    expect(await store.outbox.copies(old.id)).toEqual([]);
    expect((await store.outbox.pending()).some((p) => p.incidentId === old.id)).toBe(false);
    await waitUntil(
      "the copy is recorded",
      async () => (await store.outbox.lookupCopies(old.id)).length === 1,
      5_000,
      {
        pollMs: 20,
      },
    );
    const copies = await store.outbox.lookupCopies(old.id);
    expect(copies.map((c) => [c.chatId, c.messageId])).toEqual([[PRIVATE_CHAT, answer.messageId]]);
  });

  it("/inc N in a forum topic and the tappable /inc_N@Bot in the group: the card goes into the topic asked in", async () => {
    const number = Number(old.key.slice(4));
    const inTopic = await ask(MALLORY, GROUP_CHAT, `/inc ${number}`, TOPIC, isCardOf(old));
    expect(isCardOf(old)(inTopic)).toBe(true);
    expect(inTopic.threadId).toBe(TOPIC);
    const tapped = await ask(MALLORY, GROUP_CHAT, `/inc_${number}@${BOT}`, undefined, isCardOf(old));
    expect(isCardOf(old)(tapped)).toBe(true);
    expect(tapped.threadId).toBeUndefined();
    expect(buttonsOf(tapped).some((b) => b.includes("Approve"))).toBe(true);
    // Recorded just after the send returns.
    await waitUntil(
      "three looked-up copies recorded",
      async () => (await running.service.parts.store.outbox.lookupCopies(old.id)).length === 3,
      5_000,
      { pollMs: 20 },
    );
  });

  it("every /inc card is edited after the status changes in the SIEM UI", async () => {
    world.emu.state.setStatus(old.id, "InProgress");
    await waitUntil(
      "every looked-up card shows In progress",
      () => {
        const all = [...cards(PRIVATE_CHAT, old), ...cards(GROUP_CHAT, old)];
        return all.length === 3 && all.every((m) => /Status: In progress/.test(m.plainText) && m.edits > 0);
      },
      15_000,
      { pollMs: 50 },
    );
    const buttons = buttonsOf(cards(PRIVATE_CHAT, old)[0]!);
    expect(buttons.some((b) => b.includes("Approve"))).toBe(false);
  });

  it("a stranger is refused with no incident data; a missing key gets a short answer", async () => {
    const refused = await ask(STRANGER, STRANGER.id, `/inc ${old.key}`);
    expect(refused.plainText).toBe(lookupEn.notAllowed);
    expect(refused.plainText).not.toContain(old.key);
    expect(refused.plainText).not.toContain("Ancient");
    expect(refused.replyMarkup).toBeUndefined();
    const tapped = await ask(STRANGER, STRANGER.id, `/inc_${old.key.slice(4)}`);
    expect(tapped.plainText).toBe(lookupEn.notAllowed);

    const missing = await ask(ALICE, PRIVATE_CHAT, "/inc INC-987654");
    expect(missing.plainText).toBe(lookupEn.notFound("INC-987654"));
  });

  it("digests: every line ends with its /inc_N, which opens the full card; a change in the SIEM UI edits the digest's mark", async () => {
    const flood = world.emu.state.addBurst(40, { status: "New", severity: "Low", name: "Port_scan" });
    const isDigest = (m: FakeMessage) => keysIn(m).length > 1;
    await waitUntil(
      "a digest in the private chat",
      () => world.fake.messages(PRIVATE_CHAT).some(isDigest),
      30_000,
      {
        pollMs: 50,
      },
    );
    const digest = world.fake.messages(PRIVATE_CHAT).find(isDigest)!;
    const lines = digest.plainText.split("\n").slice(1);
    for (const line of lines) {
      const key = /INC-(\d+)/.exec(line)![1];
      expect(line.endsWith(` /inc_${key}`), line).toBe(true);
    }
    const target = flood.find((i) => i.key === keysIn(digest)[0])!;
    const other = flood.find((i) => i.key === keysIn(digest)[1])!;

    const card = await ask(ALICE, PRIVATE_CHAT, `/inc_${target.key.slice(4)}`);
    expect(isCardOf(target)(card)).toBe(true);
    expect(buttonsOf(card).some((b) => b.includes("Approve"))).toBe(true);

    await running.service.parts.delivery.idle({ timeoutMs: 30_000 });
    // The card's own button works (a digest line has none: the card is the chat's copy with buttons).
    const approve = (
      card.replyMarkup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
    ).inline_keyboard
      .flat()
      .find((b) => b.text.includes("Approve"))!;
    const pressId = world.fake.pressButton(ALICE, PRIVATE_CHAT, card.messageId, approve.callback_data);
    await waitUntil("the press is answered", () => world.fake.answeredCallbacks().has(pressId), 10_000, {
      pollMs: 20,
    });
    expect(world.emu.state.get(target.id)?.status).toBe("Approved");
    world.emu.state.setStatus(other.id, "Closed");
    const shown = () => world.fake.messages(PRIVATE_CHAT).find((m) => m.messageId === digest.messageId)!;
    await waitUntil(
      "the digest shows the new marks",
      () => shown().plainText.includes(`✅ ${target.key} `) && shown().plainText.includes(`✖️ ${other.key} `),
      15_000,
      { pollMs: 50, detail: () => shown().plainText.slice(0, 400) },
    );
    // Both changes in one edit or two, never more; the other lines keep their place.
    expect(shown().edits).toBeGreaterThanOrEqual(1);
    expect(shown().edits).toBeLessThanOrEqual(2);
    expect(keysIn(shown())).toEqual(keysIn(digest));
    // And the looked-up card of the same incident follows too.
    await waitUntil(
      "the card shows Approved",
      () => /Status: Approved/.test(cards(PRIVATE_CHAT, target)[0]!.plainText),
      15_000,
      {
        pollMs: 50,
      },
    );
  }, 60_000);

  it("forged and huge arguments are refused without a SIEM call; lookups past the budget are refused too", async () => {
    await running.service.parts.intake.stop();
    // Nothing new is queued now: the only messages that come are the answers.
    await running.service.parts.delivery.idle({ timeoutMs: 40_000 });
    const list = requests("POST /api/v2/incidents");
    const details = requests("GET /api/incidentsReadModel/incidents/{id}");
    const forged = [
      '/inc INC-1" or key != "x',
      `/inc ${"9".repeat(3000)}`,
      "/inc_99999999999",
      "/inc -5",
      "/inc INC-1 INC-2",
      "/inc_1e5",
    ];
    for (const text of forged) {
      const answer = await ask(MALLORY, GROUP_CHAT, text);
      expect(answer.plainText, text).toMatch(/not an incident key|No incident has a number that large/);
    }
    expect(requests("POST /api/v2/incidents")).toBe(list);
    expect(requests("GET /api/incidentsReadModel/incidents/{id}")).toBe(details);

    // Five lookups a minute per person; the sixth is refused, with no SIEM call.
    for (let i = 0; i < 5; i++) {
      const card = await ask(ADMIN, ADMIN.id, `/inc ${old.key}`);
      expect(isCardOf(old)(card), card.plainText.slice(0, 200)).toBe(true);
    }
    expect(requests("POST /api/v2/incidents")).toBe(list + 5);
    expect((await ask(ADMIN, ADMIN.id, `/inc ${old.key}`)).plainText).toBe(lookupEn.tooMany);
    expect(requests("POST /api/v2/incidents")).toBe(list + 5);
  }, 60_000);
});
