// The admins' commands (design.md §2): /accepted, /accept<id>, /deny<id>, /ban<id>, /unban<id>, /banned,
// /debug, /help. The caller has already checked that the sender is an admin (access.ts).
import type { User } from "grammy/types";
import { secretValues } from "../config/types.js";
import { redactSecrets } from "../log/logger.js";
import { formatTime } from "../render/index.js";
import type { Chat, ChatState } from "../store/index.js";
import { allowChat, banChat, denyChat, unbanChat } from "./approval.js";
import type { AdminCommandName, ParsedCommand } from "./commands.js";
import { isChatIdCommand, parseChatIdArg } from "./commands.js";
import { type BotContext, type BotServices, threadOf } from "./context.js";
import { chatRefOfStored } from "./names.js";
import { sendPlain } from "./send.js";

/** Log lines shown by /debug, and the length each is clipped to. */
const DEBUG_LOG_LINES = 20;
const DEBUG_LINE_LENGTH = 400;

export async function reply(s: BotServices, ctx: BotContext, text: string): Promise<void> {
  const chatId = ctx.chat?.id;
  if (chatId === undefined) return;
  await sendPlain(s.api, chatId, text, { threadId: threadOf(ctx) });
}

export async function handleAdminCommand(
  s: BotServices,
  ctx: BotContext,
  cmd: ParsedCommand & { name: AdminCommandName },
): Promise<string> {
  const admin = ctx.from!;
  if (isChatIdCommand(cmd.name)) {
    const parsed = parseChatIdArg(cmd.arg);
    if (!parsed.ok) {
      const usage = s.texts.commands.usage(cmd.name);
      await reply(
        s,
        ctx,
        parsed.reason === "invalid" ? `${s.texts.commands.invalidChatId(cmd.arg)}\n${usage}` : usage,
      );
      return "usage";
    }
    return changeChat(s, ctx, cmd.name, parsed.chatId, admin);
  }
  switch (cmd.name) {
    case "accepted":
      await reply(s, ctx, await chatList(s, "allowed"));
      return "ok";
    case "banned":
      await reply(s, ctx, await chatList(s, "banned"));
      return "ok";
    case "debug":
      await reply(s, ctx, await debugText(s));
      return "ok";
    case "help":
      await reply(s, ctx, s.texts.commands.helpAdmin);
      return "ok";
    default:
      return "unknown";
  }
}

async function changeChat(
  s: BotServices,
  ctx: BotContext,
  name: "accept" | "deny" | "ban" | "unban",
  chatId: number,
  admin: User,
): Promise<string> {
  const c = s.texts.commands;
  const describe = (chat: Chat | undefined) =>
    chat ? s.texts.chats.describe(chatRefOfStored(chat)) : String(chatId);
  switch (name) {
    case "accept": {
      const { after } = await allowChat(s, chatId, undefined, admin);
      await reply(s, ctx, c.acceptDone(describe(after)));
      return "ok";
    }
    case "ban": {
      const { after } = await banChat(s, chatId, admin);
      await reply(s, ctx, c.banDone(describe(after)));
      return "ok";
    }
    case "deny": {
      const change = await denyChat(s, chatId, admin);
      await reply(
        s,
        ctx,
        change ? c.denyDone(describe(change.after)) : c.notInList(describe(await s.store.chats.get(chatId))),
      );
      return change ? "ok" : "not_in_list";
    }
    case "unban": {
      const change = await unbanChat(s, chatId, admin);
      await reply(
        s,
        ctx,
        change ? c.unbanDone(describe(change.after)) : c.notInList(describe(await s.store.chats.get(chatId))),
      );
      return change ? "ok" : "not_in_list";
    }
  }
}

async function chatList(s: BotServices, state: Extract<ChatState, "allowed" | "banned">): Promise<string> {
  const c = s.texts.commands;
  const chats = await s.store.chats.list([state]);
  if (chats.length === 0) return state === "allowed" ? c.acceptedEmpty : c.bannedEmpty;
  const title = state === "allowed" ? c.acceptedTitle(chats.length) : c.bannedTitle(chats.length);
  const lines = chats.map((chat) =>
    c.listLine({
      chat: chatRefOfStored(chat),
      since: formatTime(new Date(chat.state_changed_at), s.config.bot.timeZone, s.config.bot.locale),
      ...(state === "allowed" ? { active: chat.active === 1, inactiveReason: chat.inactive_reason } : {}),
    }),
  );
  return [title, ...lines].join("\n");
}

async function debugText(s: BotServices): Promise<string> {
  const d = s.texts.debug;
  const lines: string[] = [d.title];
  try {
    const info = await s.debugInfo();
    for (const [key, value] of Object.entries(info)) lines.push(`${key}: ${value}`);
  } catch (err) {
    lines.push(`${d.lastError}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const tail = s.recentLogLines().slice(-DEBUG_LOG_LINES);
  lines.push("", `${d.logTail}:`);
  if (tail.length === 0) lines.push(d.none);
  for (const line of tail)
    lines.push(line.length > DEBUG_LINE_LENGTH ? `${line.slice(0, DEBUG_LINE_LENGTH)}…` : line);
  return redactSecrets(lines.join("\n"), secretValues(s.config));
}
