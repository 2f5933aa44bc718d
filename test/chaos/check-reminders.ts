// The reminders' part of the chaos verdict (issue 15), pure like check.ts: the run turns reminder and
// escalation policies on, and this judges what the fake Bot API received against the emulator's own
// records of each incident's status and assignee (the truth, not what the bot believed):
//
// (a) No reminder for an incident no longer New. A reminder (a reply to the card, or a line of a
//     collapsed "N incidents without a reaction") or an escalation sent while the incident had left New, or
//     was held by someone, is a violation when the bot could have known for longer than the allowance:
//     the SIEM's read-model lag in force at the change (the bot cannot see a change before the SIEM shows
//     it) + one poll interval + 1 s for the poll's and the send's own work; stretched, only where it
//     overlaps them, over the times the bot could not look or send: SIEM faults (and the backoff after
//     them, at most as long again), the service down or without a leader, Telegram faults and 429s.
// (b) No reminder lost across kills. An incident that stayed New and unassigned in the SIEM from its
//     appearance until well past a step's due time (its first delivery + BOT_REMIND_AFTER; a later step:
//     the chat's previous reminder + BOT_REMIND_EVERY, as the scheduler counts it) must have got that
//     reminder in every chat that holds its card by then, and its escalation in the escalation chat. "Well
//     past" is one poll interval + 15 s (the scheduler's tick, the re-read, the send pass), stretched over
//     the same troubles, over a SIEM fault by the scheduler's 30 s retry of a failed re-read too, and over
//     the chat's lane being busy (its incident copies and edits go first; a group gets ~20 messages a
//     minute). What the run ended before is not owed. The exemptions are only those the product documents
//     (README "Reminders and escalation", design.md §5, reminder-sends.ts, engine.ts, store/chats.ts):
//       - below BOT_REMIND_MIN_SEVERITY (or the escalation policy's `match: severity>=…`);
//       - Snooze pressed on it (by someone who may act, or may be allowed) before it was owed;
//       - a mute that may have held the chat then ("a mute holds that chat's reminders");
//       - the chat could not receive: Bob blocked the bot; the old group's cards after it became a
//         supergroup (its chat is gone: store/chats.ts migrate);
//       - the chat had its 10 reminder messages of the hour (README; beyond them they are dropped);
//       - its card came to the chat after the step was due (the step goes to the chats that have the card);
//       - a backfill (first seen more than BACKFILL_AFTER_MS after its creation) is not escalated;
//       - in flight when a process ended (a kill, a lost lease, a stop): "a call cut short by a stop keeps
//         its claim (losing a reminder beats showing it twice)" — at most ONE message per chat per end (one
//         send window per chat), which may be a collapsed one (more than 3 owed at once).
// (c) Never twice, never too many: the same step (incident, chat, the "no reaction for N s" it names) is
//     not shown twice unless the first call lost its answer (a connection reset after the fake took it);
//     at most BOT_REMIND_MAX steps per incident and chat; at most 10 reminder messages per chat per hour
//     (plus one per process end, whose claim was dropped unrecorded, and one per lost answer); at most
//     one escalation per incident; none before its due time; a reminder only in a chat that has the card,
//     replying to a message that carries the incident; none after an accepted Snooze or under a mute that
//     surely ran, beyond the allowance of (a) for what was already queued.

import { BACKFILL_AFTER_MS } from "../../src/schedule/engine.js";
import { type SeverityWord, severityRank } from "./rules.js";

/** README: "at most 10 reminder messages per chat an hour" (a collapsed one counts once). */
export const CAP_PER_HOUR = 10;
/** reminder-sends.ts: more than this many owed to a chat at once go out as one collapsed message. */
export const COLLAPSE_ABOVE = 3;
/** engine.ts: a job whose re-read failed is looked at again after this long. */
const RETRY_AFTER_MS = 30_000;
/** (a): the poll's and the send's own work, beyond the poll interval. */
const WORK_MS = 1_000;
/** (b): the scheduler's tick, its re-read and the send pass, beyond the poll interval. */
const OWED_SLACK_MS = 15_000;
/** Clocks: the emulator stamps whole milliseconds of the wall clock; allow a little skew. */
const SKEW_MS = 1_000;
/** A chat's lane is busy while its calls come closer than this (a group is paced at ~20 a minute). */
const BUSY_GAP_MS = 5_000;
const GROUP_BUSY_GAP_MS = 8_000;
/** A group receives about this many messages a rolling minute (the pacer's 19, with room). */
const GROUP_MESSAGES_PER_MIN = 17;
const HOUR_MS = 3_600_000;
const MAX_LISTED = 12;

export interface ReminderSettings {
  pollIntervalMs: number;
  remindAfterMs: number;
  remindEveryMs: number;
  remindMax: number;
  minSeverity: SeverityWord;
  /** The escalation: after how long, to which chat, for which severities (null: none). */
  escalation: { afterMs: number; chatId: number; minSeverity: SeverityWord } | null;
}

export interface ReminderIncident {
  id: string;
  key: string;
  /** When it appeared in the SIEM (runner clock). */
  appearedAt: number;
  /** Its `created` time (runner clock; a late one is in the past, a future one ahead). */
  createdAt: number;
  severity: string | null;
}

/** A change of an incident in the SIEM (emulator records): its status, or its assignee. */
export interface TruthChange {
  incidentId: string;
  at: number;
  status?: string;
  /** The assignee after the change (null: nobody). */
  assigned?: string | null;
}

/** Every message the bot sent (runner clock), as the fake holds it. */
export interface BotMessage {
  chatId: number;
  messageId: number;
  at: number;
  /** Its text now (reminders are never edited; an escalation's card may be). */
  plain: string;
  /** reply_parameters.message_id of its call, if any. */
  replyTo: number | null;
  /** Incident ids it carried when sent (its links). */
  sentIds: string[];
  /** Its call lost the answer (connection reset after the fake took it): the bot retries it. */
  answerLost: boolean;
}

/** A time the bot could not look at the SIEM, or send to Telegram. */
export interface Stretch {
  from: number;
  to: number;
  /** Only this incident's reads (a fault of one incident). */
  incidentId?: string;
  /** Only this chat's sends. */
  chatId?: number;
  what: string;
}

/** One Telegram call (for 429 windows and for when a chat's lane was busy). */
export interface ReminderCall {
  at: number;
  method: string;
  chatId: number | null;
  ok: boolean;
  retryAfter: number | null;
}

export interface SnoozePress {
  incidentId: string;
  at: number;
  /** Whether the presser could act then ("maybe": the service may not know yet). */
  allowed: "yes" | "no" | "maybe";
  /** The bot's answer said it was snoozed (false: "nothing to snooze"; null: no answer seen). */
  accepted: boolean | null;
}

export interface ReminderObservations {
  settings: ReminderSettings;
  incidents: ReminderIncident[];
  changes: TruthChange[];
  /** The read-model lag from each moment on (runner clock, ms), in order. */
  lagChanges: Array<{ at: number; ms: number }>;
  messages: BotMessage[];
  /** The chats that receive incidents (their cards get reminders). */
  chatIds: number[];
  calls: ReminderCall[];
  siemTrouble: Stretch[];
  telegramTrouble: Stretch[];
  /** Nobody could act: a process down or starting, no leader. */
  down: Stretch[];
  /** Process (or term) ends the run caused: each may have cut one message per chat short. */
  processEnds: number[];
  /** Chats that could not receive during a stretch (blocked, migrated away). */
  unavailable: Stretch[];
  snoozes: SnoozePress[];
  /** Whether a mute of the chat that matches the incident may have run at some moment of [from, to]. */
  mayBeMuted(chatId: number, incidentId: string, from: number, to: number): boolean;
  /** Mutes of the chat that surely ran over [from, to) and match the incident. */
  surelyMuted(chatId: number, incidentId: string): Array<{ from: number; to: number; text: string }>;
  /** Until when the run judged (the final stop). */
  endAt: number;
}

export interface ReminderVerdict {
  violations: string[];
  /** Reminder messages: one incident each / collapsed (and the incident lines these held). */
  single: number;
  collapsed: number;
  collapsedLines: number;
  escalations: number;
  /** (incident, chat, step) reminders owed by the end / got in time. Escalations owed / got. */
  owed: number;
  got: number;
  escalationsOwed: number;
  escalationsGot: number;
  /** Owed ones a kill cut short in flight (allowed, at most one message per chat per end). */
  lostInFlight: number;
  /** Why steps were not owed, by reason. */
  excused: Record<string, number>;
  /** Steps not yet owed when the run ended. */
  notYetDue: number;
  /** Reminders sent after the incident left New, within the allowance. */
  afterLeavingWithinAllowance: number;
}

const REMINDER_TEXT = /^⏰ (\S+) has had no reaction for (.+): it is still New\.$/;
const COLLAPSED_TEXT = /^⏰ (\d+) incidents? without a reaction:\n/;
const COLLAPSED_LINE = /^(\S+)(?: \/inc_\d+)? — (.+)$/;
const ESCALATION_TEXT = /^🚨 Escalation: no reaction for /;
/** A collapsed message names 30 lines; the rest it only counts. */
const COLLAPSED_MORE = /\n…and (\d+) more$/;

/** One incident named by a reminder message. */
interface Named {
  incidentId: string;
  chatId: number;
  at: number;
  messageId: number;
  /** "no reaction for …" as it reads. */
  duration: string;
  answerLost: boolean;
  collapsed: boolean;
  replyTo: number | null;
}

function listed(items: string[]): string {
  const head = items.slice(0, MAX_LISTED).join("; ");
  return items.length > MAX_LISTED ? `${head}; … (${items.length} in all)` : head;
}

/** The incident's truth over time: New and nobody holds it, or not. */
class Truth {
  private readonly events: Array<{ at: number; unanswered: boolean }> = [];

  constructor(changes: readonly TruthChange[]) {
    let status = "New";
    let assigned: string | null = null;
    for (const c of [...changes].sort((a, b) => a.at - b.at)) {
      if (c.status !== undefined) status = c.status;
      if (c.assigned !== undefined) assigned = c.assigned;
      this.events.push({ at: c.at, unanswered: status === "New" && assigned === null });
    }
  }

  unansweredAt(t: number): boolean {
    let state = true;
    for (const e of this.events) {
      if (e.at > t) break;
      state = e.unanswered;
    }
    return state;
  }

  /** When the answered stretch that holds `t` began (t must be answered). */
  answeredSince(t: number): number {
    let since = Number.NEGATIVE_INFINITY;
    let state = true;
    for (const e of this.events) {
      if (e.at > t) break;
      if (!e.unanswered && state) since = e.at;
      state = e.unanswered;
    }
    return since;
  }

  /** Unanswered at every moment of [from, to]. */
  unansweredThroughout(from: number, to: number): boolean {
    if (!this.unansweredAt(from)) return false;
    return this.events.every((e) => e.at < from || e.at > to || e.unanswered);
  }
}

/**
 * The moment by which something that could start at `start` must have happened: `base` after it, where
 * each stretch overlapping the wait pushes it to the stretch's end plus `base` again (bounded).
 */
export function deadline(
  start: number,
  base: number,
  stretches: ReadonlyArray<{ from: number; to: number }>,
): number {
  let d = start + base;
  for (let round = 0; round < 1_000; round++) {
    let moved = false;
    for (const s of stretches) {
      if (s.from <= d && s.to >= start && s.to + base > d) {
        d = s.to + base;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return d;
}

/**
 * Merged stretches when a chat's lane was busy: calls to it close together, a group at its minute's budget
 * (sends and edits). Reminders go through the chat's lane after its incident copies and edits.
 */
function busyStretches(calls: readonly ReminderCall[], chatId: number): Stretch[] {
  const mine = calls
    .filter((c) => c.chatId === chatId && (c.method === "sendMessage" || c.method === "editMessageText"))
    .map((c) => c.at)
    .sort((a, b) => a - b);
  const gap = chatId < 0 ? GROUP_BUSY_GAP_MS : BUSY_GAP_MS;
  const spans: Array<{ from: number; to: number }> = mine.map((at) => ({ from: at - gap, to: at }));
  if (chatId < 0) {
    // Edits take from the same budget as messages.
    const sends = calls
      .filter(
        (c) => c.chatId === chatId && (c.method === "sendMessage" || c.method === "editMessageText") && c.ok,
      )
      .map((c) => c.at)
      .sort((a, b) => a - b);
    for (let i = GROUP_MESSAGES_PER_MIN - 1; i < sends.length; i++) {
      const oldest = sends[i - GROUP_MESSAGES_PER_MIN + 1]!;
      if (sends[i]! - oldest <= 60_000) spans.push({ from: sends[i]!, to: oldest + 60_000 });
    }
  }
  spans.sort((a, b) => a.from - b.from);
  const merged: Stretch[] = [];
  for (const s of spans) {
    const last = merged.at(-1);
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else merged.push({ ...s, chatId, what: "the chat's lane busy" });
  }
  return merged;
}

export function judgeReminders(obs: ReminderObservations): ReminderVerdict {
  const violations: string[] = [];
  const s = obs.settings;
  const byId = new Map(obs.incidents.map((i) => [i.id, i]));
  const byKey = new Map(obs.incidents.map((i) => [i.key, i]));
  const keyOf = (id: string) => byId.get(id)?.key ?? id;
  const truths = new Map<string, Truth>();
  const changesOf = new Map<string, TruthChange[]>();
  for (const c of obs.changes) changesOf.set(c.incidentId, [...(changesOf.get(c.incidentId) ?? []), c]);
  const truth = (id: string) => {
    const found = truths.get(id) ?? new Truth(changesOf.get(id) ?? []);
    truths.set(id, found);
    return found;
  };
  const lagAt = (t: number) => {
    let ms = 0;
    for (const l of obs.lagChanges) if (l.at <= t) ms = l.ms;
    return ms;
  };
  const rank = (severity: string | null) => severityRank(severity) ?? -1;
  const minRank = severityRank(s.minSeverity) ?? 0;

  // Troubles: a SIEM fault blinds the poller until its end and the backoff after it (as long again).
  const siem = (incidentId: string) =>
    obs.siemTrouble
      .filter((t) => t.incidentId === undefined || t.incidentId === incidentId)
      .map((t) => ({ from: t.from, to: t.to + (t.to - t.from) }));
  // A 429 holds every chat's sends (the bot waits out retry_after before anything else).
  const tg429 = obs.calls
    .filter((c) => !c.ok && c.retryAfter !== null)
    .map((c) => ({ from: c.at, to: c.at + c.retryAfter! * 1000 }));
  const telegram = (chatId: number) => [
    ...obs.telegramTrouble.filter((t) => t.chatId === undefined || t.chatId === chatId),
    ...tg429,
  ];
  const busy = new Map<number, Stretch[]>();
  const busyOf = (chatId: number) => {
    const found = busy.get(chatId) ?? busyStretches(obs.calls, chatId);
    busy.set(chatId, found);
    return found;
  };
  /** (a): by when the bot must have stopped reminding of a change it could see from `visibleAt`. */
  const knownBy = (visibleAt: number, incidentId: string, chatId: number) =>
    deadline(visibleAt, s.pollIntervalMs + WORK_MS, [...siem(incidentId), ...obs.down, ...telegram(chatId)]);
  /** (b): by when a step due at `due` must have reached the chat. */
  const owedBy = (due: number, incidentId: string, chatId: number) =>
    deadline(due, s.pollIntervalMs + OWED_SLACK_MS, [
      ...siem(incidentId).map((t) => ({ from: t.from, to: t.to + RETRY_AFTER_MS })),
      ...obs.down,
      ...telegram(chatId),
      ...busyOf(chatId),
    ]);

  // Cards: every incident message in the chats that receive incidents.
  const cardsIn = new Map<string, BotMessage[]>();
  const firstCopy = new Map<string, number>();
  for (const m of obs.messages) {
    if (!obs.chatIds.includes(m.chatId)) continue;
    for (const id of m.sentIds) {
      const k = `${id}:${m.chatId}`;
      cardsIn.set(k, [...(cardsIn.get(k) ?? []), m]);
      firstCopy.set(id, Math.min(firstCopy.get(id) ?? m.at, m.at));
    }
  }

  // The reminders and escalations the fake received.
  const named: Named[] = [];
  const escalations: BotMessage[] = [];
  let single = 0;
  let collapsed = 0;
  let collapsedLines = 0;
  const perChatMessages = new Map<number, BotMessage[]>();
  const unknownKeys: string[] = [];
  /** Collapsed messages' lines counted but not named ("…and N more"): any owed step may be among them. */
  const unnamed: Array<{ chatId: number; at: number; left: number }> = [];
  for (const m of obs.messages) {
    const one = REMINDER_TEXT.exec(m.plain);
    const many = COLLAPSED_TEXT.exec(m.plain);
    // An escalation: its header, or any card in the escalation chat (it gets nothing else; an edit of the
    // card re-renders it without the header, and the message's text is the latest one).
    const inEscalationChat =
      s.escalation !== null && m.chatId === s.escalation.chatId && m.sentIds.length > 0 && m.replyTo === null;
    if (ESCALATION_TEXT.test(m.plain) || inEscalationChat) {
      escalations.push(m);
      continue;
    }
    if (!one && !many) continue;
    perChatMessages.set(m.chatId, [...(perChatMessages.get(m.chatId) ?? []), m]);
    const base = { chatId: m.chatId, at: m.at, messageId: m.messageId, answerLost: m.answerLost };
    if (one) {
      single++;
      const incident = byKey.get(one[1]!);
      if (!incident) unknownKeys.push(`${one[1]} in chat ${m.chatId}`);
      else
        named.push({
          ...base,
          incidentId: incident.id,
          duration: one[2]!,
          collapsed: false,
          replyTo: m.replyTo,
        });
      continue;
    }
    collapsed++;
    const more = Number(COLLAPSED_MORE.exec(m.plain)?.[1] ?? 0);
    if (more > 0) unnamed.push({ chatId: m.chatId, at: m.at, left: more });
    for (const line of m.plain.split("\n").slice(1)) {
      const found = COLLAPSED_LINE.exec(line);
      if (!found) continue;
      collapsedLines++;
      const incident = byKey.get(found[1]!);
      if (!incident) unknownKeys.push(`${found[1]} in chat ${m.chatId}`);
      else
        named.push({ ...base, incidentId: incident.id, duration: found[2]!, collapsed: true, replyTo: null });
    }
  }
  if (unknownKeys.length > 0)
    violations.push(`reminders name incidents the SIEM never had: ${listed(unknownKeys)}`);

  // (a) No reminder or escalation for an incident that had left New, beyond the allowance.
  const late: string[] = [];
  let afterLeavingWithinAllowance = 0;
  const judgeSend = (incidentId: string, chatId: number, at: number, what: string) => {
    const t = truth(incidentId);
    if (t.unansweredAt(at)) return;
    const left = t.answeredSince(at);
    const visible = left + lagAt(left);
    const by = knownBy(visible, incidentId, chatId);
    if (at > by) {
      late.push(
        `${what} of ${keyOf(incidentId)} in chat ${chatId} at +${at} ms: it left New (or was taken) at +${left} ms, ` +
          `the SIEM showed it from +${visible} ms, the bot could know by +${by} ms`,
      );
    } else afterLeavingWithinAllowance++;
  };
  for (const n of named)
    judgeSend(n.incidentId, n.chatId, n.at, n.collapsed ? "a collapsed reminder" : "a reminder");
  for (const e of escalations) for (const id of e.sentIds) judgeSend(id, e.chatId, e.at, "an escalation");
  if (late.length > 0)
    violations.push(`${late.length} reminders or escalations for incidents no longer New: ${listed(late)}`);

  // (c) Where and when: the chat has the card, the reply carries it, not before its time, not below the severity.
  const misplaced: string[] = [];
  const early: string[] = [];
  const excluded: string[] = [];
  for (const n of named) {
    const incident = byId.get(n.incidentId)!;
    const cards = (cardsIn.get(`${n.incidentId}:${n.chatId}`) ?? []).filter((c) => c.at <= n.at + SKEW_MS);
    if (cards.length === 0)
      misplaced.push(`${incident.key} in chat ${n.chatId} at +${n.at} ms, which has no card of it`);
    else if (!n.collapsed && (n.replyTo === null || !cards.some((c) => c.messageId === n.replyTo)))
      misplaced.push(
        `${incident.key} in chat ${n.chatId} at +${n.at} ms replies to ${n.replyTo ?? "nothing"}, not to a card of it`,
      );
    const first = firstCopy.get(n.incidentId);
    if (first !== undefined && n.at < first + s.remindAfterMs - SKEW_MS)
      early.push(`${incident.key} in chat ${n.chatId} at +${n.at} ms, first delivered at +${first} ms`);
    if (rank(incident.severity) < minRank)
      excluded.push(`${incident.key} (${incident.severity}) in chat ${n.chatId}`);
  }
  for (const e of escalations) {
    for (const id of e.sentIds) {
      const incident = byId.get(id);
      if (!incident) continue;
      if (s.escalation === null || e.chatId !== s.escalation.chatId) {
        misplaced.push(`an escalation of ${incident.key} in chat ${e.chatId}, not the escalation chat`);
        continue;
      }
      const first = firstCopy.get(id);
      if (first !== undefined && e.at < first + s.escalation.afterMs - SKEW_MS)
        early.push(`the escalation of ${incident.key} at +${e.at} ms, first delivered at +${first} ms`);
      if (rank(incident.severity) < (severityRank(s.escalation.minSeverity) ?? 0))
        excluded.push(`the escalation of ${incident.key} (${incident.severity})`);
    }
  }
  if (misplaced.length > 0) violations.push(`reminders in the wrong place: ${listed(misplaced)}`);
  if (early.length > 0) violations.push(`reminders or escalations before they were due: ${listed(early)}`);
  if (excluded.length > 0)
    violations.push(`reminders or escalations below the policy's severity: ${listed(excluded)}`);

  // (c) Never twice, never too many.
  const steps = new Map<string, Named[]>();
  const twice: string[] = [];
  const tooMany: string[] = [];
  const byPair = new Map<string, Named[]>();
  for (const n of [...named].sort((a, b) => a.at - b.at)) {
    const k = `${n.incidentId}:${n.chatId}`;
    byPair.set(k, [...(byPair.get(k) ?? []), n]);
  }
  for (const [k, list] of byPair) {
    const counted: Named[] = [];
    for (const n of list) {
      const before = counted.at(-1);
      // A step's message names the "no reaction for …" of its firing, so a retry reads the same; two steps
      // read differently when it is in seconds (in minutes two may coincide; 0 s: a future incident).
      const sameText = before !== undefined && before.duration === n.duration;
      if (sameText && before.answerLost) continue; // retried after a lost answer
      if (sameText && / s$/.test(n.duration) && n.duration !== "0 s")
        twice.push(
          `${keyOf(n.incidentId)} in chat ${n.chatId} ("${n.duration}") at +${before.at} and +${n.at} ms`,
        );
      counted.push(n);
    }
    steps.set(k, counted);
    if (counted.length > s.remindMax)
      tooMany.push(
        `${keyOf(list[0]!.incidentId)} in chat ${list[0]!.chatId}: ${counted.length} (BOT_REMIND_MAX ${s.remindMax})`,
      );
  }
  if (twice.length > 0) violations.push(`reminders shown twice for the same step: ${listed(twice)}`);
  if (tooMany.length > 0) violations.push(`more reminders than BOT_REMIND_MAX: ${listed(tooMany)}`);
  const overCap: string[] = [];
  for (const [chatId, list] of perChatMessages) {
    const sorted = [...list].sort((a, b) => a.at - b.at);
    for (let i = 0; i < sorted.length; i++) {
      const inHour = sorted.filter((m) => m.at > sorted[i]!.at - HOUR_MS && m.at <= sorted[i]!.at);
      const from = sorted[i]!.at - HOUR_MS;
      const extra =
        obs.processEnds.filter((e) => e > from && e <= sorted[i]!.at).length +
        inHour.filter((m) => m.answerLost).length;
      if (inHour.length > CAP_PER_HOUR + extra) {
        overCap.push(
          `chat ${chatId}: ${inHour.length} reminder messages in the hour to +${sorted[i]!.at} ms`,
        );
        break;
      }
    }
  }
  if (overCap.length > 0)
    violations.push(`more than ${CAP_PER_HOUR} reminder messages an hour: ${listed(overCap)}`);
  const escalationsOf = new Map<string, BotMessage[]>();
  for (const e of escalations)
    for (const id of e.sentIds) escalationsOf.set(id, [...(escalationsOf.get(id) ?? []), e]);
  const escalatedTwice: string[] = [];
  for (const [id, list] of escalationsOf) {
    const sorted = [...list].sort((a, b) => a.at - b.at);
    const distinct = sorted.filter((_e, i) => i === 0 || !sorted[i - 1]!.answerLost).length;
    if (distinct > 1)
      escalatedTwice.push(`${keyOf(id)} ×${distinct} (+${sorted.map((e) => e.at).join(", +")} ms)`);
  }
  if (escalatedTwice.length > 0) violations.push(`escalated more than once: ${listed(escalatedTwice)}`);

  // (c) Held: nothing after an accepted Snooze, nothing under a mute that surely ran, beyond what was queued.
  const unheld: string[] = [];
  for (const n of named) {
    for (const p of obs.snoozes) {
      if (p.incidentId !== n.incidentId || p.accepted !== true || p.at > n.at) continue;
      const by = deadline(p.at, s.pollIntervalMs + WORK_MS, [...obs.down, ...telegram(n.chatId)]);
      if (n.at > by)
        unheld.push(`${keyOf(n.incidentId)} in chat ${n.chatId} at +${n.at} ms, snoozed at +${p.at} ms`);
    }
    for (const mute of obs.surelyMuted(n.chatId, n.incidentId)) {
      const by = deadline(mute.from, s.pollIntervalMs + WORK_MS, [...obs.down, ...telegram(n.chatId)]);
      if (n.at > by && n.at < mute.to)
        unheld.push(`${keyOf(n.incidentId)} in chat ${n.chatId} at +${n.at} ms under ${mute.text}`);
    }
  }
  // The product's anchor (its first recorded delivery) is at most the newest copy of any chat.
  const anchorOf = (incidentId: string): number => {
    let anchor = Number.POSITIVE_INFINITY;
    for (const chatId of obs.chatIds) {
      const cards = cardsIn.get(`${incidentId}:${chatId}`);
      if (cards) anchor = Math.min(anchor, Math.max(...cards.map((c) => c.at)));
    }
    return anchor;
  };
  for (const e of escalations) {
    for (const id of e.sentIds) {
      // An escalation due before the press may have been queued before it: it still goes out (as a page
      // already sent does; the cards already say where it went). Only one due after the press is held.
      const escalationDue =
        s.escalation === null ? Number.POSITIVE_INFINITY : anchorOf(id) + s.escalation.afterMs;
      for (const p of obs.snoozes) {
        if (p.incidentId !== id || p.accepted !== true || p.at > e.at || escalationDue <= p.at) continue;
        const by = deadline(p.at, s.pollIntervalMs + WORK_MS, [...obs.down, ...telegram(e.chatId)]);
        if (e.at > by) unheld.push(`the escalation of ${keyOf(id)} at +${e.at} ms, snoozed at +${p.at} ms`);
      }
    }
  }
  if (unheld.length > 0) violations.push(`reminders a snooze or a mute should have held: ${listed(unheld)}`);

  // (b) Nothing owed is lost.
  const excused: Record<string, number> = {};
  const excuse = (why: string) => {
    excused[why] = (excused[why] ?? 0) + 1;
  };
  let owed = 0;
  let got = 0;
  let escalationsOwed = 0;
  let escalationsGot = 0;
  let notYetDue = 0;
  /** Owed but missing, each with the process ends that may have cut it short in flight. */
  const missing: Array<{ text: string; chatId: number; ends: number[] }> = [];
  // Snooze pressed by someone who could act (or may have been allowed), unless the bot answered it did nothing.
  const snoozedBy = (id: string, t: number) =>
    obs.snoozes.some((p) => p.incidentId === id && p.allowed !== "no" && p.accepted !== false && p.at <= t);
  const countIn = (chatId: number, until: number) =>
    (perChatMessages.get(chatId) ?? []).filter((m) => m.at <= until).length;
  for (const incident of obs.incidents) {
    const t = truth(incident.id);
    const first = firstCopy.get(incident.id);
    if (first === undefined) continue;
    const anchor = anchorOf(incident.id);
    if (rank(incident.severity) >= minRank) {
      for (const chatId of obs.chatIds) {
        const cards = cardsIn.get(`${incident.id}:${chatId}`);
        if (!cards) continue;
        const got_ = steps.get(`${incident.id}:${chatId}`) ?? [];
        const maxSteps = Math.max(
          0,
          ...obs.chatIds.map((c) => (steps.get(`${incident.id}:${c}`) ?? []).length),
        );
        for (let k = 1; k <= s.remindMax; k++) {
          // A later step follows the chat's previous one only while no other chat got more (a step missed here).
          if (k > 1 && maxSteps > k - 1 && got_.length < k) break;
          const due = k === 1 ? anchor + s.remindAfterMs : got_[k - 2]!.at + s.remindEveryMs;
          const by = owedBy(due, incident.id, chatId);
          const here = got_[k - 1];
          if (here !== undefined && here.at <= by) {
            owed++;
            got++;
            // A step held here meanwhile (a mute, the chat away, its hourly cap) still counts as a step:
            // this message may be a later one, and the next may be none.
            if (heldMeanwhile(incident, chatId, due, here.at)) break;
            // Came after the next step was due too: the steps waiting together went out as the latest one.
            if (here.at >= anchor + s.remindAfterMs + k * s.remindEveryMs - SKEW_MS) break;
            continue;
          }
          if (by > obs.endAt) {
            notYetDue++;
            break;
          }
          const why = reasonNotOwed(incident, chatId, due, by, Math.min(...cards.map((c) => c.at)));
          if (why !== null) {
            excuse(why);
            break;
          }
          owed++;
          const ends = obs.processEnds.filter((e) => e >= due - SKEW_MS && e <= by);
          missing.push({
            text: `${incident.key} step ${k} in chat ${chatId} (due +${due} ms, owed by +${by} ms${here ? `, came +${here.at} ms` : ""})`,
            chatId,
            ends,
          });
          break;
        }
      }
    }
    const esc = s.escalation;
    if (esc !== null && rank(incident.severity) >= (severityRank(esc.minSeverity) ?? 0)) {
      const due = anchor + esc.afterMs;
      const by = owedBy(due, incident.id, esc.chatId);
      const here = (escalationsOf.get(incident.id) ?? []).find((e) => e.at <= by);
      if (here !== undefined) {
        escalationsOwed++;
        escalationsGot++;
      } else if (by > obs.endAt) notYetDue++;
      else {
        const why = !t.unansweredThroughout(incident.appearedAt, by)
          ? "left New or taken"
          : snoozedBy(incident.id, by)
            ? "snoozed"
            : incident.appearedAt - incident.createdAt > Math.max(BACKFILL_AFTER_MS, esc.afterMs)
              ? "a backfill"
              : null;
        if (why !== null) excuse(`escalation: ${why}`);
        else {
          escalationsOwed++;
          const ends = obs.processEnds.filter((e) => e >= due - SKEW_MS && e <= by);
          missing.push({
            text: `the escalation of ${incident.key} (due +${due} ms, owed by +${by} ms)`,
            chatId: esc.chatId,
            ends,
          });
        }
      }
    }
  }

  /** Whether a step due from `due` on may have been held in the chat until `until`. */
  function heldMeanwhile(incident: ReminderIncident, chatId: number, due: number, until: number): boolean {
    return (
      obs.unavailable.some((u) => u.chatId === chatId && u.from <= until && u.to >= due) ||
      obs.mayBeMuted(chatId, incident.id, due, until) ||
      countIn(chatId, until) >= CAP_PER_HOUR
    );
  }

  /** Why a step due at `due` (owed by `by`) was not owed in a chat, or null. */
  function reasonNotOwed(
    incident: ReminderIncident,
    chatId: number,
    due: number,
    by: number,
    cardAt: number,
  ): string | null {
    if (!truth(incident.id).unansweredThroughout(incident.appearedAt, by)) return "left New or taken";
    if (snoozedBy(incident.id, by)) return "snoozed";
    if (cardAt > due) return "its card came later";
    if (obs.unavailable.some((u) => u.chatId === chatId && u.from <= by && u.to >= due))
      return "the chat could not receive";
    if (obs.mayBeMuted(chatId, incident.id, due, by)) return "a mute may have held it";
    if (countIn(chatId, by) >= CAP_PER_HOUR) return "the chat had its reminders of the hour";
    const among = unnamed.find(
      (u) => u.chatId === chatId && u.left > 0 && u.at >= due - SKEW_MS && u.at <= by,
    );
    if (among !== undefined) {
      among.left--;
      return "maybe among a collapsed message's unnamed lines";
    }
    return null;
  }

  // A process end may have cut one message per chat short: one incident, or a collapsed one (more than 3).
  let lostInFlight = 0;
  const lost: string[] = [];
  const byEnd = new Map<string, typeof missing>();
  for (const m of missing) {
    if (m.ends.length === 0) {
      lost.push(m.text);
      continue;
    }
    const k = `${m.ends[0]}:${m.chatId}`;
    byEnd.set(k, [...(byEnd.get(k) ?? []), m]);
  }
  for (const [k, list] of byEnd) {
    const [end] = k.split(":");
    const oneMessage =
      list.length === 1 || (list.length > COLLAPSE_ABOVE && list[0]!.chatId !== s.escalation?.chatId);
    if (oneMessage) lostInFlight += list.length;
    else
      lost.push(
        `${list.map((m) => m.text).join(", ")} (${list.length} at the process end at +${end} ms: one message at most)`,
      );
  }
  if (lost.length > 0)
    violations.push(`${lost.length} owed reminders or escalations never came: ${listed(lost)}`);

  return {
    violations,
    single,
    collapsed,
    collapsedLines,
    escalations: escalations.length,
    owed,
    got,
    escalationsOwed,
    escalationsGot,
    lostInFlight,
    excused,
    notYetDue,
    afterLeavingWithinAllowance,
  };
}
