// The end-of-run verdict of a chaos run, computed from what was recorded (pure, so it has its own
// tests): every owed incident delivered exactly once per chat, repeats only where a kill or a lost
// answer explains them, every single-message copy showing the SIEM's current status, no request
// inside a retry_after, and no exit the run did not cause.
//
// The repeat rule follows delivery's send windows, one per chat: a new message is between its request
// and its recorded id in at most one window per chat, so a kill may repeat at most ONE message PER
// CHAT — the last one the killed process sent there — and nothing else. With several instances on
// PostgreSQL the unit is a leader's term (one process, one lease epoch): a term that ends by a kill or
// by a lost lease may leave one message per chat repeated, the last one it sent there; and two terms
// never call Telegram at once, and getUpdates meets a 409 only right around a takeover.
//
// Routing (issue 13): the admin changes filters and mutes during the run. The service decides at queue
// time, which the run cannot see; it knows only that an incident is queued after it appeared in the SIEM
// and before its first message was sent anywhere (the queue window), and that a rule is stored after its
// command was sent and before the bot's reply to it. So a chat must receive an incident iff the filters it
// could have had in force during the queue window all admit it (when they disagree — the window straddles
// a change — either outcome is right), and a message goes silently (disable_notification) iff a matching
// mute or BOT_SILENT_BELOW applied (same tolerance; a digest is silent only when all it holds are). The
// matchers are evaluated by the run's own model (rules.ts), not by src/routing.

import {
  allHold,
  type IncidentFacts,
  matchersText,
  type RuleMatcher,
  type SeverityWord,
  severityRank,
} from "./rules.js";

/** One incident the run created in the SIEM. */
export interface IncidentRecord {
  id: string;
  key: string;
  /** When it appeared in the SIEM (runner clock, ms). */
  appearedAt: number;
  /** What routing matchers look at (needed when the run changes routing). */
  facts?: IncidentFacts;
}

/** One message the bot sent, as the fake holds it now, with what it was sent with. */
export interface MessageRecord {
  chatId: number;
  messageId: number;
  /** When the fake stored it (runner clock, ms). */
  at: number;
  /** Index of the service process that sent it. */
  instance: number;
  /** Incident ids the message carried when sent. */
  sentIds: string[];
  /** Incident ids it shows now (after edits). */
  currentIds: string[];
  digest: boolean;
  /** The "Status: …" line it shows now (single messages), else null. */
  statusLine: string | null;
  /** A digest: incident id → the status mark its line shows now ("" for none). */
  digestMarks?: Readonly<Record<string, string>>;
  /** The call that created it lost its answer (connection reset after the fake processed it). */
  answerLost: boolean;
  /** Sent with `disable_notification: true` (known when the run judges routing). */
  silent?: boolean;
  /** It shows the 🔕 mark now. */
  marked?: boolean;
}

/** One routing command the admin sent during the run, and what the bot answered. */
export interface RuleChange {
  /** The ChatGroup (by name) it changes. */
  group: string;
  kind: "filter" | "mute" | "unmute";
  /** filter: its matchers, null for `/filter off`; mute: its matchers ([] mutes everything); unmute: null. */
  matchers: RuleMatcher[] | null;
  /** mute: how long it runs. */
  durationMs: number;
  sentAt: number;
  /**
   * When the bot's replies confirming it arrived (the rule was stored before each); usually one. A command
   * handled again after a kill (a replay) may be confirmed twice, and a mute then runs twice. Empty: no
   * reply was seen, so it may or may not have been stored.
   */
  confirmedAt: number[];
  /** The bot refused it (the chat was not receiving): nothing changed. */
  refused: boolean;
}

export interface RoutingObservations {
  /** BOT_SILENT_BELOW of the run; null: off. */
  silentBelow: SeverityWord | null;
  /** Every routing command, in the order sent. */
  changes: RuleChange[];
}

export type InstanceEnd = "SIGKILL" | "SIGTERM" | "self";

export interface InstanceRecord {
  index: number;
  /** Which of the run's instances (BOT_INSTANCE_NAME) this process was, when there are several. */
  slot?: string;
  startedAt: number;
  /** When it logged "service started" (absent: it never did). */
  readyAt?: number;
  endedAt: number | null;
  endedBy: InstanceEnd | null;
  exitCode: number | null;
  signal: string | null;
}

/**
 * How a leader's term ended: its process was killed (SIGKILL, or a SIGTERM that did not end cleanly),
 * it lost its lease (its database connection was ended, or it could not renew), it gave the lease up
 * in a graceful stop, or its process exited by itself.
 */
export type TermEnd = "killed" | "lost" | "stopped" | "self";

/** One stretch of leadership: one process from an acquisition of the lease to its end. */
export interface TermRecord {
  /** The process (InstanceRecord.index). */
  instance: number;
  /** The lease's epoch; null on SQLite, where a process leads from start to exit (one term each). */
  epoch: number | null;
  startedAt: number;
  endedAt: number | null;
  endedBy: TermEnd | null;
}

/** A recipient as people see it: one chat, or a group before and after it became a supergroup. */
export interface ChatGroup {
  name: string;
  chatIds: number[];
  /** "owed": must show exactly once; "optional": at most once; "never": must not show it. */
  duty(incident: IncidentRecord): "owed" | "optional" | "never";
  /** Chats whose single messages the bot can still edit (their status must be current). */
  editableChatIds: number[];
}

export interface RetryAfterBreach {
  method: string;
  chatId: unknown;
  at: number;
  /** The 429 that opened the window never reached the service (its answer was lost): nobody could honour it. */
  excused: boolean;
}

/** One Bot API call as the fake recorded it, reduced to what the retry_after check needs. */
export interface CallRecord {
  at: number;
  method: string;
  chatId: number | null;
  errorCode: number | null;
  retryAfter: number | null;
  /** The connection was dropped: the service got no answer. */
  answerLost: boolean;
  duringRetryAfter: boolean;
  /** The process that made the call, when the run can tell (several instances). */
  instance?: number | null;
}

/** How long a lost answer may explain a later breach: the longest retry_after Telegram gives is a minute. */
const LOST_ANSWER_REACH_MS = 61_000;

/**
 * The requests the fake caught inside a retry_after window. A breach is excused only when no 429 the
 * service received covers it and an earlier call to the same chat lost its answer — that answer may
 * have been the 429 (a dropped connection after the fake processed the call).
 */
export function retryAfterBreaches(calls: readonly CallRecord[]): RetryAfterBreach[] {
  const breaches: RetryAfterBreach[] = [];
  calls.forEach((call, index) => {
    if (!call.duringRetryAfter) return;
    const earlier = calls.slice(0, index).filter((c) => c.chatId === call.chatId);
    const known = earlier.some(
      (c) => c.errorCode === 429 && !c.answerLost && c.at + (c.retryAfter ?? 1) * 1000 > call.at,
    );
    const lost = earlier.some((c) => c.answerLost && c.at >= call.at - LOST_ANSWER_REACH_MS);
    breaches.push({ method: call.method, chatId: call.chatId, at: call.at, excused: !known && lost });
  });
  return breaches;
}

export interface Observations {
  incidents: IncidentRecord[];
  messages: MessageRecord[];
  instances: InstanceRecord[];
  groups: ChatGroup[];
  /** Incident id → its status in the SIEM now. */
  siemStatus: Map<string, string>;
  /** The status line a single message must show for a SIEM status. */
  expectedStatusLine(status: string): string;
  retryAfterBreaches: RetryAfterBreach[];
  /**
   * The leaders' terms (several instances on PostgreSQL). Without them each process is one term from
   * its start to its exit, as on SQLite.
   */
  terms?: TermRecord[];
  /**
   * Every Telegram call with the process that made it (several instances): judged for two leaders at
   * once and for getUpdates 409s away from a takeover. Only with `terms`.
   */
  calls?: CallRecord[];
  /** The routing commands of the run: then each chat is owed what its filter admitted, and sound is judged. */
  routing?: RoutingObservations;
  /**
   * Incident id → when the service says it queued it (its outbox rows' creation time). The decision is
   * made just before that, so it narrows the queue window's end; never past the window's own bounds.
   */
  queuedAt?: ReadonlyMap<string, number>;
  /**
   * Chats where cards arrive only because someone asked (/inc): no incident is owed there and none is a
   * stray, but the newest card of each incident must show the SIEM's status like any other copy.
   */
  lookupChatIds?: number[];
}

/** The mark a digest line shows for a status (design.md §4); New has none. The checker's own table. */
export const DIGEST_MARKS: Readonly<Record<string, string>> = {
  New: "",
  Approved: "✅",
  InProgress: "🛠",
  Resolved: "✔️",
  Closed: "✖️",
};

export interface RepeatRecord {
  group: string;
  incidentKey: string;
  cause: "kill" | "lost answer" | "lost lease";
  /** The process whose kill or lost lease orphaned the earlier copy (not for lost answers). */
  instance: number | null;
  /** The epoch of that process's term (several instances only). */
  epoch?: number | null;
  /** The chat of the earlier copy. */
  chatId: number;
  /** The earlier copy, "chatId:messageId" (a digest orphans several incidents with one message). */
  orphan: string;
}

/** What one kill left repeated in one chat: at most one orphaned message (its incidents may be several). */
export interface KillRepeat {
  instance: number;
  /** The term's epoch, when terms are known (several instances); its end may be a lost lease. */
  epoch?: number | null;
  /** How the term ended, when terms are known. */
  endedBy?: "killed" | "lost";
  chatId: number;
  /** Orphaned messages ("chatId:messageId") whose incidents were sent again after the kill. */
  orphans: string[];
}

export interface Verdict {
  violations: string[];
  /** Owed (incident, chat group) pairs not delivered; also in violations. */
  missing: number;
  /** Single-message copies whose status is not the SIEM's; also in violations. */
  staleStatus: number;
  repeats: RepeatRecord[];
  /** The repeats explained by kills, per killed process and chat (each holds one orphan at most). */
  killRepeats: KillRepeat[];
  /** Incident copies delivered (each incident once per group, repeats not counted). */
  delivered: number;
  singles: number;
  digests: number;
  /** Requests inside a retry_after window whose 429 the service never received (not violations). */
  excusedBreaches: number;
  /** Leadership figures, when terms were given. */
  leadership?: LeadershipVerdict;
  /** Routing figures, when routing was observed. */
  routing?: RoutingVerdict;
}

export interface RoutingVerdict {
  /** (incident, chat group) pairs every filter that could apply refused: must not arrive. */
  filteredOut: number;
  /** Pairs whose queue window straddles a filter change that decides them: either outcome is right. */
  filterStraddled: number;
  /** Incident messages sent silently / with sound. */
  silentMessages: number;
  loudMessages: number;
  /** Incident messages whose sound a mute's start or end within the queue window leaves open. */
  soundStraddled: number;
  /** Commands confirmed by a reply / refused / never answered. */
  confirmed: number;
  refused: number;
  unconfirmed: number;
}

export interface LeadershipVerdict {
  /** Terms that began while another had led before: takeovers (the first term of the run is not one). */
  takeovers: number;
  /** getUpdates calls answered 409 (another poller). */
  conflicts: number;
  /** The most 409s around one term's start. */
  conflictsPerTakeoverMax: number;
  /** Telegram calls of a term made after a newer term had begun (two leaders at once). */
  overlapping: number;
}

/**
 * At most this many getUpdates 409s around one takeover. Telegram answers 409 to the older of two
 * long polls. The old leader has at most one getUpdates open and makes none once it stops acting, so
 * at most one of its polls can meet the new leader's: 1 when the old poll is still open at the fake as
 * the new leader's first arrives (its cancellation not through yet), and 1 more when the old leader's
 * last poll, past its gate just before the lease ended, reaches the fake just after the new leader's
 * first poll (that one gets the 409, and the straggler gets one at the new leader's next poll).
 */
export const MAX_CONFLICTS_PER_TAKEOVER = 2;
/** A 409 belongs to a takeover when it comes at most this long before or after the new term began. */
export const CONFLICT_WINDOW_BEFORE_MS = 2_000;
export const CONFLICT_WINDOW_AFTER_MS = 15_000;

const MAX_LISTED = 12;

function listed(items: string[]): string {
  const head = items.slice(0, MAX_LISTED).join(", ");
  return items.length > MAX_LISTED ? `${head}, … (${items.length} in all)` : head;
}

/** Each process one term, from its start to its exit (SQLite, or a run that records no terms). */
function termsFromInstances(instances: readonly InstanceRecord[]): TermRecord[] {
  return instances.map((i) => ({
    instance: i.index,
    epoch: null,
    startedAt: i.startedAt,
    endedAt: i.endedAt,
    endedBy:
      i.endedBy === null
        ? null
        : i.endedBy === "SIGKILL" || (i.endedBy === "SIGTERM" && i.exitCode !== 0)
          ? "killed"
          : i.endedBy === "SIGTERM"
            ? "stopped"
            : "self",
  }));
}

/** Finds the term a process was in at a moment: its latest term begun by then. */
class TermIndex {
  private readonly byInstance = new Map<number, TermRecord[]>();

  constructor(readonly terms: readonly TermRecord[]) {
    for (const term of terms) {
      const list = this.byInstance.get(term.instance) ?? [];
      list.push(term);
      this.byInstance.set(term.instance, list);
    }
    for (const list of this.byInstance.values()) list.sort((a, b) => a.startedAt - b.startedAt);
  }

  of(instance: number, at: number): TermRecord | undefined {
    let found: TermRecord | undefined;
    for (const term of this.byInstance.get(instance) ?? []) {
      if (term.startedAt <= at) found = term;
      else break;
    }
    return found;
  }
}

function termName(term: TermRecord): string {
  const cause = term.endedBy === "lost" ? "the lost lease" : "the kill";
  return `${cause} of process #${term.instance}${term.epoch === null ? "" : ` (epoch ${term.epoch})`}`;
}

/** The last incident message a term sent to a chat: the only one its end may leave unrecorded. */
function lastSentTo(
  obs: Observations,
  index: TermIndex,
  term: TermRecord,
  chatId: number,
): MessageRecord | undefined {
  return obs.messages
    .filter(
      (m) =>
        m.instance === term.instance &&
        m.chatId === chatId &&
        m.sentIds.length > 0 &&
        index.of(m.instance, m.at) === term,
    )
    .reduce<MessageRecord | undefined>(
      (last, m) => (last === undefined || m.at >= last.at ? m : last),
      undefined,
    );
}

/**
 * What may explain an earlier copy of a message being followed by another: its answer was lost, or the
 * term that sent it ended — its process killed, or its lease lost — before the later copy was sent.
 * Whether that end really explains it — the copy was the one message in flight in its chat — is judged
 * per term and chat (judgeKillRepeats).
 */
function orphanCause(
  earlier: MessageRecord,
  later: MessageRecord,
  index: TermIndex,
): { cause: RepeatRecord["cause"]; instance: number | null; term?: TermRecord } | null {
  if (earlier.answerLost) return { cause: "lost answer", instance: null };
  const term = index.of(earlier.instance, earlier.at);
  if (term === undefined || (term.endedBy !== "killed" && term.endedBy !== "lost")) return null;
  if (term.endedAt === null || term.endedAt > later.at) return null;
  return { cause: term.endedBy === "lost" ? "lost lease" : "kill", instance: term.instance, term };
}

/**
 * One send window per chat: the end of a term (a kill, a lost lease) may repeat at most ONE message in
 * each chat, and only the last one the term sent there (any earlier one had its id recorded before the
 * next was sent).
 */
function judgeKillRepeats(
  repeats: ReadonlyArray<RepeatRecord & { term?: TermRecord }>,
  obs: Observations,
  index: TermIndex,
  violations: string[],
): KillRepeat[] {
  const byTermAndChat = new Map<string, KillRepeat & { keys: string[]; term: TermRecord }>();
  for (const r of repeats) {
    if (r.term === undefined) continue;
    const key = `${r.term.instance}:${r.term.epoch}:${r.term.startedAt}:${r.chatId}`;
    const entry = byTermAndChat.get(key) ?? {
      instance: r.term.instance,
      ...(obs.terms ? { epoch: r.term.epoch, endedBy: r.term.endedBy as "killed" | "lost" } : {}),
      chatId: r.chatId,
      orphans: [],
      keys: [],
      term: r.term,
    };
    if (!entry.orphans.includes(r.orphan)) entry.orphans.push(r.orphan);
    entry.keys.push(r.incidentKey);
    byTermAndChat.set(key, entry);
  }
  const judged: KillRepeat[] = [];
  for (const { keys, term, ...k } of byTermAndChat.values()) {
    judged.push(k);
    const last = lastSentTo(obs, index, term, k.chatId);
    const inFlight = last === undefined ? "" : `${last.chatId}:${last.messageId}`;
    if (k.orphans.length > 1) {
      violations.push(
        `${termName(term)} repeated ${k.orphans.length} messages in chat ${k.chatId} ` +
          `(${listed(keys)}); at most one per chat per kill, the one in flight`,
      );
    } else if (k.orphans[0] !== inFlight) {
      violations.push(
        `${termName(term)} repeated ${listed(keys)} in chat ${k.chatId} from a message ` +
          "that was not the last it sent there (its id was recorded)",
      );
    }
  }
  return judged;
}

/**
 * Several instances: no Telegram call outside the caller's term or after a newer term began (two
 * leaders), and getUpdates 409s only right around a takeover, a bounded few.
 */
function judgeLeadership(
  calls: readonly CallRecord[],
  index: TermIndex,
  violations: string[],
): LeadershipVerdict {
  const starts = [...index.terms].sort((a, b) => a.startedAt - b.startedAt);
  const standingBy: string[] = [];
  const overlapping: string[] = [];
  for (const call of calls) {
    if (call.instance === null || call.instance === undefined) continue;
    const term = index.of(call.instance, call.at);
    if (term === undefined) {
      standingBy.push(`${call.method} by process #${call.instance} at +${call.at} ms`);
      continue;
    }
    const newer = starts.find(
      (t) => t !== term && t.startedAt <= call.at && (t.epoch ?? 0) > (term.epoch ?? 0),
    );
    if (newer !== undefined) {
      overlapping.push(
        `${call.method} by process #${call.instance} (epoch ${term.epoch}) at +${call.at} ms, ` +
          `after process #${newer.instance} began epoch ${newer.epoch} at +${newer.startedAt} ms`,
      );
    }
  }
  if (standingBy.length > 0) {
    violations.push(`Telegram calls by a process that did not lead: ${listed(standingBy)}`);
  }
  if (overlapping.length > 0) {
    violations.push(`two leaders called Telegram at once: ${listed(overlapping)}`);
  }

  // A 409 answers the older of two polls when the newer one arrives: its moment is that arrival.
  const polls = calls.filter((c) => c.method === "getUpdates");
  const perTerm = new Map<TermRecord, number>();
  const stray: string[] = [];
  let conflicts = 0;
  polls.forEach((poll, i) => {
    if (poll.errorCode !== 409) return;
    conflicts++;
    const moment = polls[i + 1]?.at ?? poll.at;
    const term = starts.filter((t) => t.startedAt <= moment + CONFLICT_WINDOW_BEFORE_MS).at(-1);
    if (term === undefined || moment > term.startedAt + CONFLICT_WINDOW_AFTER_MS) {
      stray.push(`+${moment} ms`);
      return;
    }
    perTerm.set(term, (perTerm.get(term) ?? 0) + 1);
  });
  if (stray.length > 0) {
    violations.push(`getUpdates answered 409 away from any takeover: ${listed(stray)}`);
  }
  for (const [term, n] of perTerm) {
    if (n > MAX_CONFLICTS_PER_TAKEOVER) {
      violations.push(
        `${n} getUpdates 409s around the start of epoch ${term.epoch} (process #${term.instance}, ` +
          `+${term.startedAt} ms); at most ${MAX_CONFLICTS_PER_TAKEOVER} per takeover`,
      );
    }
  }
  return {
    takeovers: Math.max(0, starts.length - 1),
    conflicts,
    conflictsPerTakeoverMax: Math.max(0, ...perTerm.values()),
    overlapping: overlapping.length,
  };
}

/** Which outcomes are possible: {true}, {false} or both. */
type Outcomes = ReadonlySet<boolean>;
const ONLY_TRUE: Outcomes = new Set([true]);
const ONLY_FALSE: Outcomes = new Set([false]);
const EITHER: Outcomes = new Set([true, false]);

/** A queue window: the incident was queued at some moment in [from, to] (to: Infinity when never sent). */
export interface Window {
  from: number;
  to: number;
}

interface MuteSpan {
  matchers: RuleMatcher[];
  /** It may have run during [from, to). */
  possible: Window;
  /** It surely ran during [from, to) (empty when never confirmed). */
  sure: Window | null;
  text: string;
}

/**
 * The rules a group may have had in force at any moment, from the commands sent and the replies seen.
 * Commands are handled in the order they were sent (one admin chat, updates in order).
 */
export class RoutingModel {
  private readonly filters = new Map<string, RuleChange[]>();
  private readonly mutes = new Map<string, MuteSpan[]>();
  private readonly silentBelowRank: number | null;

  constructor(private readonly routing: RoutingObservations) {
    this.silentBelowRank = routing.silentBelow === null ? null : severityRank(routing.silentBelow);
    const applied = routing.changes.filter((c) => !c.refused);
    const byGroup = new Map<string, RuleChange[]>();
    for (const c of applied) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
    for (const [group, changes] of byGroup) {
      const ordered = [...changes].sort((a, b) => a.sentAt - b.sentAt);
      this.filters.set(
        group,
        ordered.filter((c) => c.kind === "filter"),
      );
      const unmutes = ordered.filter((c) => c.kind === "unmute");
      this.mutes.set(
        group,
        ordered.filter((c) => c.kind === "mute").map((m) => RoutingModel.span(m, unmutes)),
      );
    }
  }

  private static span(m: RuleChange, unmutes: readonly RuleChange[]): MuteSpan {
    const confirmed = [...m.confirmedAt].sort((a, b) => a - b);
    const first = confirmed[0];
    const last = confirmed.at(-1);
    // It may run until its last confirmed start plus its length, unless an /unmute sent after that
    // start was confirmed earlier; never confirmed: it may be running at any later moment.
    let possibleTo = last === undefined ? Number.POSITIVE_INFINITY : last + m.durationMs;
    if (last !== undefined) {
      for (const u of unmutes) {
        if (u.sentAt >= last && u.confirmedAt.length > 0)
          possibleTo = Math.min(possibleTo, Math.min(...u.confirmedAt));
      }
    }
    // It surely runs from its first confirmation until the earliest it could end: its length from when it
    // was sent, or the first /unmute sent after it.
    let sureTo = m.sentAt + m.durationMs;
    for (const u of unmutes) if (u.sentAt >= m.sentAt) sureTo = Math.min(sureTo, u.sentAt);
    const sure = first !== undefined && first < sureTo ? { from: first, to: sureTo } : null;
    const what = m.matchers && m.matchers.length > 0 ? ` ${matchersText(m.matchers)}` : "";
    return {
      matchers: m.matchers ?? [],
      possible: { from: m.sentAt, to: possibleTo },
      sure,
      text: `/mute ${m.durationMs / 1000}s${what} sent at +${m.sentAt} ms`,
    };
  }

  /** Whether the group's filter admitted the incident, over its queue window, and the filters that could apply. */
  admits(group: string, facts: IncidentFacts, w: Window): { outcomes: Outcomes; filters: string[] } {
    const changes = this.filters.get(group) ?? [];
    // State k: after the first k changes (0: no filter). By `w.from` at least every change confirmed by
    // then is in force; by `w.to` at most every change sent by then.
    let least = 0;
    let most = 0;
    changes.forEach((c, i) => {
      if (c.confirmedAt.length > 0 && Math.min(...c.confirmedAt) <= w.from) least = i + 1;
      if (c.sentAt <= w.to) most = i + 1;
    });
    most = Math.max(least, most);
    const seen = new Set<boolean>();
    const filters: string[] = [];
    for (let k = least; k <= most; k++) {
      const matchers = k === 0 ? null : changes[k - 1]!.matchers;
      seen.add(matchers === null || allHold(matchers, facts));
      filters.push(matchers === null ? "off" : matchersText(matchers));
    }
    return { outcomes: seen, filters };
  }

  /** Whether a mute of the group matching the incident may have run at some moment of `w` (reminders: held). */
  mayMute(group: string, facts: IncidentFacts, w: Window): boolean {
    return (this.mutes.get(group) ?? []).some(
      (m) => allHold(m.matchers, facts) && m.possible.from <= w.to && w.from < m.possible.to,
    );
  }

  /** The mutes of the group matching the incident, over the stretch each surely ran. */
  sureMutes(group: string, facts: IncidentFacts): Array<{ from: number; to: number; text: string }> {
    return (this.mutes.get(group) ?? []).flatMap((m) =>
      m.sure !== null && allHold(m.matchers, facts) ? [{ ...m.sure, text: m.text }] : [],
    );
  }

  belowSilentThreshold(facts: IncidentFacts): boolean {
    if (this.silentBelowRank === null) return false;
    const rank = severityRank(facts.severity);
    return rank === null || rank < this.silentBelowRank;
  }

  /** Whether the incident was to go silently in the group, over its queue window, and why. */
  silent(group: string, facts: IncidentFacts, w: Window): { outcomes: Outcomes; why: string } {
    if (this.belowSilentThreshold(facts)) {
      return { outcomes: ONLY_TRUE, why: `BOT_SILENT_BELOW=${this.routing.silentBelow}` };
    }
    const matching = (this.mutes.get(group) ?? []).filter((m) => allHold(m.matchers, facts));
    const sure = matching.find((m) => m.sure !== null && m.sure.from <= w.from && w.to < m.sure.to);
    if (sure) return { outcomes: ONLY_TRUE, why: `the mute ${sure.text}` };
    const maybe = matching.filter((m) => m.possible.from <= w.to && w.from < m.possible.to);
    if (maybe.length === 0) return { outcomes: ONLY_FALSE, why: "no mute or silent rule applied" };
    return { outcomes: EITHER, why: `the mute ${maybe[0]!.text} may or may not have applied` };
  }
}

function windowText(w: Window): string {
  return `queued between +${w.from} and ${Number.isFinite(w.to) ? `+${w.to}` : "the end"} ms`;
}

export function judge(obs: Observations): Verdict {
  const violations: string[] = [];
  const index = new TermIndex(obs.terms ?? termsFromInstances(obs.instances));
  const known = new Map(obs.incidents.map((i) => [i.id, i]));
  const keyOf = (id: string) => known.get(id)?.key ?? id;
  const repeats: Array<RepeatRecord & { term?: TermRecord }> = [];
  let missing = 0;
  let staleStatus = 0;
  let delivered = 0;

  // Every message: it shows incidents the SIEM has, and the incident it was sent for.
  const unknownIds = new Set<string>();
  for (const m of obs.messages) {
    for (const id of m.currentIds) if (!known.has(id)) unknownIds.add(id);
    if (!m.digest && m.sentIds.length > 0 && m.sentIds.join() !== m.currentIds.join()) {
      violations.push(
        `message ${m.messageId} in chat ${m.chatId} was sent for ${m.sentIds.map(keyOf).join("+")} ` +
          `but now shows ${m.currentIds.map(keyOf).join("+") || "no incident"} (an edit hit the wrong message)`,
      );
    }
  }
  if (unknownIds.size > 0)
    violations.push(`messages show incidents the SIEM never had: ${listed([...unknownIds])}`);

  const grouped = new Set([...obs.groups.flatMap((g) => g.chatIds), ...(obs.lookupChatIds ?? [])]);
  const strays = obs.messages.filter((m) => !grouped.has(m.chatId) && m.currentIds.length > 0);
  if (strays.length > 0) {
    violations.push(
      `incidents sent to chats that do not receive them: ${listed(strays.map((m) => `${m.currentIds.map(keyOf).join("+")} → ${m.chatId}`))}`,
    );
  }

  // Routing: the queue window of each incident runs from its appearance to its first message anywhere (all
  // of an incident's rows are made in one transaction, before any of them is sent), or to the moment the
  // service recorded queueing it, when that is earlier.
  const model = obs.routing ? new RoutingModel(obs.routing) : null;
  const firstSent = new Map<string, number>();
  for (const m of obs.messages) {
    for (const id of m.sentIds) firstSent.set(id, Math.min(firstSent.get(id) ?? m.at, m.at));
  }
  const windowOf = (incident: IncidentRecord): Window => {
    const from = incident.appearedAt;
    const sentBy = firstSent.get(incident.id) ?? Number.POSITIVE_INFINITY;
    const recorded = obs.queuedAt?.get(incident.id);
    return { from, to: recorded === undefined ? sentBy : Math.max(from, Math.min(sentBy, recorded)) };
  };
  const routing: RoutingVerdict = {
    filteredOut: 0,
    filterStraddled: 0,
    silentMessages: 0,
    loudMessages: 0,
    soundStraddled: 0,
    confirmed: obs.routing?.changes.filter((c) => !c.refused && c.confirmedAt.length > 0).length ?? 0,
    refused: obs.routing?.changes.filter((c) => c.refused).length ?? 0,
    unconfirmed: obs.routing?.changes.filter((c) => !c.refused && c.confirmedAt.length === 0).length ?? 0,
  };

  for (const group of obs.groups) {
    const inGroup = obs.messages
      .filter((m) => group.chatIds.includes(m.chatId))
      .sort((a, b) => a.at - b.at || a.messageId - b.messageId);
    const copies = new Map<string, MessageRecord[]>();
    for (const m of inGroup) {
      for (const id of m.sentIds) {
        const list = copies.get(id) ?? [];
        list.push(m);
        copies.set(id, list);
      }
    }
    const missed: string[] = [];
    const forbidden: string[] = [];
    const filteredOut: string[] = [];
    const unexplained: string[] = [];
    for (const incident of obs.incidents) {
      const list = copies.get(incident.id) ?? [];
      let duty = group.duty(incident);
      let admitted = "";
      if (model !== null && incident.facts !== undefined && duty !== "never") {
        const w = windowOf(incident);
        const { outcomes, filters } = model.admits(group.name, incident.facts, w);
        if (!outcomes.has(true)) {
          routing.filteredOut++;
          // Judged here, with the reason: the filter refused it.
          if (list.length > 0)
            filteredOut.push(`${incident.key} (${windowText(w)}; filter ${filters.join(" or ")})`);
          duty = "optional";
        } else if (outcomes.has(false)) {
          duty = "optional";
          routing.filterStraddled++;
        } else if (filters.some((f) => f !== "off"))
          admitted = ` (admitted by filter ${filters.join(" or ")})`;
      }
      if (list.length > 0) delivered++;
      if (duty === "owed" && list.length === 0) missed.push(`${incident.key}${admitted}`);
      if (duty === "never" && list.length > 0) forbidden.push(incident.key);
      for (let i = 1; i < list.length; i++) {
        const earlier = list[i - 1]!;
        const cause = orphanCause(earlier, list[i]!, index);
        if (cause === null) unexplained.push(`${incident.key} ×${list.length}`);
        else {
          const orphan = `${earlier.chatId}:${earlier.messageId}`;
          repeats.push({
            group: group.name,
            incidentKey: incident.key,
            cause: cause.cause,
            instance: cause.instance,
            ...(obs.terms && cause.term ? { epoch: cause.term.epoch } : {}),
            chatId: earlier.chatId,
            orphan,
            ...(cause.term ? { term: cause.term } : {}),
          });
        }
      }
      // Only the newest copy is the one the bot tracks and edits.
      const newest = list[list.length - 1];
      const siemStatus = obs.siemStatus.get(incident.id);
      if (newest !== undefined && siemStatus !== undefined && group.editableChatIds.includes(newest.chatId)) {
        const stale = staleCopy(newest, incident, siemStatus, obs);
        if (stale !== null) {
          staleStatus++;
          violations.push(`${group.name}: ${stale}`);
        }
      }
    }
    missing += missed.length;
    if (missed.length > 0)
      violations.push(`${group.name}: ${missed.length} owed incidents never arrived: ${listed(missed)}`);
    if (forbidden.length > 0)
      violations.push(`${group.name}: got incidents it must not: ${listed(forbidden)}`);
    if (filteredOut.length > 0) {
      violations.push(
        `${group.name}: got incidents its filter did not admit at queue time: ${listed(filteredOut)}`,
      );
    }
    if (model !== null) judgeSound(group, inGroup, model, known, windowOf, routing, violations);
    if (unexplained.length > 0) {
      const explainers = obs.terms ? "no kill, lost lease or lost answer" : "no kill or lost answer";
      violations.push(`${group.name}: repeats ${explainers} explains: ${listed(unexplained)}`);
    }
  }

  // Cards /inc sent: the newest of each incident in each such chat is the one the bot keeps up to date.
  for (const chatId of obs.lookupChatIds ?? []) {
    const newest = new Map<string, MessageRecord>();
    for (const m of obs.messages) {
      if (m.chatId !== chatId || m.digest || m.sentIds.length !== 1) continue;
      const seen = newest.get(m.sentIds[0]!);
      if (seen === undefined || m.at > seen.at || (m.at === seen.at && m.messageId > seen.messageId))
        newest.set(m.sentIds[0]!, m);
    }
    for (const [id, m] of newest) {
      const incident = known.get(id);
      const siemStatus = obs.siemStatus.get(id);
      // A card whose answer was lost is one the bot never learnt the id of: it cannot edit it.
      if (incident === undefined || siemStatus === undefined || m.answerLost) continue;
      const stale = staleCopy(m, incident, siemStatus, obs);
      if (stale !== null) {
        staleStatus++;
        violations.push(`cards /inc sent to chat ${chatId}: ${stale}`);
      }
    }
  }

  const killRepeats = judgeKillRepeats(repeats, obs, index, violations);
  const leadership = obs.terms && obs.calls ? judgeLeadership(obs.calls, index, violations) : undefined;

  const breaches = obs.retryAfterBreaches.filter((b) => !b.excused);
  for (const breach of breaches.slice(0, MAX_LISTED)) {
    violations.push(
      `${breach.method} to chat ${String(breach.chatId)} inside a retry_after window at +${breach.at} ms`,
    );
  }
  if (breaches.length > MAX_LISTED) {
    violations.push(`… ${breaches.length - MAX_LISTED} more requests inside a retry_after window`);
  }

  for (const instance of obs.instances) {
    if (instance.endedBy === "self") {
      violations.push(
        `service process #${instance.index} exited by itself (code ${instance.exitCode}, signal ${instance.signal})`,
      );
    }
  }

  const singles = obs.messages.filter((m) => !m.digest && m.sentIds.length > 0).length;
  const digests = obs.messages.filter((m) => m.digest).length;
  const excusedBreaches = obs.retryAfterBreaches.length - breaches.length;
  return {
    violations,
    missing,
    staleStatus,
    repeats: repeats.map(({ term: _term, ...r }) => r),
    killRepeats,
    delivered,
    singles,
    digests,
    excusedBreaches,
    ...(leadership ? { leadership } : {}),
    ...(model ? { routing } : {}),
  };
}

/**
 * What is wrong with the status a copy shows, or null: a single card's "Status: …" line, a digest line's
 * mark (✅ 🛠 ✔️ ✖️, none for New), each against the SIEM's status now.
 */
function staleCopy(
  m: MessageRecord,
  incident: IncidentRecord,
  siemStatus: string,
  obs: Observations,
): string | null {
  if (!m.digest) {
    const expected = obs.expectedStatusLine(siemStatus);
    return m.statusLine === expected
      ? null
      : `${incident.key} shows "${m.statusLine ?? "no status"}" but the SIEM says "${expected}"`;
  }
  if (m.digestMarks === undefined) return null;
  const shown = m.digestMarks[incident.id];
  const expected = DIGEST_MARKS[siemStatus];
  if (expected === undefined || shown === expected) return null;
  return (
    `${incident.key}'s line in digest ${m.messageId} (chat ${m.chatId}) shows ` +
    `${shown === undefined ? "no line" : `"${shown || "no mark"}"`} but the SIEM says ${siemStatus} ("${expected || "no mark"}")`
  );
}

/**
 * Every incident message of a group: sent silently iff a matching mute or BOT_SILENT_BELOW applied at
 * queue time to what it carries (a digest: to all it carries), and marked 🔕 iff sent silently.
 */
function judgeSound(
  group: ChatGroup,
  inGroup: readonly MessageRecord[],
  model: RoutingModel,
  known: ReadonlyMap<string, IncidentRecord>,
  windowOf: (incident: IncidentRecord) => Window,
  routing: RoutingVerdict,
  violations: string[],
): void {
  const wrong: string[] = [];
  const marks: string[] = [];
  for (const m of inGroup) {
    if (m.sentIds.length === 0 || m.silent === undefined) continue;
    if (m.silent) routing.silentMessages++;
    else routing.loudMessages++;
    const name = `message ${m.messageId} in chat ${m.chatId}`;
    if (m.marked !== undefined && m.marked !== m.silent) {
      marks.push(`${name} ${m.silent ? "went silently without" : "went with sound but shows"} the 🔕 mark`);
    }
    // A digest goes silently only when everything it holds does: sure-silent if all are, sure-loud if one is.
    let allSurelySilent = true;
    let surelyLoud: string | null = null;
    let silentBecause = "";
    for (const id of m.sentIds) {
      const incident = known.get(id);
      if (incident?.facts === undefined) {
        allSurelySilent = false;
        continue;
      }
      const w = windowOf(incident);
      const { outcomes, why } = model.silent(group.name, incident.facts, w);
      if (!outcomes.has(false)) silentBecause ||= `${incident.key}: ${why}`;
      else allSurelySilent = false;
      if (!outcomes.has(true)) surelyLoud ??= `${incident.key} (${windowText(w)}): ${why}`;
    }
    const keys = m.sentIds.map((id) => known.get(id)?.key ?? id).join("+");
    if (m.silent && surelyLoud !== null) {
      wrong.push(`${name} (${keys}) went silently, but ${surelyLoud}`);
    } else if (!m.silent && allSurelySilent) {
      wrong.push(`${name} (${keys}) went with sound, but ${silentBecause}`);
    } else if (surelyLoud === null && !allSurelySilent) routing.soundStraddled++;
  }
  if (wrong.length > 0) violations.push(`${group.name}: wrong sound: ${listed(wrong)}`);
  if (marks.length > 0) violations.push(`${group.name}: ${listed(marks)}`);
}
