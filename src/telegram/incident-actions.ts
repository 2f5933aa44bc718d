// Button presses under incident messages: Refresh, Approve, Close (confirmed in place with Yes / Cancel).
// A press counts only when it is genuine — the incident was delivered to this very chat as this very
// message — and the presser may act (BOT_ACTION_POLICY). Every press is answered, audited and counted.
// After a change the store is refreshed and delivery is told, which edits every copy of the message.
import type { User } from "grammy/types";
import { secretValues } from "../config/types.js";
import { redactSecrets } from "../log/logger.js";
import type { IncidentAction } from "../render/callback-data.js";
import { cleanInline, incidentKeyboard, isActionableStatus } from "../render/index.js";
import { SiemError, type TransitionTarget } from "../siem/types.js";
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
  const copy = await s.store.outbox.copyIn(data.incidentId, message.chat.id);
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
    case "close_yes": {
      const confirmed = await s.store.closeConfirmations.take(
        p.chatId,
        p.messageId,
        p.incidentId,
        s.now() - CLOSE_CONFIRMATION_TTL_MS,
      );
      // Not asked under this message, or too long ago: this press only asks.
      if (!confirmed) return askToConfirmClose(p, "not confirmed on this message");
      return change(p, "Closed");
    }
  }
}

/** Close (or a "Yes, close" that did not count): shows Yes, close / Cancel under the message and remembers it. */
async function askToConfirmClose(p: Press, detail?: string): Promise<void> {
  const { s } = p;
  const a = s.texts.actions;
  const stored = await s.store.incidents.get(p.incidentId);
  if (!stored || !isActionableStatus(stored.status)) {
    // The buttons were stale: delivery brings the message up to date.
    s.onIncidentChanged(p.incidentId);
    await record(p, "already_changed", stored?.status);
    await p.answer.answer(a.alreadyChanged(cleanInline(stored?.status)));
    return;
  }
  await s.store.closeConfirmations.ask(p.chatId, p.messageId, p.incidentId, p.actor.id, s.now());
  // Answer first: the keyboard edit is paced like any message and may wait for the chat's turn.
  await p.answer.answer(a.confirmClose);
  await setKeyboard(p, stored.status, true);
  await record(p, "confirm_asked", detail);
}

/** Approve or Close in the SIEM, with a comment naming the person and the bot; then re-read and refresh. */
async function change(p: Press, target: TransitionTarget): Promise<void> {
  const { s } = p;
  const a = s.texts.actions;
  const c = s.texts.siemComment;
  const who = siemActor(p.actor);
  const comment =
    target === "Approved"
      ? { measures: c.approveMeasures, message: c.approveMessage(who) }
      : { measures: c.closeMeasures, message: c.closeMessage(who) };
  try {
    await s.siem.transition(p.incidentId, target, comment);
  } catch (err) {
    const reason = reasonOf(s, err);
    if (err instanceof SiemError && err.kind === "refused") {
      // Most often someone else changed it first: show what it is now.
      const now = await reread(p);
      if (now.ok && now.status !== "New") {
        await record(p, "already_changed", `${now.status}; ${reason}`);
        await p.answer.answer(a.alreadyChanged(cleanInline(now.status)));
        if (p.action === "close_yes" && !now.changed) await setKeyboard(p, now.status, false);
        return;
      }
    }
    await record(p, "failed", reason);
    await p.answer.answer(a.failed(reason));
    if (p.action === "close_yes") {
      const stored = await s.store.incidents.get(p.incidentId);
      await setKeyboard(p, stored?.status ?? "New", false);
    }
    return;
  }
  // Shown at once, before the SIEM's read model shows it (it may lag): the read that follows confirms it
  // and never takes the copies back.
  await s.reader.recordOwnChange(p.incidentId, target, actorLabel(p.actor));
  s.onIncidentChanged(p.incidentId);
  const outcome = await reread(p);
  await record(p, "ok", outcome.ok ? undefined : `changed in the SIEM; re-read failed: ${outcome.reason}`);
  await p.answer.answer(target === "Approved" ? a.approved : a.closed);
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
    incidentKeyboard(p.incidentId, status, p.s.config.bot.locale, confirmingClose),
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
