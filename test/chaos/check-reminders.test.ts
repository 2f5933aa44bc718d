// The reminders' verdict must catch what it is there to catch — a reminder for an incident no longer New,
// an owed reminder or escalation that never came, one shown twice or too many — and excuse only what the
// product documents, with hand-made traces.
import { describe, expect, it } from "vitest";
import {
  COLLAPSE_ABOVE as PRODUCT_COLLAPSE,
  REMINDERS_PER_CHAT_PER_HOUR,
} from "../../src/delivery/reminder-sends.js";
import {
  type BotMessage,
  CAP_PER_HOUR,
  COLLAPSE_ABOVE,
  deadline,
  judgeReminders,
  type ReminderObservations,
} from "./check-reminders.js";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const ALICE = 4242;
const GROUP = -4_070_001;
const ESC = -4_070_099;

function card(chatId: number, messageId: number, at: number, ids = [A]): BotMessage {
  return { chatId, messageId, at, plain: "🔴 Incident", replyTo: null, sentIds: ids, answerLost: false };
}

function reminder(
  chatId: number,
  at: number,
  over: Partial<BotMessage> & { key?: string; d?: string } = {},
): BotMessage {
  const { key = "INC-1", d = "20 s", ...rest } = over;
  return {
    chatId,
    messageId: 100 + Math.round(at / 10),
    at,
    plain: `⏰ ${key} has had no reaction for ${d}: it is still New.`,
    replyTo: 10,
    sentIds: [],
    answerLost: false,
    ...rest,
  };
}

function escalation(at: number, over: Partial<BotMessage> = {}): BotMessage {
  return {
    chatId: ESC,
    messageId: 500 + Math.round(at / 10),
    at,
    plain: "🚨 Escalation: no reaction for 40 s\n🔴 Incident INC-1\nStatus: New",
    replyTo: null,
    sentIds: [A],
    answerLost: false,
    ...over,
  };
}

/** INC-1 (High), delivered to Alice at +1 s, stays New; reminders after 20 s, every 20 s, twice; escalation after 40 s. */
function observations(over: Partial<ReminderObservations> = {}): ReminderObservations {
  return {
    settings: {
      pollIntervalMs: 1_000,
      remindAfterMs: 20_000,
      remindEveryMs: 20_000,
      remindMax: 2,
      minSeverity: "low",
      escalation: { afterMs: 40_000, chatId: ESC, minSeverity: "medium" },
    },
    incidents: [{ id: A, key: "INC-1", appearedAt: 0, createdAt: 0, severity: "High" }],
    changes: [],
    lagChanges: [],
    messages: [
      card(ALICE, 10, 1_000),
      reminder(ALICE, 21_500),
      reminder(ALICE, 41_600, { d: "41 s" }),
      escalation(41_200),
    ],
    chatIds: [ALICE, GROUP],
    calls: [],
    siemTrouble: [],
    telegramTrouble: [],
    down: [],
    processEnds: [],
    unavailable: [],
    snoozes: [],
    mayBeMuted: () => false,
    surelyMuted: () => [],
    endAt: 200_000,
    ...over,
  };
}

const without = (o: ReminderObservations, at: number) => o.messages.filter((m) => m.at !== at);

describe("the reminders' verdict", () => {
  it("passes a run where every reminder and the escalation came in time, and counts them", () => {
    const v = judgeReminders(observations());
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({
      single: 2,
      owed: 2,
      got: 2,
      escalationsOwed: 1,
      escalationsGot: 1,
      notYetDue: 0,
    });
  });

  it("the checker's caps are the product's", () => {
    expect(CAP_PER_HOUR).toBe(REMINDERS_PER_CHAT_PER_HOUR);
    expect(COLLAPSE_ABOVE).toBe(PRODUCT_COLLAPSE);
  });

  describe("(a) no reminder for an incident no longer New", () => {
    it("flags a reminder sent well after the SIEM showed another status, or an assignee", () => {
      const approved = judgeReminders(
        observations({ changes: [{ incidentId: A, at: 10_000, status: "Approved" }] }),
      );
      expect(approved.violations.join("\n")).toMatch(
        /3 reminders or escalations for incidents no longer New: a reminder of INC-1 in chat 4242 at \+21500 ms: it left New/,
      );
      const taken = judgeReminders(
        observations({ changes: [{ incidentId: A, at: 10_000, assigned: "mp-user" }] }),
      );
      expect(taken.violations.join("\n")).toMatch(/no longer New/);
      // Back to New and nobody holding it: reminders are fine again.
      const back = judgeReminders(
        observations({
          changes: [
            { incidentId: A, at: 10_000, status: "Approved" },
            { incidentId: A, at: 12_000, status: "New" },
          ],
        }),
      );
      expect(back.violations.join("\n")).not.toMatch(/no longer New/);
    });

    it("allows one poll interval (and a second of work) after the change became visible", () => {
      const o = observations({ changes: [{ incidentId: A, at: 20_000, status: "Closed" }] });
      o.messages = [...without(o, 41_600).filter((m) => m.chatId !== ESC)];
      const v = judgeReminders(o);
      expect(v.violations).toEqual([]);
      expect(v.afterLeavingWithinAllowance).toBe(1);
      o.changes = [{ incidentId: A, at: 19_400, status: "Closed" }];
      expect(judgeReminders(o).violations.join("\n")).toMatch(/no longer New/);
    });

    it("adds the read-model lag in force at the change, and stretches over SIEM faults, downtime and Telegram faults", () => {
      const base = observations({ changes: [{ incidentId: A, at: 15_000, status: "Closed" }] });
      base.messages = without(base, 41_600).filter((m) => m.chatId !== ESC);
      expect(judgeReminders(base).violations.join("\n")).toMatch(/no longer New/);
      expect(judgeReminders({ ...base, lagChanges: [{ at: 0, ms: 6_000 }] }).violations).toEqual([]);
      // A 503 from +14 s to +17 s: blind until then and as long again for the backoff (+20 s), then 2 s.
      const fault = [{ from: 14_000, to: 17_000, what: "503" }];
      expect(judgeReminders({ ...base, siemTrouble: fault }).violations).toEqual([]);
      expect(
        judgeReminders({ ...base, siemTrouble: [{ ...fault[0]!, incidentId: B }] }).violations.join("\n"),
      ).toMatch(/no longer New/);
      expect(
        judgeReminders({ ...base, down: [{ from: 15_500, to: 20_000, what: "down" }] }).violations,
      ).toEqual([]);
      expect(
        judgeReminders({
          ...base,
          telegramTrouble: [{ from: 16_000, to: 20_000, chatId: ALICE, what: "429" }],
        }).violations,
      ).toEqual([]);
      expect(
        judgeReminders({
          ...base,
          telegramTrouble: [{ from: 16_000, to: 20_000, chatId: GROUP, what: "429" }],
        }).violations.length,
      ).toBe(1);
    });

    it("judges each line of a collapsed message, and escalations", () => {
      const o = observations({ changes: [{ incidentId: A, at: 10_000, status: "Resolved" }] });
      o.messages = [
        card(ALICE, 10, 1_000),
        {
          ...reminder(ALICE, 21_500),
          plain: "⏰ 4 incidents without a reaction:\nINC-1 /inc_1 — 20 s\nINC-9 /inc_9 — 20 s",
          replyTo: null,
        },
        escalation(41_200),
      ];
      o.incidents.push({ id: B, key: "INC-9", appearedAt: 0, createdAt: 0, severity: "Low" });
      o.messages.push(card(ALICE, 11, 1_000, [B]));
      const text = judgeReminders(o).violations.join("\n");
      expect(text).toMatch(/a collapsed reminder of INC-1 in chat 4242/);
      expect(text).toMatch(/an escalation of INC-1 in chat -4070099/);
      expect(text).not.toMatch(/INC-9 in chat 4242 at/);
    });
  });

  describe("(b) no reminder lost across kills", () => {
    const silent = (o = observations()) => ({ ...o, messages: [card(ALICE, 10, 1_000)] });

    it("flags an owed reminder and an owed escalation that never came", () => {
      const text = judgeReminders(silent()).violations.join("\n");
      expect(text).toMatch(
        /2 owed reminders or escalations never came: INC-1 step 1 in chat 4242 \(due \+21000 ms/,
      );
      expect(text).toMatch(/the escalation of INC-1/);
      // The second step too, after the first came.
      const o = observations();
      o.messages = without(o, 41_600);
      expect(judgeReminders(o).violations.join("\n")).toMatch(/INC-1 step 2 in chat 4242 \(due \+41500 ms/);
    });

    it("owes nothing the run ended before, below the severity, or for an incident that left New or was taken", () => {
      expect(judgeReminders({ ...silent(), endAt: 30_000 })).toMatchObject({ violations: [], notYetDue: 2 });
      const low = silent();
      low.incidents = [{ ...low.incidents[0]!, severity: "Low" }];
      low.settings = { ...low.settings, minSeverity: "medium" };
      expect(judgeReminders(low).violations).toEqual([]);
      expect(
        judgeReminders({ ...silent(), changes: [{ incidentId: A, at: 30_000, status: "InProgress" }] })
          .violations,
      ).toEqual([]);
      expect(
        judgeReminders({ ...silent(), changes: [{ incidentId: A, at: 30_000, assigned: "u" }] }).violations,
      ).toEqual([]);
      const excused = judgeReminders({
        ...silent(),
        changes: [{ incidentId: A, at: 30_000, status: "InProgress" }],
      }).excused;
      expect(excused).toEqual({ "left New or taken": 1, "escalation: left New or taken": 1 });
    });

    it("excuses a mute, a snooze by someone who may act, a chat that could not receive, the hourly cap — and nothing else", () => {
      const only = (o: ReminderObservations) =>
        judgeReminders({ ...o, settings: { ...o.settings, escalation: null } });
      expect(only(silent()).violations.length).toBe(1);
      expect(only({ ...silent(), mayBeMuted: (chatId) => chatId === ALICE }).excused).toEqual({
        "a mute may have held it": 1,
      });
      const snooze = { incidentId: A, at: 5_000, allowed: "yes" as const, accepted: true };
      expect(only({ ...silent(), snoozes: [snooze] }).violations).toEqual([]);
      expect(only({ ...silent(), snoozes: [{ ...snooze, allowed: "no" }] }).violations.length).toBe(1);
      expect(only({ ...silent(), snoozes: [{ ...snooze, accepted: false }] }).violations.length).toBe(1);
      expect(
        only({ ...silent(), unavailable: [{ from: 10_000, to: 1e9, chatId: ALICE, what: "blocked" }] })
          .violations,
      ).toEqual([]);
      const o = silent();
      for (let i = 0; i < CAP_PER_HOUR; i++)
        o.messages.push(reminder(ALICE, 2_000 + i * 100, { key: "INC-77" }));
      expect(only(o).excused).toMatchObject({ "the chat had its reminders of the hour": 1 });
      // Nothing excuses it in the group, which has no card of it.
      expect(only({ ...silent(), mayBeMuted: (chatId) => chatId === GROUP }).violations.length).toBe(1);
    });

    it("waits longer over troubles and a busy lane; a backfill is not escalated", () => {
      const o = observations();
      o.messages = [card(ALICE, 10, 1_000), reminder(ALICE, 60_000), reminder(ALICE, 82_000, { d: "1 min" })];
      o.settings = { ...o.settings, escalation: null };
      expect(judgeReminders(o).violations.join("\n")).toMatch(
        /step 1 in chat 4242 \(due \+21000 ms, owed by \+37000 ms, came \+60000 ms\)/,
      );
      expect(judgeReminders({ ...o, down: [{ from: 20_000, to: 50_000, what: "down" }] }).violations).toEqual(
        [],
      );
      const busy = Array.from({ length: 12 }, (_, i) => ({
        at: 15_000 + i * 4_000,
        method: "sendMessage",
        chatId: ALICE,
        ok: true,
        retryAfter: null,
      }));
      expect(judgeReminders({ ...o, calls: busy }).violations).toEqual([]);
      // A group's budget (~20 a minute, edits included) spent: its lane waits for the minute to roll on.
      const group = observations();
      group.settings = { ...group.settings, escalation: null, remindMax: 1 };
      group.messages = [card(GROUP, 10, 1_000), reminder(GROUP, 95_000)];
      expect(judgeReminders(group).violations.length).toBe(1);
      const edits = Array.from({ length: 17 }, (_, i) => ({
        at: 20_000 + i * 2_000,
        method: "editMessageText",
        chatId: GROUP,
        ok: true,
        retryAfter: null,
      }));
      expect(judgeReminders({ ...group, calls: edits }).violations).toEqual([]);
      const backfill = silent();
      backfill.settings = { ...backfill.settings, remindAfterMs: 0, remindMax: 0 };
      backfill.incidents = [{ ...backfill.incidents[0]!, createdAt: -11 * 60_000 }];
      expect(judgeReminders(backfill).excused).toEqual({ "escalation: a backfill": 1 });
    });

    it("stops following a chat's steps where one may have been held there, or several went out as one", () => {
      // The first step was held by a mute: the one message that came is the second, the last.
      const o = observations({ mayBeMuted: (_chat, _id, from) => from < 25_000 });
      o.settings = { ...o.settings, escalation: null };
      o.messages = [card(ALICE, 10, 1_000), reminder(ALICE, 41_500, { d: "41 s" })];
      expect(judgeReminders(o).violations).toEqual([]);
      expect(judgeReminders({ ...o, mayBeMuted: () => false }).violations.join("\n")).toMatch(
        /INC-1 step 1 in chat 4242 .*came \+41500 ms/,
      );
      // The chat's lane was held up past the second step's due time: both went out as one.
      const late = observations({ down: [{ from: 20_000, to: 45_000, what: "down" }] });
      late.settings = { ...late.settings, escalation: null };
      late.messages = [card(ALICE, 10, 1_000), reminder(ALICE, 46_000, { d: "41 s" })];
      expect(judgeReminders(late).violations).toEqual([]);
    });

    it("a process end may cut one message per chat short in flight: one incident, or a collapsed one — not two", () => {
      const two = observations({ processEnds: [25_000] });
      two.settings = { ...two.settings, escalation: null };
      two.incidents.push({ id: B, key: "INC-2", appearedAt: 0, createdAt: 0, severity: "High" });
      two.messages = [card(ALICE, 10, 1_000), card(ALICE, 11, 1_000, [B])];
      const v = judgeReminders(two);
      expect(v.violations.join("\n")).toMatch(
        /INC-1 step 1 in chat 4242.*INC-2 step 1 in chat 4242.*\(2 at the process end at \+25000 ms: one message at most\)/,
      );
      two.incidents.pop();
      two.messages.pop();
      expect(judgeReminders(two)).toMatchObject({ violations: [], lostInFlight: 1 });
    });

    it("a collapsed message's unnamed lines may hold an owed step", () => {
      const o = observations();
      o.settings = { ...o.settings, escalation: null, remindMax: 1 };
      o.messages = [
        card(ALICE, 10, 1_000),
        {
          ...reminder(ALICE, 22_000),
          plain: "⏰ 31 incidents without a reaction:\nINC-5 /inc_5 — 20 s\n…and 1 more",
          replyTo: null,
        },
      ];
      o.incidents.push({ id: B, key: "INC-5", appearedAt: 0, createdAt: 0, severity: "High" });
      o.messages.push(card(ALICE, 11, 1_000, [B]));
      const v = judgeReminders(o);
      expect(v.violations).toEqual([]);
      expect(v.excused).toEqual({ "maybe among a collapsed message's unnamed lines": 1 });
    });
  });

  describe("(c) never twice, never too many, in the right place", () => {
    it("flags the same step shown twice, unless the first call lost its answer", () => {
      const o = observations();
      o.messages.push(reminder(ALICE, 22_000));
      expect(judgeReminders(o).violations.join("\n")).toMatch(
        /shown twice for the same step: INC-1 in chat 4242 \("20 s"\)/,
      );
      o.messages[1] = { ...o.messages[1]!, answerLost: true };
      expect(judgeReminders(o).violations).toEqual([]);
    });

    it("flags more than BOT_REMIND_MAX, a second escalation, more than 10 an hour", () => {
      const o = observations();
      o.messages.push(reminder(ALICE, 61_700, { d: "1 min" }));
      expect(judgeReminders(o).violations.join("\n")).toMatch(
        /more reminders than BOT_REMIND_MAX: INC-1 in chat 4242: 3/,
      );
      const twice = observations();
      twice.messages.push(escalation(50_000));
      expect(judgeReminders(twice).violations.join("\n")).toMatch(/escalated more than once: INC-1 ×2/);
      twice.messages[3] = { ...twice.messages[3]!, answerLost: true };
      expect(judgeReminders(twice).violations).toEqual([]);
      const many = observations();
      // Two of INC-1 and nine of another: eleven in the hour.
      many.incidents.push({ id: B, key: "INC-77", appearedAt: 0, createdAt: 0, severity: "High" });
      many.messages.push(card(ALICE, 11, 1_000, [B]));
      for (let i = 0; i < CAP_PER_HOUR - 1; i++)
        many.messages.push(
          reminder(ALICE, 100_000 + i * 1_000, { key: "INC-77", replyTo: 11, d: `${100 + i * 20} s` }),
        );
      expect(judgeReminders(many).violations.join("\n")).toMatch(
        /more than 10 reminder messages an hour: chat 4242: 11/,
      );
      expect(judgeReminders({ ...many, processEnds: [105_000] }).violations.join("\n")).not.toMatch(
        /an hour/,
      );
    });

    it("flags a reminder before its time, below the severity, outside the chats with the card, or replying elsewhere", () => {
      const early = observations();
      early.messages[1] = reminder(ALICE, 15_000);
      expect(judgeReminders(early).violations.join("\n")).toMatch(
        /before they were due: INC-1 in chat 4242 at \+15000 ms/,
      );
      const low = observations();
      low.incidents = [{ ...low.incidents[0]!, severity: "Low" }];
      const text = judgeReminders(low).violations.join("\n");
      expect(text).toMatch(/below the policy's severity: the escalation of INC-1 \(Low\)/);
      low.settings = { ...low.settings, minSeverity: "medium" };
      expect(judgeReminders(low).violations.join("\n")).toMatch(
        /below the policy's severity: INC-1 \(Low\) in chat 4242/,
      );
      const elsewhere = observations();
      elsewhere.messages.push(reminder(GROUP, 22_000));
      expect(judgeReminders(elsewhere).violations.join("\n")).toMatch(
        /wrong place: INC-1 in chat -4070001 at \+22000 ms, which has no card/,
      );
      const wrongReply = observations();
      wrongReply.messages[1] = reminder(ALICE, 21_500, { replyTo: 99 });
      expect(judgeReminders(wrongReply).violations.join("\n")).toMatch(/replies to 99, not to a card of it/);
    });

    it("flags a reminder sent well after an accepted Snooze or under a mute that surely ran", () => {
      const snoozed = observations({
        snoozes: [{ incidentId: A, at: 5_000, allowed: "yes", accepted: true }],
      });
      expect(judgeReminders(snoozed).violations.join("\n")).toMatch(
        /should have held: INC-1 in chat 4242 at \+21500 ms, snoozed at \+5000 ms/,
      );
      const refused = observations({
        snoozes: [{ incidentId: A, at: 5_000, allowed: "yes", accepted: false }],
      });
      expect(judgeReminders(refused).violations).toEqual([]);
      // The escalation (due at +41 s) came at +60 s: held by a Snooze at +30 s it should not have come; after
      // a Snooze at +45 s it may (queued before the press, it still goes out, as a page already sent does).
      const late = (at: number) =>
        observations({
          messages: [card(ALICE, 10, 1_000), escalation(60_000)],
          snoozes: [{ incidentId: A, at, allowed: "yes", accepted: true }],
        });
      expect(judgeReminders(late(30_000)).violations.join("\n")).toMatch(
        /the escalation of INC-1 at \+60000 ms, snoozed at \+30000 ms/,
      );
      expect(judgeReminders(late(45_000)).violations.join("\n")).not.toMatch(/the escalation of INC-1/);
      const muted = observations({
        surelyMuted: (chatId) => (chatId === ALICE ? [{ from: 30_000, to: 90_000, text: "/mute 60s" }] : []),
      });
      expect(judgeReminders(muted).violations.join("\n")).toMatch(
        /INC-1 in chat 4242 at \+41600 ms under \/mute 60s/,
      );
    });
  });

  it("deadline: base after the start, pushed past every stretch it runs into", () => {
    expect(deadline(10, 5, [])).toBe(15);
    expect(deadline(10, 5, [{ from: 12, to: 30 }])).toBe(35);
    expect(
      deadline(10, 5, [
        { from: 12, to: 30 },
        { from: 33, to: 40 },
      ]),
    ).toBe(45);
    expect(deadline(10, 5, [{ from: 16, to: 30 }])).toBe(15);
    expect(deadline(10, 5, [{ from: 0, to: 8 }])).toBe(15);
  });
});
