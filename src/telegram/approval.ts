// Which chats receive incidents: the request to every admin when a chat asks (Allow / Ignore / Block),
// and the state changes behind the buttons and the admin commands. Every change is audited, and a
// decision is written into every admin's copy of the request, with who made it and when.
import type { User } from "grammy/types";
import type { ChatDecisionKind } from "../i18n/index.js";
import { chatRequestKeyboard, clipText, formatTime, TELEGRAM_TEXT_LIMIT } from "../render/index.js";
import type { Chat, ChatIdentity } from "../store/index.js";
import { mayDecideOnChats } from "./access.js";
import type { BotContext, BotServices } from "./context.js";
import { actorLabel, chatRefOfIdentity, chatRefOfStored, identityOf, personOf } from "./names.js";
import { type AdminCopy, describeError } from "./notify.js";
import { PressAnswer } from "./press-answer.js";
import { sendPlain, toReplyMarkup } from "./send.js";

export type RequestOutcome = "asked" | "already-asked" | "capped" | "allowed" | "banned";

/**
 * At most this many open requests caused by one person (adding the bot to groups, /start) within
 * REQUEST_CAP_WINDOW_MS; more get a short answer and reach no admin. Admins are not capped.
 */
export const MAX_OPEN_REQUESTS_PER_PERSON = 3;
export const REQUEST_CAP_WINDOW_MS = 3_600_000;
/**
 * A request whose notices never reached an admin (the process died while sending) stops counting as
 * "asked" after this long, so the chat can ask again.
 */
const UNDELIVERED_REQUEST_GRACE_MS = 10 * 60_000;

/** Runs the given steps one call at a time, so a check and the write that depends on it are never interleaved. */
export class SerialGate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step, step);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * A chat asks for incidents (/start, or the bot was added to it). Admins are asked once per open request:
 * a chat already waiting is told so, an allowed one is told so by the caller, a banned one is ignored, and
 * a person with too many open requests is refused (capped). The sends go through `s.requestPace`.
 */
export async function requestApproval(
  s: BotServices,
  req: { identity: ChatIdentity; threadId: number | null; by?: User },
): Promise<RequestOutcome> {
  // Updates are handled concurrently: the checks and the reservation run one request at a time.
  const decided = await s.requestGate.run(() => reserve(s, req));
  if (decided !== "ask") return decided;
  return askAdmins(s, req);
}

async function reserve(
  s: BotServices,
  req: { identity: ChatIdentity; threadId: number | null; by?: User },
): Promise<RequestOutcome | "ask"> {
  const chatId = req.identity.id;
  const existing = await s.store.chats.get(chatId);
  if (existing?.state === "banned") return "banned";
  if (existing?.state === "allowed") {
    await s.store.chats.remember(req.identity);
    if (existing.active === 0) {
      // Added back to a chat it was allowed in before: it receives again.
      await s.store.chats.setActive(existing.id, true, null);
      await s.audit({
        actorId: req.by?.id ?? null,
        actorName: req.by ? actorLabel(req.by) : null,
        chatId: existing.id,
        action: "chat.reactivate",
        target: String(existing.id),
        result: "ok",
      });
    }
    return "allowed";
  }
  if (existing?.state === "pending" && (await isAsked(s, chatId))) {
    await s.store.chats.remember(req.identity);
    return "already-asked";
  }
  const by = req.by;
  if (by && !s.config.telegram.adminIds.includes(by.id)) {
    const open = await s.store.approvals.pendingRequestsBy(by.id, s.now() - REQUEST_CAP_WINDOW_MS);
    if (open >= MAX_OPEN_REQUESTS_PER_PERSON) {
      await s.audit({
        actorId: by.id,
        actorName: actorLabel(by),
        chatId,
        action: "chat.request",
        target: String(chatId),
        result: "capped",
        detail: `${open} requests by this person are waiting already; the admins were not asked`,
      });
      return "capped";
    }
  }
  await s.store.chats.remember(req.identity);
  await s.store.approvals.openRequest(chatId, by?.id ?? null, s.now());
  await s.store.chats.setState(chatId, "pending", null);
  return "ask";
}

/** The chat's request is open and its notices reached an admin (or are still being sent). */
async function isAsked(s: BotServices, chatId: number): Promise<boolean> {
  if ((await s.store.approvals.open(chatId)).length > 0) return true;
  const request = await s.store.approvals.pendingRequest(chatId);
  return request !== undefined && request.requested_at > s.now() - UNDELIVERED_REQUEST_GRACE_MS;
}

async function askAdmins(
  s: BotServices,
  req: { identity: ChatIdentity; threadId: number | null; by?: User },
): Promise<"asked"> {
  const chatId = req.identity.id;
  const text = s.texts.chats.newChatRequest({
    chat: chatRefOfIdentity(req.identity, req.threadId),
    by: req.by ? personOf(req.by) : undefined,
  });
  const keyboard = toReplyMarkup(chatRequestKeyboard(chatId, req.threadId, s.config.bot.locale));
  let copies: AdminCopy[];
  try {
    // Each admin's copy in the lane of their chat: after the incidents waiting for it (request-pace.ts).
    const sent = await Promise.all(
      s.notifier.adminIds.map((adminId) =>
        s.requestPace.inLane(
          adminId,
          () => incidentsWaitFor(s, adminId),
          () => s.notifier.notifyOne(adminId, text, { replyMarkup: keyboard }),
        ),
      ),
    );
    copies = sent.filter((copy): copy is AdminCopy => copy !== null);
  } catch (err) {
    await s.store.approvals.withdrawRequest(chatId); // not asked after all: the chat may ask again
    throw err;
  }
  for (const copy of copies) await s.store.approvals.add(chatId, copy.adminId, copy.messageId);
  // Nobody could be told: the request is withdrawn, so the next /start asks again.
  if (copies.length === 0) await s.store.approvals.withdrawRequest(chatId);
  await s.audit({
    actorId: req.by?.id ?? null,
    actorName: req.by ? actorLabel(req.by) : null,
    chatId,
    action: "chat.request",
    target: String(chatId),
    result: copies.length > 0 ? "ok" : "failed",
    detail: `asked ${copies.length} of ${s.notifier.adminIds.length} admins${
      req.threadId !== null ? `, topic ${req.threadId}` : ""
    }`,
  });
  return "asked";
}

/** Incidents are queued for this chat, or its copies wait for an edit: delivery's traffic goes first. */
async function incidentsWaitFor(s: BotServices, chatId: number): Promise<boolean> {
  if ((await s.store.outbox.pendingForChat(chatId, 1)).length > 0) return true;
  return (await s.store.outbox.staleCopiesForChat(chatId, 1)).length > 0;
}

/** What a chat is told after asking (none for a banned chat): within the request traffic's own budget. */
export async function answerRequest(
  s: BotServices,
  outcome: RequestOutcome,
  send: (text: string) => Promise<unknown>,
): Promise<void> {
  const c = s.texts.chats;
  const text = {
    asked: c.pending,
    "already-asked": c.alreadyAsked,
    capped: c.tooManyRequests,
    allowed: c.alreadySubscribed,
    banned: undefined,
  }[outcome];
  if (text === undefined) return;
  await s.requestPace.take(1);
  await send(text);
}

/** Tells a chat something, in its topic; a chat that cannot be reached (blocked, gone) is only logged. */
async function tellChat(
  s: BotServices,
  chatId: number,
  threadId: number | null,
  text: string,
): Promise<boolean> {
  try {
    await sendPlain(s.api, chatId, text, { threadId });
    return true;
  } catch (err) {
    s.logger.info({ chatId, err: describeError(err) }, "could not tell a chat about a decision");
    return false;
  }
}

/**
 * Writes the decision into every admin's copy of the open request for this chat and removes its
 * buttons. `requestText` is the request as sent (from the pressed message); without it, it is rebuilt.
 */
export async function closeRequests(
  s: BotServices,
  chatId: number,
  decision: ChatDecisionKind,
  actor: User,
  requestText?: string,
): Promise<number> {
  const copies = await s.store.approvals.open(chatId);
  // Marked first, so a second admin pressing at the same moment does not edit the copies again; and also
  // when no copy exists (yet), so the request stops counting against the person who caused it.
  await s.store.approvals.markDecided(chatId);
  if (copies.length === 0) return 0;
  let original = requestText;
  if (original === undefined) {
    const chat = await s.store.chats.get(chatId);
    original = s.texts.chats.newChatRequest({
      chat: chat ? chatRefOfStored(chat) : { id: chatId, kind: chatId > 0 ? "private" : "supergroup" },
    });
  }
  const note = s.texts.chats.requestDecision({
    decision,
    by: actorLabel(actor),
    time: formatTime(new Date(s.now()), s.config.bot.timeZone, s.config.bot.locale),
  });
  const text = clipText(`${original}\n\n${note}`, TELEGRAM_TEXT_LIMIT);
  let edited = 0;
  for (const copy of copies) {
    try {
      // No reply_markup: the buttons go away with the edit.
      await s.api.editMessageText(copy.admin_chat_id, copy.message_id, text, {
        link_preview_options: { is_disabled: true },
      });
      edited++;
    } catch (err) {
      s.logger.info(
        { adminChatId: copy.admin_chat_id, err: describeError(err) },
        "could not edit an admin's copy of a chat request",
      );
    }
  }
  return edited;
}

/**
 * An admin may name a chat the bot has never seen (/accept -100123): ask Telegram what it is called, so lists
 * and confirmations show a title rather than a bare id. Best effort — an unknown chat simply stays nameless.
 */
async function learnNames(s: BotServices, chatId: number): Promise<void> {
  const known = await s.store.chats.get(chatId);
  if (known && (known.title || known.username || known.first_name)) return;
  try {
    const chat = await s.api.getChat(chatId);
    await s.store.chats.remember(identityOf(chat));
  } catch (err) {
    s.logger.debug({ chatId, err: describeError(err) }, "getChat failed; the chat stays nameless");
  }
}

interface Change {
  before: Chat | undefined;
  after: Chat | undefined;
}

function audited(
  s: BotServices,
  actor: User,
  action: string,
  chatId: number,
  result: string,
  detail?: string,
) {
  return s.audit({
    actorId: actor.id,
    actorName: actorLabel(actor),
    chatId,
    action,
    target: String(chatId),
    result,
    detail: detail ?? null,
  });
}

/**
 * Allow: the chat receives incidents from now on (and is told so). `threadId` (from a request made in
 * a forum topic) sets the topic deliveries go to; undefined keeps the one it has.
 */
export async function allowChat(
  s: BotServices,
  chatId: number,
  threadId: number | null | undefined,
  actor: User,
  requestText?: string,
): Promise<Change> {
  const before = await s.store.chats.get(chatId);
  await s.store.chats.ensure(chatId, "allowed", actor.id);
  await learnNames(s, chatId);
  if (threadId !== undefined) await s.store.chats.setThread(chatId, threadId);
  const after = await s.store.chats.get(chatId);
  await audited(s, actor, "chat.allow", chatId, "ok", threadId != null ? `topic ${threadId}` : undefined);
  await closeRequests(s, chatId, "allow", actor, requestText);
  const newlyAllowed =
    before?.state !== "allowed" || before.active === 0 || before.thread_id !== after?.thread_id;
  if (newlyAllowed) await tellChat(s, chatId, after?.thread_id ?? null, s.texts.chats.allowed);
  return { before, after };
}

/** Ignore: nothing durable — a waiting chat may ask again later. An allowed or banned chat is left as it is. */
export async function ignoreChat(
  s: BotServices,
  chatId: number,
  actor: User,
  requestText?: string,
): Promise<Change> {
  const before = await s.store.chats.get(chatId);
  if (before?.state === "pending") await s.store.chats.setState(chatId, "denied", actor.id);
  await audited(s, actor, "chat.ignore", chatId, "ok");
  await closeRequests(s, chatId, "ignore", actor, requestText);
  return { before, after: await s.store.chats.get(chatId) };
}

/** Block/ban: removed from the recipients, its undelivered incidents dropped, its messages and presses ignored. */
export async function banChat(
  s: BotServices,
  chatId: number,
  actor: User,
  requestText?: string,
): Promise<Change> {
  const before = await s.store.chats.get(chatId);
  await s.store.chats.ensure(chatId, "banned", actor.id);
  await learnNames(s, chatId);
  const cancelled = await s.store.outbox.cancelForChat(chatId, "chat banned");
  await audited(s, actor, "chat.ban", chatId, "ok", `${cancelled} undelivered cancelled`);
  await closeRequests(s, chatId, "block", actor, requestText);
  if (before && before.state !== "banned") await tellChat(s, chatId, before.thread_id, s.texts.chats.banned);
  return { before, after: await s.store.chats.get(chatId) };
}

/** Deny: a receiving or waiting chat stops receiving (it is told) and may ask again. Undefined when not in either list. */
export async function denyChat(s: BotServices, chatId: number, actor: User): Promise<Change | undefined> {
  const before = await s.store.chats.get(chatId);
  if (!before || (before.state !== "allowed" && before.state !== "pending")) {
    await audited(s, actor, "chat.deny", chatId, "not_in_list");
    return undefined;
  }
  await s.store.chats.setState(chatId, "denied", actor.id);
  const cancelled = await s.store.outbox.cancelForChat(chatId, "chat denied");
  await audited(s, actor, "chat.deny", chatId, "ok", `${cancelled} undelivered cancelled`);
  await closeRequests(s, chatId, "ignore", actor);
  if (before.state === "allowed" && before.active === 1) {
    await tellChat(s, chatId, before.thread_id, s.texts.chats.denied);
  }
  return { before, after: await s.store.chats.get(chatId) };
}

/** Unban: the block is lifted; the chat is denied (not receiving) and may ask again. Undefined when not banned. */
export async function unbanChat(s: BotServices, chatId: number, actor: User): Promise<Change | undefined> {
  const before = await s.store.chats.get(chatId);
  if (before?.state !== "banned") {
    await audited(s, actor, "chat.unban", chatId, "not_in_list");
    return undefined;
  }
  await s.store.chats.setState(chatId, "denied", actor.id);
  await audited(s, actor, "chat.unban", chatId, "ok");
  return { before, after: await s.store.chats.get(chatId) };
}

/** An admin pressed Allow / Ignore / Block under a request. Anyone else is refused; every press is answered. */
export async function handleChatDecision(
  s: BotServices,
  ctx: BotContext,
  data: { decision: ChatDecisionKind; chatId: number; threadId: number | null },
): Promise<void> {
  const actor = ctx.from!;
  const action = `chat.${data.decision}`;
  if (!mayDecideOnChats(ctx.access)) {
    s.metrics.actions.inc({ action, result: "not_allowed" });
    await audited(s, actor, action, data.chatId, "not_allowed"); // before the answer: answered means recorded
    await new PressAnswer(ctx, s.extra.working, s.logger).answer(s.texts.commands.adminsOnly);
    return;
  }
  const press = new PressAnswer(ctx, s.extra.working, s.logger);
  try {
    const message = ctx.callbackQuery?.message;
    // The request text is taken from the pressed message only when it is one of the open copies.
    const open = await s.store.approvals.open(data.chatId);
    const genuine =
      message !== undefined &&
      open.some((c) => c.admin_chat_id === message.chat.id && c.message_id === message.message_id);
    const requestText = genuine && message && "text" in message ? message.text : undefined;
    if (data.decision === "allow") await allowChat(s, data.chatId, data.threadId, actor, requestText);
    else if (data.decision === "ignore") await ignoreChat(s, data.chatId, actor, requestText);
    else await banChat(s, data.chatId, actor, requestText);
    s.metrics.actions.inc({ action, result: "ok" });
    await press.answer(
      s.texts.chats.requestDecision({
        decision: data.decision,
        by: actorLabel(actor),
        time: formatTime(new Date(s.now()), s.config.bot.timeZone, s.config.bot.locale),
      }),
    );
  } finally {
    await press.answer(); // a failure above still answers the press
  }
}
