// The ONE place that decides who may do what. Every command and every button press is authorised here;
// updates from banned chats (or banned people) stop here and reach no handler.
import type { Context, MiddlewareFn } from "grammy";
import type { ActionPolicy } from "../config/types.js";
import type { Chat, Store } from "../store/index.js";

/**
 * admin: listed in TELEGRAM_ADMIN_IDS; allowed-user: the person's own private chat receives incidents;
 * allowed-chat: the chat the update came from receives incidents (the person was not allowed personally);
 * banned: the chat or the person was blocked; unknown: anyone else.
 */
export type Role = "admin" | "allowed-user" | "allowed-chat" | "unknown" | "banned";

export interface Access {
  role: Role;
  userId: number | null;
  chatId: number | null;
  /** The stored record of the chat the update came from, if the bot knows it. */
  chat: Chat | undefined;
}

export interface AccessFlavor {
  access: Access;
}

export async function resolveAccess(
  store: Store,
  adminIds: readonly number[],
  userId: number | null,
  chatId: number | null,
): Promise<Access> {
  const chat = chatId === null ? undefined : await store.chats.get(chatId);
  const isAdmin = userId !== null && adminIds.includes(userId);
  if (isAdmin) return { role: "admin", userId, chatId, chat };
  // A person's own record is their private chat (same id): a person blocked there is blocked everywhere.
  const person = userId === null ? undefined : userId === chatId ? chat : await store.chats.get(userId);
  if (chat?.state === "banned" || person?.state === "banned") return { role: "banned", userId, chatId, chat };
  if (person?.state === "allowed") return { role: "allowed-user", userId, chatId, chat };
  if (chat?.state === "allowed") return { role: "allowed-chat", userId, chatId, chat };
  return { role: "unknown", userId, chatId, chat };
}

export const isAdmin = (a: Access): boolean => a.role === "admin";

/** /ping and /help for people the bot works for: admins, allowed people, members of allowed chats. */
export function isServed(a: Access): boolean {
  return a.role === "admin" || a.role === "allowed-user" || a.role === "allowed-chat";
}

/** Who may press Refresh / Approve / Close (BOT_ACTION_POLICY). */
export function mayActOnIncidents(a: Access, policy: ActionPolicy): boolean {
  if (a.role === "admin" || a.role === "allowed-user") return true;
  return policy === "chat" && a.role === "allowed-chat";
}

/**
 * `/inc KEY` (design.md §4): the incident's full card, with its buttons, into the chat it was asked in. For
 * admins anywhere; for members of a chat that receives incidents; for a person allowed personally in their
 * own private chat or in such a chat — never into a chat the bot does not serve, where strangers would read it.
 */
export function mayLookUpIncidents(a: Access): boolean {
  if (a.role === "admin" || a.role === "allowed-chat") return true;
  if (a.role !== "allowed-user") return false;
  return (a.userId !== null && a.chatId === a.userId) || a.chat?.state === "allowed";
}

/**
 * /mute and /unmute (design.md §3): admins, for any chat; a person allowed personally, in their own private
 * chat and for that chat only.
 */
export function mayMute(a: Access, targetChatId: number): boolean {
  if (a.role === "admin") return true;
  return a.role === "allowed-user" && a.userId !== null && a.chatId === a.userId && targetChatId === a.userId;
}

/** Who may tie Telegram users to MP accounts (/link, /unlink, /links; design.md §4). */
export const mayManageLinks = isAdmin;

/** Who may decide on a new-chat request (Allow / Ignore / Block). */
export const mayDecideOnChats = isAdmin;

/**
 * Resolves the sender's access once per update and drops updates from banned chats and people.
 * A banned person's button press is still answered (empty), so their client stops waiting — it reveals nothing.
 */
export function accessMiddleware<C extends Context & AccessFlavor>(opts: {
  store: Store;
  adminIds: readonly number[];
  onDropped?: (ctx: C) => void;
}): MiddlewareFn<C> {
  return async (ctx, next) => {
    const userId = ctx.from?.id ?? null;
    const chatId = ctx.chat?.id ?? null;
    ctx.access = await resolveAccess(opts.store, opts.adminIds, userId, chatId);
    if (ctx.access.role === "banned") {
      opts.onDropped?.(ctx);
      if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
      return;
    }
    await next();
  };
}
