// Button presses under incident messages: Refresh, Approve, Take, Resolve, Close (confirmed in place with a
// reason or Cancel). The buttons follow the status (design.md §4) and a transition is made only forward
// from what the SIEM says now; a press that came too late is answered with who got there first.
// A press counts only when it is genuine — the incident was delivered to this very chat as this very
// message — and the presser may act (BOT_ACTION_POLICY). Every press is answered, audited and counted.
// After a change the store is refreshed and delivery is told, which edits every copy of the message.
import type { User } from "grammy/types";
import { remindersOn, secretValues } from "../config/types.js";
import { reminderTexts } from "../i18n/index.js";
import { redactSecrets } from "../log/logger.js";
import { type CloseReason, closeReasonOf, type IncidentAction } from "../render/callback-data.js";
import { cleanInline, formatClock, incidentKeyboard, isOffered, SIEM_ACTOR } from "../render/index.js";
import { SNOOZE_MS } from "../schedule/index.js";
import { SiemError, type TransitionTarget } from "../siem/types.js";
import type { BotAction } from "../store/index.js";
import { mayActOnIncidents } from "./access.js";
import type { BotContext, BotServices } from "./context.js";
import { actorLabel, siemActor } from "./names.js";
import { describeError } from "./notify.js";
import { PressAnswer } from "./press-answer.js";
import { toReplyMarkup } from "./send.js";

/** Incidents with a press being worked on: a second press on the same incident waits its turn. */
export type InFlight = Set<string>;

/**
 * How long "Yes, close" stays good after Close was pressed under the same message. Kept in the store,
 * so a restart in between does not lose it; the keyboard alone proves nothing (a client can send any
 * button's data), so a "Yes" without it asks again.
 */
export const CLOSE_CONFIRMATION_TTL_MS = 5 * 60_000;

interface Press {
  s: BotServices;
  ctx: BotContext;
  answer: PressAnswer;
  actor: User;
  chatId: number;
  messageId: number;
  incidentId: string;
  action: IncidentAction;
}

async function record(p: Press, result: string, detail?: string): Promise<void> {
  p.s.metrics.actions.inc({ action: `incident.${p.action}`, result });
  await p.s.audit({
    actorId: p.actor.id,
    actorName: actorLabel(p.actor),
    chatId: p.chatId,
    action: `incident.${p.action}`,
    target: p.incidentId,
    result,
    detail: detail ?? null,
  });
}

/**
 * A press whose data did not parse, or that does not belong to the message it came from (forged,
 * copied from another chat's message, expired). Answered, audited, nothing changed.
 */
export async function handleUnknownPress(s: BotServices, ctx: BotContext, reason: string): Promise<void> {
  const from = ctx.from;
  s.metrics.actions.inc({ action: "unknown", result: "unknown" });
  const data = ctx.callbackQuery?.data ?? "";
  await s.audit({
    actorId: from?.id ?? null,
    actorName: from ? actorLabel(from) : null,
    chatId: ctx.callbackQuery?.message?.chat.id ?? null,
    action: "button.unknown",
    target: null,
    result: "unknown",
    // Whatever a stranger put there, only a clipped, printable form is kept.
    detail: `${reason}: ${JSON.stringify(data.slice(0, 80))}`,
  });
  await new PressAnswer(ctx, s.extra.working, s.logger).answer(s.texts.actions.unknownButton);
}

export async function handleIncidentPress(
  s: BotServices,
  ctx: BotContext,
  inFlight: InFlight,
  data: { action: IncidentAction; incidentId: string },
): Promise<void> {
  const message = ctx.callbackQuery?.message;
  const actor = ctx.from;
  if (!message || !actor) return handleUnknownPress(s, ctx, "no message");
  const copy = await s.store.outbox.copyIn(data.incidentId, message.chat.id, message.message_id);
  if (!copy || copy.messageId !== message.message_id) {
    return handleUnknownPress(s, ctx, copy ? "not the delivered message" : "not delivered to this chat");
  }
  const p: Press = {
    s,
    ctx,
    answer: new PressAnswer(ctx, s.extra.working, s.logger),
    actor,
    chatId: message.chat.id,
    messageId: message.message_id,
    incidentId: data.incidentId,
    action: data.action,
  };
  try {
    if (!mayActOnIncidents(ctx.access, s.config.bot.actionPolicy)) {
      await record(p, "not_allowed", ctx.access.role);
      await p.answer.answer(s.texts.actions.notAllowed);
      return;
    }
    if (inFlight.has(p.incidentId)) {
      await record(p, "busy");
      await p.answer.answer(s.texts.actions.busy);
      return;
    }
    inFlight.add(p.incidentId);
    try {
      await perform(p);
    } finally {
      inFlight.delete(p.incidentId);
    }
  } finally {
    await p.answer.answer(); // whatever happened above, the press is answered
  }
}

async function perform(p: Press): Promise<void> {
  const { s } = p;
  const a = s.texts.actions;
  const reason = closeReasonOf(p.action);
  if (reason !== null) {
    const confirmed = await s.store.closeConfirmations.take(
      p.chatId,
      p.messageId,
      p.incidentId,
      s.now() - CLOSE_CONFIRMATION_TTL_MS,
    );
    // Not asked under this message, or too long ago: this press only asks.
    if (!confirmed) return askToConfirmClose(p, "not confirmed on this message");
    return change(p, "Closed", reason);
  }
  switch (p.action) {
    case "refresh": {
      const outcome = await reread(p);
      if (outcome.ok) {
        await record(p, "ok", outcome.changed ? "changed" : "unchanged");
        await p.answer.answer(a.refreshed);
      } else {
        await record(p, "failed", outcome.reason);
        await p.answer.answer(a.failed(outcome.reason));
      }
      return;
    }
    case "close":
      return askToConfirmClose(p);
    case "close_no": {
      await s.store.closeConfirmations.withdraw(p.chatId, p.messageId);
      const stored = await s.store.incidents.get(p.incidentId);
      await p.answer.answer(a.cancelled);
      await setKeyboard(p, stored?.status ?? "", false);
      await record(p, "ok");
      return;
    }
    case "approve":
      return change(p, "Approved");
    case "take":
      return change(p, "InProgress");
    case "resolve":
      return change(p, "Resolved");
    case "snooze":
      return snooze(p);
    default:
      return;
  }
}

/**
 * Snooze (design.md §5): reminders and escalation of a New incident pause for an hour. Only the store's
 * jobs change (their generation is bumped, so a job read before this exits); the SIEM never does.
 */
async function snooze(p: Press): Promise<void> {
  const { s } = p;
  const r = reminderTexts(s.config.bot.locale);
  const stored = await s.store.incidents.get(p.incidentId);
  if (!stored || !isOffered("snooze", stored.status) || !remindersOn(s.config)) {
    await record(p, "not_offered", stored?.status);
    await p.answer.answer(r.nothingToSnooze);
    return;
  }
  const until = s.now() + SNOOZE_MS;
  await s.store.reminders.bump(p.incidentId, { snoozedUntil: until });
  // A reminder queued before the press but not yet sent goes too (an escalation already queued does not).
  await s.store.reminders.dropPendingReminders(p.incidentId);
  await record(p, "ok", new Date(until).toISOString());
  await p.answer.answer(r.snoozed(formatClock(new Date(until), s.config.bot.timeZone, s.config.bot.locale)));
}

/** Close (or a reason that did not count): shows the reasons and Cancel under the message and remembers it. */
async function askToConfirmClose(p: Press, detail?: string): Promise<void> {
  const { s } = p;
  const stored = await s.store.incidents.get(p.incidentId);
  if (!stored || !isOffered("close", stored.status)) {
    // The buttons were stale: say who got there first and bring the copies up to date.
    const now = await reread(p);
    return raced(p, now.ok ? now.status : (stored?.status ?? ""), now.ok ? now.changed : false);
  }
  await s.store.closeConfirmations.ask(p.chatId, p.messageId, p.incidentId, p.actor.id, s.now());
  // Answer first: the keyboard edit is paced like any message and may wait for the chat's turn.
  await p.answer.answer(s.texts.workflow.confirmClose);
  await setKeyboard(p, stored.status, true);
  await record(p, "confirm_asked", detail);
}

const BOT_ACTION_OF: Record<TransitionTarget, BotAction["action"]> = {
  Approved: "approve",
  InProgress: "take",
  Resolved: "resolve",
  Closed: "close",
};

/** The SIEM comment of a transition: it names the Telegram user and, for Close, the reason. */
function commentFor(p: Press, target: TransitionTarget, reason: CloseReason | null) {
  const c = p.s.texts.siemComment;
  const w = p.s.texts.workflow.siemComment;
  const who = siemActor(p.actor);
  switch (target) {
    case "Approved":
      return { measures: c.approveMeasures, message: c.approveMessage(who) };
    case "InProgress":
      return { measures: w.takeMeasures, message: w.takeMessage(who) };
    case "Resolved":
      return { measures: w.resolveMeasures, message: w.resolveMessage(who) };
    case "Closed":
      return { measures: w.closeMeasures, message: w.closeMessage(who, reason ?? "false_positive") };
  }
}

/**
 * A transition in the SIEM: first a fresh read (a forward transition from what the incident is now, not
 * from what the card showed), then the transition with a comment, then — for Take by a linked user — the
 * assignment; then re-read and refresh. Someone else having got there first is answered with who and when.
 */
async function change(p: Press, target: TransitionTarget, reason: CloseReason | null = null): Promise<void> {
  const { s } = p;
  const a = s.texts.actions;
  const w = s.texts.workflow.answers;
  const before = await reread(p);
  if (!before.ok) {
    await record(p, "failed", before.reason);
    await p.answer.answer(a.failed(before.reason));
    if (reason !== null) await restoreKeyboard(p);
    return;
  }
  if (!isOffered(p.action, before.status)) return raced(p, before.status, before.changed);
  try {
    await s.siem.transition(p.incidentId, target, commentFor(p, target, reason));
  } catch (err) {
    const why = reasonOf(s, err);
    if (err instanceof SiemError && err.kind === "refused") {
      // Most often someone else changed it first (the SIEM UI, or another bot): show what it is now.
      const now = await reread(p);
      if (now.ok && now.status !== before.status) return raced(p, now.status, now.changed, why);
    }
    await record(p, "failed", why);
    await p.answer.answer(a.failed(why));
    if (reason !== null) await restoreKeyboard(p);
    return;
  }
  // Shown at once, before the SIEM's read model shows it (it may lag): the read that follows confirms it
  // and never takes the copies back.
  await s.reader.recordOwnChange(p.incidentId, target, actorLabel(p.actor), {
    action: BOT_ACTION_OF[target],
    reason,
  });
  s.onIncidentChanged(p.incidentId);
  // Any status change ends a snooze, and every transition leaves New: the reminder jobs are over, and
  // one read before this exits (design.md §5).
  await s.store.reminders.bump(p.incidentId, { snoozedUntil: null, done: true });
  let answer: string;
  let detail: string | undefined;
  switch (target) {
    case "InProgress": {
      const assigned = await assignToPresser(p);
      answer = assigned.answer;
      detail = assigned.detail;
      break;
    }
    case "Resolved":
      answer = w.resolved;
      break;
    case "Closed":
      answer = w.closed(reason ?? "false_positive");
      detail = reason ?? undefined;
      break;
    default:
      answer = a.approved;
  }
  const outcome = await reread(p);
  const rereadNote = outcome.ok ? undefined : `changed in the SIEM; re-read failed: ${outcome.reason}`;
  await record(p, "ok", [detail, rereadNote].filter(Boolean).join("; ") || undefined);
  await p.answer.answer(answer);
}

/**
 * Take's assignment: the presser's linked MP login → its UUID now (users query) → PUT with the full body.
 * Not linked: no assignment, and the answer says to ask an admin. A failure leaves the incident taken.
 */
async function assignToPresser(p: Press): Promise<{ answer: string; detail: string }> {
  const { s } = p;
  const w = s.texts.workflow.answers;
  const link = await s.store.userLinks.get(p.actor.id);
  if (!link) return { answer: w.takenNotLinked(p.actor.id), detail: "not linked" };
  try {
    const user = await s.siem.findUser(link.mpLogin);
    if (!user) {
      const why = s.texts.workflow.links.loginNotFound(link.mpLogin);
      return { answer: w.takenAssignFailed(why), detail: `assign failed: no MP user ${link.mpLogin}` };
    }
    await s.siem.assign(p.incidentId, user.id);
    return { answer: w.taken(user.userName), detail: `assigned to ${user.userName} (${user.id})` };
  } catch (err) {
    const why = reasonOf(s, err);
    return { answer: w.takenAssignFailed(why), detail: `assign failed: ${why}` };
  }
}

/**
 * The press came too late: the incident is already `status`, which does not offer it. Answered with who
 * did it and when (the bot's own record of the change, else the SIEM's history), and the pressed copy
 * shows the current buttons (the others follow through delivery).
 */
async function raced(p: Press, status: string, changed: boolean, detail?: string): Promise<void> {
  const { s } = p;
  const who = await whoMade(p, status);
  await record(p, "already_changed", [status, detail].filter(Boolean).join("; "));
  await p.answer.answer(s.texts.workflow.answers.raced({ status: cleanInline(status), ...who }));
  s.onIncidentChanged(p.incidentId);
  // The copy may show stale buttons or the reasons without any change to edit: set them here.
  if (!changed || closeReasonOf(p.action) !== null || p.action === "close")
    await setKeyboard(p, status, false);
}

/** Who moved the incident to `status`, and when, as far as the store or the SIEM's history tell. */
async function whoMade(p: Press, status: string): Promise<{ by: string | null; time: string | null }> {
  const { s } = p;
  const { timeZone, locale } = s.config.bot;
  const clock = (d: Date | null | undefined) =>
    d && Number.isFinite(d.getTime()) ? formatClock(d, timeZone, locale) : null;
  const stored = await s.store.incidents.get(p.incidentId);
  const last = stored?.lastAction;
  if (last && last.status === status && last.by !== SIEM_ACTOR) return { by: last.by, time: clock(last.at) };
  try {
    const history = await s.siem.transitionHistory(p.incidentId);
    const entry = [...history].reverse().find((h) => h.nextStatus === status);
    if (!entry) return { by: null, time: null };
    const link = entry.changedBy ? await s.store.userLinks.byMpUserId(entry.changedBy) : undefined;
    return { by: link ? link.mpLogin : SIEM_ACTOR, time: clock(entry.at) };
  } catch {
    return { by: null, time: null };
  }
}

/** After a close that did not happen: the normal buttons of what the store knows now. */
async function restoreKeyboard(p: Press): Promise<void> {
  const stored = await p.s.store.incidents.get(p.incidentId);
  await setKeyboard(p, stored?.status ?? "New", false);
}

type Reread = { ok: true; status: string; changed: boolean } | { ok: false; reason: string };

/** Reads the incident and its first events again through the shared read routine, and tells delivery. */
async function reread(p: Press): Promise<Reread> {
  const { s } = p;
  try {
    const result = await s.reader.reread(p.incidentId);
    s.onIncidentChanged(p.incidentId);
    if (!result) return { ok: false, reason: "not in the store" };
    return { ok: true, status: result.incident.status, changed: result.changed };
  } catch (err) {
    return { ok: false, reason: reasonOf(s, err) };
  }
}

async function setKeyboard(p: Press, status: string, confirmingClose: boolean): Promise<void> {
  const markup = toReplyMarkup(
    incidentKeyboard(p.incidentId, status, p.s.config.bot.locale, confirmingClose, {
      snooze: remindersOn(p.s.config),
    }),
  );
  try {
    await p.s.api.editMessageReplyMarkup(p.chatId, p.messageId, { reply_markup: markup });
  } catch (err) {
    const text = describeError(err);
    if (!/message is not modified/i.test(text)) {
      p.s.logger.info({ chatId: p.chatId, err: text }, "could not change an incident message's buttons");
    }
  }
}

/** Why a SIEM call failed, for the person who pressed: the kind and the message (cleaned), never a secret. */
function reasonOf(s: BotServices, err: unknown): string {
  const text = err instanceof SiemError ? `${err.kind}: ${err.message}` : describeError(err);
  return cleanInline(redactSecrets(text, secretValues(s.config)));
}
