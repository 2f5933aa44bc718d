// The workflow's part of the chaos verdict (issue 14), pure like check.ts: presses of Approve, Take,
// Resolve and Close from several people race with status changes in the SIEM UI. Judged from the
// emulator's own records, not from what the bot says it did:
// - every transition made through the API names, in its comment, a Telegram user who pressed that very
//   button on that incident before it, and who was allowed to press then (design.md §4, BOT_ACTION_POLICY);
//   a stranger's press makes no transition;
// - every assignment (PUT /api/incidents/{id}) follows a Take through the bot by a user linked to the MP
//   account it assigns, so no press of someone not allowed (or not linked) assigns anything;
// - every press is answered (answerCallbackQuery), unless a kill ended the process that had it first.

/** Whether a person could act on incidents when they pressed: "maybe" while the service may not know yet. */
export type Allowed = "yes" | "no" | "maybe";

export interface PressRecord {
  callbackId: string;
  /** Runner clock, ms. */
  at: number;
  userId: number;
  chatId: number;
  messageId: number;
  incidentId: string;
  /** The action of the button's payload (approve, take, resolve, close, close_yes, …, close_no). */
  action: string;
  allowed: Allowed;
}

/** One status change through the API (the emulator's history, via "api"). */
export interface ApiTransition {
  incidentId: string;
  key: string;
  /** Runner clock, ms. */
  at: number;
  prevStatus: string;
  nextStatus: string;
  comment: string | null;
}

/** One PUT /api/incidents/{id} as the emulator recorded it. */
export interface UpdateCall {
  incidentId: string;
  key: string | null;
  at: number;
  /** The `assigned` of its body (undefined: the body had none). */
  assigned: string | null | undefined;
  status: number;
}

/** An admin's /link: from `at` on (runner clock), Take by `userId` may assign `mpUserId`. */
export interface LinkRecord {
  userId: number;
  mpUserId: string;
  at: number;
}

/** A process end the run caused (a kill, or a graceful stop that may have cut a press short). */
export interface ProcessEnd {
  at: number;
}

export interface WorkflowObservations {
  presses: PressRecord[];
  /** Callback query ids the fake saw answered. */
  answered: ReadonlySet<string>;
  transitions: ApiTransition[];
  updates: UpdateCall[];
  links: LinkRecord[];
  /** When service processes were ended by the run (its kills, and graceful stops under faults). */
  processEnds: ProcessEnd[];
}

export interface WorkflowVerdict {
  violations: string[];
  presses: number;
  /** Presses by someone not allowed then. */
  strangerPresses: number;
  /** Transitions through the bot, by target status. */
  transitions: Record<string, number>;
  /**
   * Transitions through the bot that went back (Closed → InProgress, …): made on a read the SIEM's read
   * model had not caught up with. Not violations — the bot cannot see past the lag — but worth knowing.
   */
  backward: number;
  /** PUTs that assigned (204). */
  assignments: number;
  answered: number;
  /** Presses left unanswered because a kill came before the answer (not violations). */
  unansweredAfterKill: number;
}

/** Which presses can make a transition to a status. */
const ORDER = ["New", "Approved", "InProgress", "Resolved", "Closed"];

const PRESSES_FOR: Readonly<Record<string, readonly string[]>> = {
  Approved: ["approve"],
  InProgress: ["take"],
  Resolved: ["resolve"],
  Closed: ["close_yes", "close_duplicate", "close_authorised", "close_other"],
};

/** A press answered later than this (its process killed meanwhile) is excused; Telegram waits no longer. */
export const ANSWER_WITHIN_MS = 30_000;
/** Clocks: the emulator stamps its records with the wall clock, whole milliseconds; allow a little skew. */
const CLOCK_SKEW_MS = 1_000;
/** A PUT follows its Take within this time (the users query and the details read come between). */
const ASSIGN_WITHIN_MS = 60_000;

/** The Telegram user a transition's comment names: "… by @alice (Alice, 4242) through …" or "Alice (4242)". */
export function namedUser(comment: string | null): number | null {
  const m = comment === null ? null : /\((?:[^()]*, )?(\d{1,16})\)/.exec(comment);
  return m ? Number(m[1]) : null;
}

export function judgeWorkflow(obs: WorkflowObservations): WorkflowVerdict {
  const violations: string[] = [];
  const transitions: Record<string, number> = {};
  let backward = 0;

  for (const t of obs.transitions) {
    transitions[t.nextStatus] = (transitions[t.nextStatus] ?? 0) + 1;
    if (ORDER.indexOf(t.nextStatus) <= ORDER.indexOf(t.prevStatus)) backward++;
    const what = `${t.key} ${t.prevStatus} → ${t.nextStatus} at +${t.at} ms`;
    const userId = namedUser(t.comment);
    if (userId === null) {
      violations.push(`${what} through the API names no Telegram user: ${JSON.stringify(t.comment)}`);
      continue;
    }
    const actions = PRESSES_FOR[t.nextStatus] ?? [];
    const presses = obs.presses.filter(
      (p) =>
        p.userId === userId &&
        p.incidentId === t.incidentId &&
        actions.includes(p.action) &&
        p.at <= t.at + CLOCK_SKEW_MS,
    );
    if (presses.length === 0) {
      violations.push(`${what} names user ${userId}, who pressed no such button on it before`);
    } else if (presses.every((p) => p.allowed === "no")) {
      violations.push(
        `${what} was made for user ${userId}, who was not allowed to act (pressed at +${presses.map((p) => p.at).join(", +")} ms)`,
      );
    }
  }

  let assignments = 0;
  for (const u of obs.updates) {
    if (u.status === 204) assignments++;
    const what = `PUT of ${u.key ?? u.incidentId} at +${u.at} ms (assigned ${JSON.stringify(u.assigned)})`;
    const linked = obs.links.filter((l) => l.at <= u.at + CLOCK_SKEW_MS && l.mpUserId === u.assigned);
    if (linked.length === 0) {
      violations.push(`${what} assigns nobody linked to that MP account`);
      continue;
    }
    const take = obs.transitions.find(
      (t) =>
        t.incidentId === u.incidentId &&
        t.nextStatus === "InProgress" &&
        t.at <= u.at + CLOCK_SKEW_MS &&
        t.at >= u.at - ASSIGN_WITHIN_MS &&
        linked.some((l) => l.userId === namedUser(t.comment)),
    );
    if (take === undefined) violations.push(`${what} follows no Take through the bot by the linked user`);
  }

  let answered = 0;
  let unansweredAfterKill = 0;
  const unanswered: string[] = [];
  for (const p of obs.presses) {
    if (obs.answered.has(p.callbackId)) answered++;
    else if (obs.processEnds.some((e) => e.at >= p.at - CLOCK_SKEW_MS && e.at <= p.at + ANSWER_WITHIN_MS))
      unansweredAfterKill++;
    else unanswered.push(`${p.action} by ${p.userId} in chat ${p.chatId} at +${p.at} ms`);
  }
  if (unanswered.length > 0) {
    violations.push(
      `${unanswered.length} presses were never answered: ${unanswered.slice(0, 10).join("; ")}` +
        (unanswered.length > 10 ? "; …" : ""),
    );
  }

  return {
    violations,
    presses: obs.presses.length,
    strangerPresses: obs.presses.filter((p) => p.allowed === "no").length,
    transitions,
    backward,
    assignments,
    answered,
    unansweredAfterKill,
  };
}
