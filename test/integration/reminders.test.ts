// Reminders and escalation end to end (issue 15, design.md §5): the whole service in this process against
// the MP SIEM emulator and the fake Bot API over loopback HTTP, on SQLite and on PostgreSQL. One clock, shifted by the
// tests, drives the emulator and the service alike: nothing sleeps for the reminder delays. What each chat
// got is read from the fake's record of the calls (reply_parameters, the text, the buttons).
import { afterEach, describe, expect, it } from "vitest";
import type { FakeMessage, RecordedCall } from "../../src/botapi-fake/index.js";
import type { BotConfig, ReminderConfig } from "../../src/config/types.js";
import type { EmulatorIncident } from "../../src/emulator/index.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";
import {
  ALICE,
  CHATS,
  firstPollDone,
  GROUP_CHAT,
  PRIVATE_CHAT,
  type RunningService,
  SCALED_FAKE_LIMITS,
  SCALED_PACER_LIMITS,
  SCALED_TUNING,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

const MINUTE = 60_000;
/** The chat on duty that escalations go to. */
const DUTY = -1_004_000_000_001;

const SETTINGS: ReminderConfig = {
  remindAfterMs: MINUTE,
  remindEveryMs: MINUTE,
  remindMax: 2,
  remindMinSeverity: "low",
  escalateAfterMs: 0,
  escalateChatId: null,
};

interface Button {
  text: string;
  callback_data?: string;
}
const keysOf = (message: FakeMessage) => [...new Set(message.plainText.match(/\bINC-\d+\b/g) ?? [])];
const buttonsOf = (message: FakeMessage): Button[] =>
  ((message.replyMarkup as { inline_keyboard?: Button[][] } | undefined)?.inline_keyboard ?? []).flat();

describe.each(DIALECTS)("%s: reminders and escalation, end to end", (dialect) => {
  const database = databasePerTest(dialect);
  let world: World | undefined;
  let running: RunningService | undefined;
  let offset = 0;
  const now = () => Date.now() + offset;

  afterEach(async () => {
    await world?.close();
    world = undefined;
    running = undefined;
    offset = 0;
  });

  async function begin(reminders: Partial<ReminderConfig> = {}, moreChats: number[] = []): Promise<World> {
    world = await startWorld({
      fakeLimits: SCALED_FAKE_LIMITS,
      emulator: { now: () => new Date(now()) },
      ...(dialect === "postgres" ? { dbUrl: database.target } : {}),
    });
    world.fake.addChat({ id: DUTY, type: "supergroup", title: "Duty leads" });
    for (const id of moreChats) world.fake.addChat({ id, type: "group", title: `Group ${id}` });
    await world.allowInStore([...CHATS, DUTY, ...moreChats]);
    running = await start(world, { ...SETTINGS, ...reminders });
    return world;
  }

  async function start(w: World, reminders: ReminderConfig): Promise<RunningService> {
    const bot: Partial<BotConfig> = { timeZone: "UTC", pollIntervalMs: 200, reminders };
    const r = await w.startInProcess({
      now,
      pacerLimits: SCALED_PACER_LIMITS,
      deliveryTuning: { ...SCALED_TUNING, idleIntervalMs: 100 },
      bot,
    });
    await firstPollDone(r);
    return r;
  }

  /** The incident's card (its first message) in a chat. */
  function cardIn(w: World, chatId: number, incident: EmulatorIncident): FakeMessage {
    const card = w.fake
      .messages(chatId)
      .find((m) => m.plainText.includes(incident.key) && buttonsOf(m).length > 0);
    expect(card, `the card of ${incident.key} in chat ${chatId}`).toBeDefined();
    return card!;
  }

  /** Every sendMessage that replied to the incident's card in a chat. */
  function remindersIn(w: World, chatId: number, incident: EmulatorIncident): RecordedCall[] {
    const card = cardIn(w, chatId, incident);
    return w.fake.calls.filter(
      (c) =>
        c.method === "sendMessage" &&
        Number(c.params.chat_id) === chatId &&
        (c.params.reply_parameters as { message_id?: number } | undefined)?.message_id === card.messageId &&
        (c.response as { ok?: boolean }).ok === true,
    );
  }

  async function newIncident(w: World): Promise<EmulatorIncident> {
    const incident = w.emu.state.addIncident({ status: "New", eventsCount: 1, severity: "High" });
    await waitForKeys(w, CHATS, [incident.key], 15_000);
    return incident;
  }

  const counts = (w: World, incident: EmulatorIncident) =>
    CHATS.map((c) => remindersIn(w, c, incident).length);

  async function remindersReach(w: World, incident: EmulatorIncident, n: number): Promise<void> {
    await waitUntil(
      `${n} reminder(s) of ${incident.key} in each chat`,
      () => counts(w, incident).every((k) => k === n),
      15_000,
      {
        pollMs: 50,
        detail: () => JSON.stringify(counts(w, incident)),
      },
    );
  }

  /** Lets the scheduler and the sender look several times (they tick every 100-200 ms). */
  const severalTicks = () => sleep(1_500);

  it("a reminder is a reply to the card in each chat, naming the key; the card shows ⏰; the cap holds", async () => {
    const w = await begin();
    const incident = await newIncident(w);
    await severalTicks();
    expect(counts(w, incident)).toEqual([0, 0]);

    offset += MINUTE + 1_000;
    await remindersReach(w, incident, 1);
    for (const chatId of CHATS) {
      const [reply] = remindersIn(w, chatId, incident);
      expect(String(reply!.params.text)).toContain(incident.key);
      expect(String(reply!.params.text)).toMatch(/no reaction for 1 min/);
    }
    await waitUntil(
      "every card shows ⏰",
      () => CHATS.every((c) => cardIn(w, c, incident).plainText.includes("⏰ 1 min without a reaction")),
      10_000,
      { pollMs: 50 },
    );

    offset += MINUTE;
    await remindersReach(w, incident, 2);
    // BOT_REMIND_MAX = 2: no third, however long it stays New.
    offset += 10 * MINUTE;
    await severalTicks();
    expect(counts(w, incident)).toEqual([2, 2]);
  }, 60_000);

  it("Approve in the chat, or a change in the SIEM UI, stops reminders at once", async () => {
    const w = await begin();
    const pressed = await newIncident(w);
    const inSiem = await newIncident(w);
    offset += MINUTE + 1_000;
    await remindersReach(w, pressed, 1);
    await remindersReach(w, inSiem, 1);

    const card = cardIn(w, GROUP_CHAT, pressed);
    const approve = buttonsOf(card).find((b) => /Approve/.test(b.text))!;
    const id = w.fake.pressButton(ALICE, GROUP_CHAT, card.messageId, approve.callback_data!);
    await waitUntil("the press is answered", () => w.fake.answeredCallbacks().has(id), 10_000, {
      pollMs: 20,
    });
    // Someone approves the other one in the SIEM UI; the next reminder is due before the poller may see it.
    w.emu.state.setStatus(inSiem.id, "Approved");

    offset += MINUTE;
    await severalTicks();
    expect(counts(w, pressed)).toEqual([1, 1]);
    expect(counts(w, inSiem)).toEqual([1, 1]);
    // The ⏰ line goes once the incident is no longer New.
    await waitUntil(
      "the cards no longer show ⏰",
      () => CHATS.every((c) => !cardIn(w, c, pressed).plainText.includes("⏰")),
      10_000,
      { pollMs: 50 },
    );
  }, 60_000);

  it("Take in the chat stops reminders and a pending escalation at once", async () => {
    const w = await begin({ escalateAfterMs: 2 * MINUTE + 30_000, escalateChatId: DUTY });
    const taken = await newIncident(w);
    const untouched = await newIncident(w);
    offset += MINUTE + 1_000;
    await remindersReach(w, taken, 1);
    await remindersReach(w, untouched, 1);

    const card = cardIn(w, PRIVATE_CHAT, taken);
    const take = buttonsOf(card).find((b) => /Take/.test(b.text));
    expect(take, "a New card offers Take").toBeDefined();
    const id = w.fake.pressButton(ALICE, PRIVATE_CHAT, card.messageId, take!.callback_data!);
    await waitUntil("the press is answered", () => w.fake.answeredCallbacks().has(id), 10_000, {
      pollMs: 20,
    });
    expect(w.emu.state.get(taken.id)?.status).toBe("InProgress");

    // The second reminder and then the escalation come due: only the untouched incident gets them.
    offset += MINUTE;
    await remindersReach(w, untouched, 2);
    offset += MINUTE;
    // (The duty chat also holds its own copy of every incident: only the escalation message counts.)
    const escalated = (key: string) =>
      w.fake
        .messages(DUTY)
        .filter((m) => m.plainText.startsWith("🚨 Escalation") && m.plainText.includes(key)).length;
    await waitUntil("the untouched incident is escalated", () => escalated(untouched.key) === 1, 15_000, {
      pollMs: 50,
    });
    await severalTicks();
    expect(counts(w, taken)).toEqual([1, 1]);
    expect(escalated(taken.key)).toBe(0);
  }, 60_000);

  it("escalation reaches the escalation chat once, as a card with buttons; the copies say where it went", async () => {
    const w = await begin({ remindAfterMs: 0, escalateAfterMs: MINUTE, escalateChatId: DUTY });
    const incident = await newIncident(w);
    // The duty chat receives incidents too (the store knows it as "SOC duty"): the escalation comes as a
    // new message beside its copy.
    const escalations = () => w.fake.messages(DUTY).filter((m) => m.plainText.startsWith("🚨 Escalation"));
    await waitForKeys(w, [DUTY], [incident.key], 15_000);
    offset += MINUTE / 2;
    await severalTicks();
    expect(escalations()).toEqual([]);

    offset += MINUTE / 2 + 1_000;
    await waitUntil("the escalation arrives", () => escalations().length > 0, 15_000, { pollMs: 50 });
    const [escalation] = escalations();
    expect(escalation!.plainText).toMatch(/^🚨 Escalation: no reaction for 1 min/);
    expect(escalation!.plainText).toContain(incident.key);
    expect(
      buttonsOf(escalation!)
        .map((b) => b.text)
        .join(" "),
    ).toMatch(/Approve/);
    await waitUntil(
      "the copies say where it was escalated",
      () => CHATS.every((c) => cardIn(w, c, incident).plainText.includes("🚨 Escalated to SOC duty")),
      10_000,
      { pollMs: 50 },
    );
    // No reminders were asked for: none went out.
    expect(counts(w, incident)).toEqual([0, 0]);

    // Once: while it stays New, no second escalation.
    offset += MINUTE; // (the press below must come within what the bot counts as online)
    await severalTicks();
    const escalationSends = w.fake.calls.filter(
      (c) =>
        c.method === "sendMessage" &&
        Number(c.params.chat_id) === DUTY &&
        String(c.params.text).startsWith("<b>🚨 Escalation"),
    );
    expect(escalationSends).toHaveLength(1);

    // Its buttons work like any copy's (it is kept as one): Approve there edits it and every other copy.
    const approve = buttonsOf(escalation!).find((b) => /Approve/.test(b.text))!;
    const id = w.fake.pressButton(ALICE, DUTY, escalation!.messageId, approve.callback_data!);
    await waitUntil("the press is answered", () => w.fake.answeredCallbacks().has(id), 10_000, {
      pollMs: 20,
    });
    expect(w.fake.answeredCallbacks().get(id)?.text).toMatch(/Approved/i);
    const shown = () => w.fake.messages(DUTY).find((m) => m.messageId === escalation!.messageId)!;
    await waitUntil(
      "the escalation card shows Approved",
      () => shown().plainText.includes("Status: Approved"),
      10_000,
      {
        pollMs: 50,
        detail: () => shown().plainText.slice(0, 300),
      },
    );
    // The edited card keeps the mark as the line every copy has.
    expect(shown().plainText).toContain("🚨 Escalated to SOC duty");
  }, 60_000);

  /** Presses a button under the incident's card in the group; resolves with the answer's text. */
  async function press(w: World, incident: EmulatorIncident, label: RegExp): Promise<string | undefined> {
    const card = cardIn(w, GROUP_CHAT, incident);
    const button = buttonsOf(card).find((b) => label.test(b.text));
    expect(button, `${label} under ${incident.key}`).toBeDefined();
    const id = w.fake.pressButton(ALICE, GROUP_CHAT, card.messageId, button!.callback_data!);
    await waitUntil("the press is answered", () => w.fake.answeredCallbacks().has(id), 10_000, {
      pollMs: 20,
    });
    return w.fake.answeredCallbacks().get(id)?.text;
  }

  it("Snooze pauses reminders and escalation for an hour, never touching the SIEM; a status change ends it", async () => {
    const w = await begin({ remindMax: 5, escalateAfterMs: 3 * MINUTE, escalateChatId: DUTY });
    const escalations = () => w.fake.messages(DUTY).filter((m) => m.plainText.startsWith("🚨 Escalation"));
    const snoozed = await newIncident(w);
    const approved = await newIncident(w);
    expect(await press(w, snoozed, /Snooze/)).toMatch(/^Reminders and escalation snoozed until \d\d:\d\d/);
    expect(await press(w, approved, /Snooze/)).toMatch(/snoozed until/);
    expect(w.emu.state.get(snoozed.id)?.status).toBe("New");

    // Past the first reminder's due time, inside the hour: nothing. (The clock moves in steps shorter than
    // what the bot counts as having been offline, so that the press below is carried out.)
    offset += 2 * MINUTE;
    await severalTicks();
    expect(counts(w, snoozed)).toEqual([0, 0]);

    // Approve during the snooze: the snooze is over and so is the job.
    expect(await press(w, approved, /Approve/)).toMatch(/Approved/i);
    const store = running!.service.parts.store;
    expect(await store.reminders.job(approved.id, "env")).toMatchObject({ snoozedUntil: null });
    expect((await store.reminders.job(approved.id, "env"))?.doneAt).not.toBeNull();

    // Past the escalation's due time too, still inside the hour: nothing.
    offset += 2 * MINUTE;
    await severalTicks();
    expect(counts(w, snoozed)).toEqual([0, 0]);
    expect(escalations()).toEqual([]);

    // The hour is over: one reminder (not the five it missed) and the escalation, once.
    offset += 57 * MINUTE;
    await remindersReach(w, snoozed, 1);
    await waitUntil("the escalation arrives", () => escalations().length === 1, 15_000, { pollMs: 50 });
    await severalTicks();
    expect(counts(w, snoozed)).toEqual([1, 1]);
    expect(counts(w, approved)).toEqual([0, 0]);
    expect(escalations().map((m) => keysOf(m))).toEqual([[snoozed.key]]);
  }, 60_000);

  it("Snooze also drops a reminder already queued but not yet sent (a chat waiting out a retry_after)", async () => {
    const w = await begin({ remindMax: 3 });
    const incident = await newIncident(w);
    await running!.service.parts.delivery.idle({ timeoutMs: 15_000 });
    // Every chat that receives (the duty chat too) gets reminders; the first to reach Telegram is answered
    // 429: that chat's reminder waits 5 s (real time).
    const all = () => [...CHATS, DUTY].map((c) => remindersIn(w, c, incident).length).sort();
    w.fake.failNext(
      "sendMessage",
      { code: 429, description: "Too Many Requests: retry after 5", retryAfter: 5 },
      1,
    );
    offset += MINUTE + 1_000;
    await waitUntil("two chats have the reminder, one waits", () => all().join() === "0,1,1", 10_000, {
      pollMs: 20,
      detail: () => JSON.stringify(all()),
    });
    expect(await press(w, incident, /Snooze/)).toMatch(/snoozed until/);
    // Past the retry_after: the waiting reminder is not sent; nothing more comes within the hour.
    await sleep(6_000);
    offset += 2 * MINUTE;
    await severalTicks();
    expect(all()).toEqual([0, 1, 1]);
  }, 60_000);

  it("a collapsed message names each incident once, and counts incidents, when several steps wait at once", async () => {
    const w = await begin();
    const incidents: EmulatorIncident[] = [];
    for (let i = 0; i < 4; i++)
      incidents.push(w.emu.state.addIncident({ status: "New", eventsCount: 1, severity: "Medium" }));
    await waitForKeys(
      w,
      [...CHATS, DUTY],
      incidents.map((i) => i.key),
      20_000,
    );
    await running!.service.parts.delivery.idle({ timeoutMs: 15_000 });
    const collapsed = () =>
      [...CHATS, DUTY]
        .flatMap((c) => w.fake.messages(c))
        .filter((m) => /^⏰ \d+ incidents without a reaction/.test(m.plainText));
    // The first collapsed messages are answered 429: they wait 5 s while the second step falls due too.
    w.fake.failNext(
      "sendMessage",
      { code: 429, description: "Too Many Requests: retry after 5", retryAfter: 5 },
      3,
    );
    offset += MINUTE + 1_000;
    // (Telegram's 429 holds every chat's sends for those 5 s.)
    await waitUntil(
      "the 429",
      () => w.fake.calls.some((c) => (c.response as { error_code?: number } | undefined)?.error_code === 429),
      10_000,
      { pollMs: 20 },
    );
    expect(collapsed()).toHaveLength(0);
    offset += MINUTE;
    await waitUntil(
      "every chat has its collapsed messages",
      () => new Set(collapsed().map((m) => m.chatId)).size === 3,
      15_000,
      {
        pollMs: 50,
        detail: () =>
          collapsed()
            .map((m) => m.plainText.split("\n")[0])
            .join("; "),
      },
    );
    await severalTicks();
    for (const message of collapsed()) {
      const keys = message.plainText
        .split("\n")
        .slice(1)
        .map((line) => line.split(" ")[0]);
      expect(keys.length, message.plainText).toBe(new Set(keys).size);
      expect(message.plainText).toMatch(new RegExp(`^⏰ ${keys.length} incidents without a reaction`));
      expect(new Set(keys)).toEqual(new Set(incidents.map((i) => i.key)));
    }
  }, 60_000);

  it("a reminder owed to a group that became a supergroup is given up, not retried every tick", async () => {
    const BASIC = -4_070_001;
    const w = await begin({}, [BASIC]);
    const incident = w.emu.state.addIncident({ status: "New", eventsCount: 1, severity: "High" });
    await waitForKeys(w, [...CHATS, BASIC], [incident.key], 15_000);
    await running!.service.parts.delivery.idle({ timeoutMs: 15_000 });
    // The reminders are queued and wait out a 429 (5 s); meanwhile the group is upgraded.
    w.fake.failNext(
      "sendMessage",
      { code: 429, description: "Too Many Requests: retry after 5", retryAfter: 5 },
      4,
    );
    offset += MINUTE + 1_000;
    const queued = async () =>
      (await running!.service.parts.store.reminders.messagesOf(incident.id)).filter(
        (m) => m.chatId === BASIC,
      );
    const deadline = Date.now() + 10_000;
    while ((await queued()).length === 0 && Date.now() < deadline) await sleep(50);
    w.fake.migrateChat(BASIC, -1_004_070_001);
    await sleep(9_000);
    const attempts = w.fake.calls.filter(
      (c) =>
        c.method === "sendMessage" &&
        Number(c.params.chat_id) === BASIC &&
        (c.response as { error_code?: number } | undefined)?.error_code === 400,
    );
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.length).toBeLessThanOrEqual(2);
    expect((await queued()).map((m) => m.state)).toEqual(["dropped"]);
  }, 60_000);

  it("a mute in a chat holds its reminders there; the other chat still gets them", async () => {
    const w = await begin({ remindMax: 5 });
    const incident = await newIncident(w);
    await running!.service.parts.store.routing.addMute(
      {
        chatId: GROUP_CHAT,
        threadId: null,
        matchers: "severity>=high",
        startsAt: now(),
        endsAt: now() + 2 * MINUTE + 30_000,
        createdBy: ALICE.id,
        createdByName: "@alice",
        comment: null,
      },
      20,
      now(),
    );
    offset += MINUTE + 1_000;
    await waitUntil(
      "the private chat's reminder",
      () => remindersIn(w, PRIVATE_CHAT, incident).length === 1,
      15_000,
      {
        pollMs: 50,
      },
    );
    offset += MINUTE;
    await waitUntil(
      "the private chat's second reminder",
      () => remindersIn(w, PRIVATE_CHAT, incident).length === 2,
      15_000,
      {
        pollMs: 50,
      },
    );
    await severalTicks();
    expect(remindersIn(w, GROUP_CHAT, incident)).toHaveLength(0);
    // The mute is over: the group gets the next one (the ones it held are not made up for).
    offset += MINUTE;
    await waitUntil("the third round", () => counts(w, incident).join() === "3,1", 15_000, {
      pollMs: 50,
      detail: () => JSON.stringify(counts(w, incident)),
    });
  }, 60_000);

  it("many overdue incidents in a chat at once come as one message listing each with its /inc_N", async () => {
    const w = await begin();
    const incidents: EmulatorIncident[] = [];
    for (let i = 0; i < 5; i++)
      incidents.push(w.emu.state.addIncident({ status: "New", eventsCount: 1, severity: "Medium" }));
    await waitForKeys(
      w,
      CHATS,
      incidents.map((i) => i.key),
      20_000,
    );
    await running!.service.parts.delivery.idle({ timeoutMs: 15_000 });
    const collapsed = (chatId: number) =>
      w.fake.messages(chatId).filter((m) => /^⏰ 5 incidents without a reaction/.test(m.plainText));
    offset += MINUTE + 1_000;
    await waitUntil(
      "one collapsed message in each chat",
      () => CHATS.every((c) => collapsed(c).length === 1),
      15_000,
      {
        pollMs: 50,
      },
    );
    for (const chatId of CHATS) {
      const text = collapsed(chatId)[0]!.plainText;
      for (const incident of incidents)
        expect(text).toContain(`${incident.key} /inc_${incident.key.slice(4)}`);
      expect(incidents.flatMap((i) => remindersIn(w, chatId, i))).toEqual([]);
    }
  }, 60_000);

  it("a chat gets at most 10 reminder messages an hour", async () => {
    const w = await begin({ remindMax: 20 });
    const incidents = [await newIncident(w), await newIncident(w)];
    offset += MINUTE + 1_000;
    for (let round = 1; round <= 7; round++) {
      const expected = Math.min(10, 2 * round);
      await waitUntil(
        `round ${round}: ${expected} reminders in each chat`,
        () => CHATS.every((c) => incidents.flatMap((i) => remindersIn(w, c, i)).length === expected),
        15_000,
        { pollMs: 50 },
      );
      offset += MINUTE;
    }
    await severalTicks();
    for (const chatId of CHATS) expect(incidents.flatMap((i) => remindersIn(w, chatId, i))).toHaveLength(10);
  }, 90_000);

  it("a restart in the middle of a schedule neither loses nor doubles a reminder", async () => {
    const w = await begin({ remindMax: 3 });
    const incident = await newIncident(w);
    offset += MINUTE + 1_000;
    await remindersReach(w, incident, 1);
    await running!.stop();

    // Down across the second reminder's due time: it comes once, after the start.
    offset += MINUTE;
    running = await start(w, { ...SETTINGS, remindMax: 3 });
    await remindersReach(w, incident, 2);
    await severalTicks();
    expect(counts(w, incident)).toEqual([2, 2]);
    offset += MINUTE;
    await remindersReach(w, incident, 3);
    // The card was not sent again by the restart.
    for (const chatId of CHATS) {
      expect(
        w.fake.messages(chatId).filter((m) => buttonsOf(m).length > 0 && m.plainText.includes(incident.key)),
      ).toHaveLength(1);
    }
  }, 60_000);
});
