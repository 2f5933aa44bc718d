// The workflow verdict must catch what it is there to catch: a transition or an assignment for someone
// not allowed, one nobody pressed for, and a press left unanswered — with hand-made traces.
import { describe, expect, it } from "vitest";
import {
  type ApiTransition,
  judgeWorkflow,
  namedUser,
  type PressRecord,
  type UpdateCall,
  type WorkflowObservations,
} from "./check-workflow.js";

const INC = "aaaaaaaa-0000-4000-8000-000000000001";
const ALICE = 4242;
const CAROL = 4545;
const GROUP = -4_070_001;
const MP_ALICE = "11111111-2222-4333-8444-555555555555";

function press(over: Partial<PressRecord> = {}): PressRecord {
  return {
    callbackId: "cb1",
    at: 1_000,
    userId: ALICE,
    chatId: GROUP,
    messageId: 7,
    incidentId: INC,
    action: "take",
    allowed: "yes",
    ...over,
  };
}

function transition(over: Partial<ApiTransition> = {}): ApiTransition {
  return {
    incidentId: INC,
    key: "INC-1",
    at: 1_400,
    prevStatus: "New",
    nextStatus: "InProgress",
    comment: `Incident taken by @alice (Alice, ${ALICE}) through the Telegram bot.`,
    ...over,
  };
}

function put(over: Partial<UpdateCall> = {}): UpdateCall {
  return { incidentId: INC, key: "INC-1", at: 1_600, assigned: MP_ALICE, status: 204, ...over };
}

function observations(over: Partial<WorkflowObservations> = {}): WorkflowObservations {
  return {
    presses: [press()],
    answered: new Set(["cb1"]),
    transitions: [transition()],
    updates: [put()],
    links: [{ userId: ALICE, mpUserId: MP_ALICE, at: 500 }],
    processEnds: [],
    ...over,
  };
}

describe("workflow verdict", () => {
  it("passes an allowed, linked Take with its assignment, answered", () => {
    const v = judgeWorkflow(observations());
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ presses: 1, strangerPresses: 0, assignments: 1, answered: 1 });
    expect(v.transitions).toEqual({ InProgress: 1 });
  });

  it("counts transitions that went back (made on a lagging read), without calling them violations", () => {
    const v = judgeWorkflow(
      observations({
        transitions: [transition({ prevStatus: "Closed" }), transition({ prevStatus: "Approved" })],
      }),
    );
    expect(v.backward).toBe(1);
    expect(v.violations).toEqual([]);
  });

  it("reads the Telegram user from a comment, with or without a username", () => {
    expect(namedUser("Incident closed by @carol (Carol, 4545) through the Telegram bot. Reason: test")).toBe(
      4545,
    );
    expect(namedUser("Incident approved by Ivan Petrov (42) via the Telegram bot.")).toBe(42);
    expect(namedUser("changed in the SIEM UI (chaos run)")).toBeNull();
    expect(namedUser(null)).toBeNull();
  });

  it("reports a transition made for a stranger who pressed", () => {
    const v = judgeWorkflow(
      observations({
        presses: [press({ userId: CAROL, allowed: "no" })],
        transitions: [
          transition({ comment: `Incident taken by @carol (Carol, ${CAROL}) through the Telegram bot.` }),
        ],
        updates: [],
      }),
    );
    expect(v.strangerPresses).toBe(1);
    expect(v.violations).toEqual([expect.stringContaining(`made for user ${CAROL}, who was not allowed`)]);
  });

  it("accepts a transition for someone who may or may not have counted as allowed (Bob while blocked)", () => {
    const v = judgeWorkflow(observations({ presses: [press({ allowed: "maybe" })] }));
    expect(v.violations).toEqual([]);
  });

  it("reports a transition nobody pressed for: another action, another incident, or pressed only after it", () => {
    for (const p of [
      press({ action: "resolve" }),
      press({ incidentId: "bbbbbbbb-0000-4000-8000-000000000002" }),
      press({ at: 5_000 }),
    ]) {
      const v = judgeWorkflow(observations({ presses: [p], answered: new Set(["cb1"]) }));
      expect(v.violations, JSON.stringify(p)).toContainEqual(
        expect.stringContaining(`names user ${ALICE}, who pressed no such button`),
      );
    }
  });

  it("reports a transition through the API that names nobody", () => {
    const v = judgeWorkflow(observations({ transitions: [transition({ comment: "done" })], updates: [] }));
    expect(v.violations).toEqual([expect.stringContaining("names no Telegram user")]);
  });

  it("takes each Close reason as a press for Closed, and Cancel as none", () => {
    const closed = transition({
      nextStatus: "Closed",
      comment: `Incident closed by @alice (Alice, ${ALICE}) through the Telegram bot.`,
    });
    for (const action of ["close_yes", "close_duplicate", "close_authorised", "close_other"]) {
      const v = judgeWorkflow(
        observations({ presses: [press({ action })], transitions: [closed], updates: [] }),
      );
      expect(v.violations, action).toEqual([]);
    }
    const cancelled = judgeWorkflow(
      observations({
        presses: [press({ action: "close" }), press({ action: "close_no", callbackId: "cb2" })],
        answered: new Set(["cb1", "cb2"]),
        transitions: [closed],
        updates: [],
      }),
    );
    expect(cancelled.violations).toEqual([expect.stringContaining("pressed no such button")]);
  });

  it("reports an assignment to an account nobody was linked to, or linked only later", () => {
    const other = judgeWorkflow(
      observations({ updates: [put({ assigned: "99999999-0000-4000-8000-000000000000" })] }),
    );
    expect(other.violations).toEqual([expect.stringContaining("assigns nobody linked")]);
    const early = judgeWorkflow(observations({ links: [{ userId: ALICE, mpUserId: MP_ALICE, at: 9_000 }] }));
    expect(early.violations).toEqual([expect.stringContaining("assigns nobody linked")]);
  });

  it("reports an assignment with no Take through the bot by the linked user before it (a stranger's Take)", () => {
    const v = judgeWorkflow(
      observations({
        presses: [press({ userId: CAROL, allowed: "no" })],
        transitions: [],
        updates: [put()],
      }),
    );
    expect(v.violations).toEqual([
      expect.stringContaining("follows no Take through the bot by the linked user"),
    ]);
    const otherTaker = judgeWorkflow(
      observations({
        presses: [press({ userId: 4343 })],
        transitions: [
          transition({ comment: "Incident taken by @bob (Bob, 4343) through the Telegram bot." }),
        ],
      }),
    );
    expect(otherTaker.violations).toEqual([expect.stringContaining("follows no Take")]);
  });

  it("reports a press never answered, unless a process was ended soon after it", () => {
    const lost = judgeWorkflow(observations({ answered: new Set() }));
    expect(lost.violations).toEqual([expect.stringContaining("1 presses were never answered: take by 4242")]);
    const killed = judgeWorkflow(observations({ answered: new Set(), processEnds: [{ at: 3_000 }] }));
    expect(killed.violations).toEqual([]);
    expect(killed.unansweredAfterKill).toBe(1);
    const longBefore = judgeWorkflow(observations({ answered: new Set(), processEnds: [{ at: -5_000 }] }));
    expect(longBefore.violations).toHaveLength(1);
  });
});
