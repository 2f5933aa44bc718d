// The chaos verdict must catch what it is there to catch: a zero-violation chaos run means
// something only if these cases are reported.
import { describe, expect, it } from "vitest";
import {
  type CallRecord,
  type ChatGroup,
  type IncidentRecord,
  type InstanceRecord,
  judge,
  MAX_CONFLICTS_PER_TAKEOVER,
  type MessageRecord,
  type Observations,
  retryAfterBreaches,
  type TermRecord,
} from "./check.js";

const A: IncidentRecord = { id: "aaaaaaaa-0000-4000-8000-000000000001", key: "INC-1", appearedAt: 100 };
const B: IncidentRecord = { id: "bbbbbbbb-0000-4000-8000-000000000002", key: "INC-2", appearedAt: 200 };
const CHAT = 42;
const status = (s: string) => `Status: ${s}`;

function message(partial: Partial<MessageRecord> & Pick<MessageRecord, "messageId" | "at">): MessageRecord {
  const ids = partial.sentIds ?? [A.id];
  return {
    chatId: CHAT,
    instance: 0,
    sentIds: ids,
    currentIds: ids,
    digest: false,
    statusLine: status("New"),
    answerLost: false,
    ...partial,
  };
}

const killedFirst: InstanceRecord[] = [
  { index: 0, startedAt: 0, endedAt: 1_000, endedBy: "SIGKILL", exitCode: null, signal: "SIGKILL" },
  { index: 1, startedAt: 1_500, endedAt: null, endedBy: null, exitCode: null, signal: null },
];

function observations(over: Partial<Observations> = {}): Observations {
  const group: ChatGroup = { name: "chat", chatIds: [CHAT], duty: () => "owed", editableChatIds: [CHAT] };
  return {
    incidents: [A],
    messages: [message({ messageId: 1, at: 500 })],
    instances: killedFirst,
    groups: [group],
    siemStatus: new Map([
      [A.id, "New"],
      [B.id, "New"],
    ]),
    expectedStatusLine: status,
    retryAfterBreaches: [],
    ...over,
  };
}

describe("chaos verdict", () => {
  it("passes a clean run: every owed incident once, status current", () => {
    const verdict = judge(observations());
    expect(verdict.violations).toEqual([]);
    expect(verdict.delivered).toBe(1);
    expect(verdict.singles).toBe(1);
  });

  it("reports an owed incident that never arrived", () => {
    const verdict = judge(observations({ incidents: [A, B] }));
    expect(verdict.missing).toBe(1);
    expect(verdict.violations.join("\n")).toContain("INC-2");
  });

  it("accepts a repeat of the last message a killed process sent to the chat", () => {
    const verdict = judge(
      observations({
        messages: [message({ messageId: 1, at: 900 }), message({ messageId: 2, at: 2_000, instance: 1 })],
      }),
    );
    expect(verdict.violations).toEqual([]);
    expect(verdict.repeats).toEqual([
      { group: "chat", incidentKey: "INC-1", cause: "kill", instance: 0, chatId: CHAT, orphan: `${CHAT}:1` },
    ]);
  });

  it("rejects a repeat no kill explains: same process, or not the last message before the kill", () => {
    const sameProcess = judge(
      observations({ messages: [message({ messageId: 1, at: 500 }), message({ messageId: 2, at: 700 })] }),
    );
    expect(sameProcess.violations.join("\n")).toContain("repeats no kill or lost answer explains: INC-1 ×2");

    const notLast = judge(
      observations({
        incidents: [A, B],
        messages: [
          message({ messageId: 1, at: 500 }),
          message({ messageId: 2, at: 600, sentIds: [B.id] }),
          message({ messageId: 3, at: 2_000, instance: 1 }),
        ],
      }),
    );
    expect(notLast.violations.join("\n")).toContain(
      "the kill of process #0 repeated INC-1 in chat 42 from a message that was not the last it sent there",
    );

    const gracefulStop: InstanceRecord[] = [
      { ...killedFirst[0]!, endedBy: "SIGTERM", exitCode: 0, signal: null },
      killedFirst[1]!,
    ];
    const afterCleanStop = judge(
      observations({
        instances: gracefulStop,
        messages: [message({ messageId: 1, at: 900 }), message({ messageId: 2, at: 2_000, instance: 1 })],
      }),
    );
    expect(afterCleanStop.violations.join("\n")).toContain("INC-1 ×2");
  });

  it("accepts one repeat per chat per kill, in every chat at once (one send window per chat)", () => {
    const OTHER = 43;
    const owes = (name: string, chatId: number): ChatGroup => ({
      name,
      chatIds: [chatId],
      duty: () => "owed",
      editableChatIds: [],
    });
    const verdict = judge(
      observations({
        incidents: [A, B],
        groups: [owes("chat", CHAT), owes("other", OTHER)],
        messages: [
          // process #0 is killed with one message in flight in each chat: B here, A there
          message({ messageId: 1, at: 800 }),
          message({ messageId: 2, at: 900, sentIds: [B.id] }),
          message({ messageId: 1, at: 850, chatId: OTHER }),
          message({ messageId: 3, at: 2_000, instance: 1, sentIds: [B.id] }),
          message({ messageId: 2, at: 2_010, chatId: OTHER, instance: 1 }),
          message({ messageId: 3, at: 2_020, chatId: OTHER, instance: 1, sentIds: [B.id] }),
        ],
      }),
    );
    expect(verdict.violations).toEqual([]);
    expect(verdict.killRepeats).toEqual([
      { instance: 0, chatId: CHAT, orphans: [`${CHAT}:2`] },
      { instance: 0, chatId: OTHER, orphans: [`${OTHER}:1`] },
    ]);
  });

  it("rejects a second message repeated in one chat after one kill, but allows one per kill", () => {
    const twice = judge(
      observations({
        incidents: [A, B],
        messages: [
          message({ messageId: 1, at: 800 }),
          message({ messageId: 2, at: 900, sentIds: [B.id] }),
          message({ messageId: 3, at: 2_000, instance: 1 }),
          message({ messageId: 4, at: 2_100, instance: 1, sentIds: [B.id] }),
        ],
      }),
    );
    expect(twice.violations.join("\n")).toContain(
      "the kill of process #0 repeated 2 messages in chat 42 (INC-1, INC-2); at most one per chat per kill",
    );

    // Two kills, each with its own message in flight in the chat: one repeat each.
    const killedTwice: InstanceRecord[] = [
      killedFirst[0]!,
      { index: 1, startedAt: 1_500, endedAt: 2_500, endedBy: "SIGKILL", exitCode: null, signal: "SIGKILL" },
      { index: 2, startedAt: 3_000, endedAt: null, endedBy: null, exitCode: null, signal: null },
    ];
    const perKill = judge(
      observations({
        incidents: [A, B],
        instances: killedTwice,
        messages: [
          message({ messageId: 1, at: 900 }),
          message({ messageId: 2, at: 2_000, instance: 1 }),
          message({ messageId: 3, at: 2_400, instance: 1, sentIds: [B.id] }),
          message({ messageId: 4, at: 3_100, instance: 2, sentIds: [B.id] }),
        ],
      }),
    );
    expect(perKill.violations).toEqual([]);
    expect(perKill.killRepeats.map((k) => [k.instance, k.orphans.length])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it("accepts a repeat after a lost answer (the send took effect, its reply never came)", () => {
    const verdict = judge(
      observations({
        messages: [message({ messageId: 1, at: 500, answerLost: true }), message({ messageId: 2, at: 700 })],
      }),
    );
    expect(verdict.violations).toEqual([]);
    expect(verdict.repeats[0]?.cause).toBe("lost answer");
  });

  it("reports a single message whose status is not the SIEM's, but not a digest", () => {
    const stale = judge(observations({ siemStatus: new Map([[A.id, "Closed"]]) }));
    expect(stale.staleStatus).toBe(1);
    expect(stale.violations.join("\n")).toContain('shows "Status: New" but the SIEM says "Status: Closed"');

    const digest = judge(
      observations({
        siemStatus: new Map([[A.id, "Closed"]]),
        messages: [message({ messageId: 1, at: 500, digest: true, statusLine: null })],
      }),
    );
    expect(digest.violations).toEqual([]);
    expect(digest.digests).toBe(1);
  });

  it("reports an edit that turned one incident's message into another's", () => {
    const verdict = judge(
      observations({
        incidents: [A, B],
        messages: [
          message({ messageId: 1, at: 500, currentIds: [B.id] }),
          message({ messageId: 2, at: 600, sentIds: [B.id] }),
        ],
      }),
    );
    expect(verdict.violations.join("\n")).toContain("was sent for INC-1 but now shows INC-2");
  });

  it("reports incidents in a chat that does not receive them, and ones a chat must not get", () => {
    const stray = judge(observations({ messages: [message({ messageId: 1, at: 500, chatId: 7 })] }));
    expect(stray.violations.join("\n")).toContain("incidents sent to chats that do not receive them");

    const never = judge(
      observations({
        groups: [{ name: "blocked", chatIds: [CHAT], duty: () => "never", editableChatIds: [] }],
      }),
    );
    expect(never.violations.join("\n")).toContain("blocked: got incidents it must not: INC-1");
  });

  it("reports requests inside a retry_after window and a process that exited by itself", () => {
    const verdict = judge(
      observations({
        retryAfterBreaches: [{ method: "sendMessage", chatId: CHAT, at: 1_234, excused: false }],
        instances: [{ index: 0, startedAt: 0, endedAt: 800, endedBy: "self", exitCode: 1, signal: null }],
      }),
    );
    const text = verdict.violations.join("\n");
    expect(text).toContain("sendMessage to chat 42 inside a retry_after window at +1234 ms");
    expect(text).toContain("service process #0 exited by itself (code 1, signal null)");
  });

  it("excuses a request inside a retry_after window only when the 429 that opened it never reached the service", () => {
    const call = (over: Partial<CallRecord>): CallRecord => ({
      at: 0,
      method: "sendMessage",
      chatId: CHAT,
      errorCode: null,
      retryAfter: null,
      answerLost: false,
      duringRetryAfter: false,
      ...over,
    });
    // A 429 the service got, then a request 2 s into its 5 s window: a violation.
    const ignored = retryAfterBreaches([
      call({ at: 1_000, errorCode: 429, retryAfter: 5 }),
      call({ at: 3_000, duringRetryAfter: true, errorCode: 429, retryAfter: 3 }),
    ]);
    expect(ignored).toEqual([{ method: "sendMessage", chatId: CHAT, at: 3_000, excused: false }]);
    // The answer of the call that opened the window was lost: nobody could have honoured it.
    const lost = retryAfterBreaches([
      call({ at: 1_000, answerLost: true }),
      call({ at: 3_000, duringRetryAfter: true, errorCode: 429, retryAfter: 3 }),
      call({ at: 4_000, duringRetryAfter: true, errorCode: 429, retryAfter: 2 }),
    ]);
    expect(lost.map((b) => b.excused)).toEqual([true, false]);
    // A lost answer in another chat explains nothing here.
    const elsewhere = retryAfterBreaches([
      call({ at: 1_000, answerLost: true, chatId: 7 }),
      call({ at: 3_000, duringRetryAfter: true }),
    ]);
    expect(elsewhere[0]?.excused).toBe(false);
    expect(judge(observations({ retryAfterBreaches: lost })).violations).toEqual([
      "sendMessage to chat 42 inside a retry_after window at +4000 ms",
    ]);
  });

  describe("several instances: leaders' terms", () => {
    // Processes 0 and 1 run side by side (slots a and b); 0 leads first and loses its lease at 1 000
    // (its database connection ended), 1 takes over at 1 200 and is killed at 3 000, 0 leads again.
    const bothRunning: InstanceRecord[] = [
      { index: 0, slot: "a", startedAt: 0, endedAt: null, endedBy: null, exitCode: null, signal: null },
      {
        index: 1,
        slot: "b",
        startedAt: 100,
        endedAt: 3_000,
        endedBy: "SIGKILL",
        exitCode: null,
        signal: "SIGKILL",
      },
    ];
    const terms: TermRecord[] = [
      { instance: 0, epoch: 1, startedAt: 50, endedAt: 1_000, endedBy: "lost" },
      { instance: 1, epoch: 2, startedAt: 1_200, endedAt: 3_000, endedBy: "killed" },
      { instance: 0, epoch: 3, startedAt: 3_500, endedAt: null, endedBy: null },
    ];
    const call = (over: Partial<CallRecord>): CallRecord => ({
      at: 0,
      method: "sendMessage",
      chatId: CHAT,
      errorCode: null,
      retryAfter: null,
      answerLost: false,
      duringRetryAfter: false,
      instance: 0,
      ...over,
    });
    const withTerms = (over: Partial<Observations>) =>
      observations({ instances: bothRunning, terms, calls: [], ...over });

    it("accepts a repeat of the last message a term sent before its lease was lost, by the next leader or by itself later", () => {
      const byOther = judge(
        withTerms({
          messages: [message({ messageId: 1, at: 900 }), message({ messageId: 2, at: 1_300, instance: 1 })],
        }),
      );
      expect(byOther.violations).toEqual([]);
      expect(byOther.repeats).toEqual([
        {
          group: "chat",
          incidentKey: "INC-1",
          cause: "lost lease",
          instance: 0,
          epoch: 1,
          chatId: CHAT,
          orphan: `${CHAT}:1`,
        },
      ]);
      expect(byOther.killRepeats).toEqual([
        { instance: 0, epoch: 1, endedBy: "lost", chatId: CHAT, orphans: [`${CHAT}:1`] },
      ]);
      // Process #1 is killed with B in flight; process #0, leading again, sends B once more.
      const bySelfLater = judge(
        withTerms({
          incidents: [A, B],
          messages: [
            message({ messageId: 1, at: 900 }),
            message({ messageId: 2, at: 2_900, instance: 1, sentIds: [B.id] }),
            message({ messageId: 3, at: 3_600, instance: 0, sentIds: [B.id] }),
          ],
        }),
      );
      expect(bySelfLater.violations).toEqual([]);
      expect(bySelfLater.repeats.map((r) => [r.cause, r.instance, r.epoch])).toEqual([["kill", 1, 2]]);
    });

    it("rejects two messages repeated in a chat after one lost lease, and a repeat after a graceful stop", () => {
      const twice = judge(
        withTerms({
          incidents: [A, B],
          messages: [
            message({ messageId: 1, at: 800 }),
            message({ messageId: 2, at: 900, sentIds: [B.id] }),
            message({ messageId: 3, at: 1_300, instance: 1 }),
            message({ messageId: 4, at: 1_400, instance: 1, sentIds: [B.id] }),
          ],
        }),
      );
      expect(twice.violations.join("\n")).toContain(
        "the lost lease of process #0 (epoch 1) repeated 2 messages in chat 42 (INC-1, INC-2); at most one per chat per kill",
      );
      const stopped = judge(
        withTerms({
          terms: [{ ...terms[0]!, endedBy: "stopped" }, ...terms.slice(1)],
          messages: [message({ messageId: 1, at: 900 }), message({ messageId: 2, at: 1_300, instance: 1 })],
        }),
      );
      expect(stopped.violations.join("\n")).toContain(
        "repeats no kill, lost lease or lost answer explains: INC-1 ×2",
      );
    });

    it("rejects Telegram calls by a process that does not lead, and by an old leader once a newer term began", () => {
      const verdict = judge(
        withTerms({
          calls: [
            call({ at: 500 }),
            call({ at: 600, instance: 1, method: "getUpdates" }),
            call({ at: 1_100 }), // after the loss, before anyone else leads: harmless
            call({ at: 1_250, instance: 1 }),
            call({ at: 1_300, method: "editMessageText" }),
          ],
        }),
      );
      const text = verdict.violations.join("\n");
      expect(text).toContain(
        "Telegram calls by a process that did not lead: getUpdates by process #1 at +600 ms",
      );
      expect(text).toContain(
        "two leaders called Telegram at once: editMessageText by process #0 (epoch 1) at +1300 ms, after process #1 began epoch 2 at +1200 ms",
      );
      expect(verdict.leadership).toEqual({
        takeovers: 2,
        conflicts: 0,
        conflictsPerTakeoverMax: 0,
        overlapping: 1,
      });
    });

    it(`allows at most ${MAX_CONFLICTS_PER_TAKEOVER} getUpdates 409s right around a takeover, none elsewhere`, () => {
      const poll = (at: number, instance: number, conflict = false) =>
        call({ at, instance, method: "getUpdates", chatId: null, errorCode: conflict ? 409 : null });
      // The old leader's open poll and its straggler meet the new leader's first two polls.
      const around = judge(
        withTerms({
          calls: [poll(400, 0, true), poll(1_210, 1, true), poll(1_220, 0, true), poll(1_230, 1)],
        }),
      );
      expect(around.violations.join("\n")).toContain(
        "3 getUpdates 409s around the start of epoch 2 (process #1, +1200 ms); at most 2 per takeover",
      );
      const fine = judge(withTerms({ calls: [poll(900, 0, true), poll(1_210, 1, true), poll(1_230, 1)] }));
      expect(fine.violations).toEqual([]);
      expect(fine.leadership?.conflicts).toBe(2);
      expect(fine.leadership?.conflictsPerTakeoverMax).toBe(2);
      const late = judge(withTerms({ calls: [poll(3_900, 0, true), poll(20_000, 0)] }));
      expect(late.violations.join("\n")).toContain(
        "getUpdates answered 409 away from any takeover: +20000 ms",
      );
    });
  });

  describe("digests and /inc cards (issue 14)", () => {
    const digest = (marks: Record<string, string>, over: Partial<MessageRecord> = {}) =>
      message({
        messageId: 1,
        at: 500,
        sentIds: [A.id, B.id],
        digest: true,
        statusLine: null,
        digestMarks: marks,
        ...over,
      });

    it("passes a digest whose every line shows the SIEM's status mark (none for New)", () => {
      const verdict = judge(
        observations({
          incidents: [A, B],
          messages: [digest({ [A.id]: "✅", [B.id]: "" })],
          siemStatus: new Map([
            [A.id, "Approved"],
            [B.id, "New"],
          ]),
        }),
      );
      expect(verdict.violations).toEqual([]);
    });

    it("reports a digest line whose mark is stale, missing, or shown for New", () => {
      const siemStatus = new Map([
        [A.id, "Closed"],
        [B.id, "New"],
      ]);
      const stale = judge(
        observations({ incidents: [A, B], messages: [digest({ [A.id]: "🛠", [B.id]: "" })], siemStatus }),
      );
      expect(stale.staleStatus).toBe(1);
      expect(stale.violations).toEqual([
        `chat: INC-1's line in digest 1 (chat ${CHAT}) shows "🛠" but the SIEM says Closed ("✖️")`,
      ]);
      const unmarked = judge(
        observations({ incidents: [A, B], messages: [digest({ [A.id]: "", [B.id]: "✔️" })], siemStatus }),
      );
      expect(unmarked.staleStatus).toBe(2);
      expect(unmarked.violations.join("\n")).toContain('shows "no mark" but the SIEM says Closed');
      expect(unmarked.violations.join("\n")).toContain(
        'INC-2\'s line in digest 1 (chat 42) shows "✔️" but the SIEM says New ("no mark")',
      );
      const noLine = judge(
        observations({ incidents: [A, B], messages: [digest({ [B.id]: "" })], siemStatus }),
      );
      expect(noLine.violations).toEqual([
        expect.stringContaining("INC-1's line in digest 1 (chat 42) shows no line"),
      ]);
    });

    it("judges only the newest copy in a chat the bot can edit", () => {
      const siemStatus = new Map([
        [A.id, "Resolved"],
        [B.id, "New"],
      ]);
      // An older digest stays as it was once a single card follows (after a kill): the card is the tracked one.
      const fine = judge(
        observations({
          incidents: [A],
          messages: [
            digest({ [A.id]: "" }, { sentIds: [A.id] }),
            message({ messageId: 2, at: 1_600, instance: 1, statusLine: status("Resolved") }),
          ],
          instances: killedFirst,
          siemStatus,
        }),
      );
      expect(fine.violations).toEqual([]);
      const group: ChatGroup = { name: "chat", chatIds: [CHAT], duty: () => "owed", editableChatIds: [] };
      const blocked = judge(
        observations({
          incidents: [A],
          messages: [digest({ [A.id]: "" }, { sentIds: [A.id] })],
          groups: [group],
          siemStatus,
        }),
      );
      expect(blocked.violations).toEqual([]);
    });

    const ADMIN_CHAT = 9001;
    const card = (over: Partial<MessageRecord>) =>
      message({ chatId: ADMIN_CHAT, messageId: 10, at: 600, ...over });

    it("takes /inc cards in a lookup chat as no strays, and reports the newest one showing a stale status", () => {
      const siemStatus = new Map([[A.id, "InProgress"]]);
      const base = { incidents: [A], siemStatus, lookupChatIds: [ADMIN_CHAT] };
      const current = judge(
        observations({
          ...base,
          messages: [
            message({ messageId: 1, at: 500, statusLine: status("InProgress") }),
            card({ statusLine: status("New"), messageId: 10, at: 600 }),
            card({ statusLine: status("InProgress"), messageId: 11, at: 700 }),
          ],
        }),
      );
      expect(current.violations).toEqual([]);
      const stale = judge(
        observations({
          ...base,
          messages: [
            message({ messageId: 1, at: 500, statusLine: status("InProgress") }),
            card({ statusLine: status("Approved") }),
          ],
        }),
      );
      expect(stale.staleStatus).toBe(1);
      expect(stale.violations).toEqual([
        `cards /inc sent to chat ${ADMIN_CHAT}: INC-1 shows "Status: Approved" but the SIEM says "Status: InProgress"`,
      ]);
      // A card whose answer was lost: the bot never learnt its id and cannot edit it.
      const lost = judge(
        observations({
          ...base,
          messages: [
            message({ messageId: 1, at: 500, statusLine: status("InProgress") }),
            card({ statusLine: status("New"), answerLost: true }),
          ],
        }),
      );
      expect(lost.violations).toEqual([]);
      // Without the lookup chat, the same card is a stray.
      const stray = judge(
        observations({
          incidents: [A],
          siemStatus,
          messages: [message({ messageId: 1, at: 500, statusLine: status("InProgress") }), card({})],
        }),
      );
      expect(stray.violations.join("\n")).toContain("incidents sent to chats that do not receive them");
    });
  });
});
