// The admins' commands (design.md §2, §3): /accepted, /accept<id>, /deny<id>, /ban<id>, /unban<id>, /banned,
// /debug, /help; /filter<id> is in routing-commands.ts. The caller has already checked that the sender is an admin (access.ts).
//
// Typed in a group (or a channel's discussion, or anyone else's chat), an answer that names chats (lists,
// the result of a change) or shows the service's state (/debug: the SIEM address, figures, log lines) is
// sent to the admin's private chat instead; the group only hears where it went. A change is still made
// and the group is told it is done, without naming the chat. Usage hints and /help name nothing and are
// answered in place.
import type { User } from "grammy/types";
import { secretValues } from "../config/types.js";
import { classifyTelegramError } from "../delivery/telegram-errors.js";
import { redactSecrets } from "../log/logger.js";
import { formatTime } from "../render/index.js";
import type { Chat, ChatState } from "../store/index.js";
import { allowChat, banChat, denyChat, unbanChat } from "./approval.js";
import type { AdminCommandName, ParsedCommand } from "./commands.js";
import { isChatIdCommand, parseChatIdArg } from "./commands.js";
import { type BotContext, type BotServices, threadOf } from "./context.js";
import { chatRefOfStored } from "./names.js";
import { describeError } from "./notify.js";
import { acceptedRouting } from "./routing-views.js";
import { sendPlain } from "./send.js";

/** Log lines shown by /debug, and the length each is clipped to. */
const DEBUG_LOG_LINES = 20;
const DEBUG_LINE_LENGTH = 400;

export async function reply(s: BotServices, ctx: BotContext, text: string): Promise<void> {
  const chatId = ctx.chat?.id;
  if (chatId === undefined) return;
  await sendPlain(s.api, chatId, text, { threadId: threadOf(ctx) });
}

/**
 * An answer only the admin may see: in place in their private chat; typed anywhere else, it goes to their
 * private chat and the chat it was typed in gets a short note — or, when the bot cannot write to them
 * privately (they never opened a chat with it, or blocked it), a note saying how to fix that. Never the
 * answer itself. `changed`: the command changed something (the note then says it is done).
 */
export async function answerPrivately(
  s: BotServices,
  ctx: BotContext,
  text: string,
  changed: boolean,
): Promise<"ok" | "answered_privately" | "private_unreachable" | "private_failed"> {
  const admin = ctx.from!;
  if (ctx.chat?.type === "private") {
    await reply(s, ctx, text);
    return "ok";
  }
  const c = s.texts.commands;
  try {
    await sendPlain(s.api, admin.id, text);
  } catch (err) {
    const unreachable = classifyTelegramError(err).kind === "chat_gone";
    s.logger.info(
      { adminId: admin.id, err: describeError(err) },
      unreachable ? "an admin has no private chat with the bot" : "could not answer an admin privately",
    );
    await reply(
      s,
      ctx,
      unreachable
        ? c.privateChatNeeded({ bot: ctx.me.username, done: changed })
        : c.privateAnswerFailed({ done: changed }),
    );
    return unreachable ? "private_unreachable" : "private_failed";
  }
  await reply(s, ctx, changed ? c.doneAnsweredInPrivate : c.answeredInPrivate);
  return "answered_privately";
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
      return answerPrivately(s, ctx, await chatList(s, "allowed"), false);
    case "banned":
      return answerPrivately(s, ctx, await chatList(s, "banned"), false);
    case "debug":
      return answerPrivately(s, ctx, await debugText(s), false);
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
  // The result names the chat: only the admin sees it (answerPrivately).
  const answer = async (text: string, changed: boolean) => {
    const delivered = await answerPrivately(s, ctx, text, changed);
    return changed ? (delivered === "ok" ? "ok" : `ok_${delivered}`) : "not_in_list";
  };
  switch (name) {
    case "accept": {
      const { after } = await allowChat(s, chatId, undefined, admin);
      return answer(c.acceptDone(describe(after)), true);
    }
    case "ban": {
      const { after } = await banChat(s, chatId, admin);
      return answer(c.banDone(describe(after)), true);
    }
    case "deny": {
      const change = await denyChat(s, chatId, admin);
      if (change) return answer(c.denyDone(describe(change.after)), true);
      return answer(c.notInList(describe(await s.store.chats.get(chatId))), false);
    }
    case "unban": {
      const change = await unbanChat(s, chatId, admin);
      if (change) return answer(c.unbanDone(describe(change.after)), true);
      return answer(c.notInList(describe(await s.store.chats.get(chatId))), false);
    }
  }
}

async function chatList(s: BotServices, state: Extract<ChatState, "allowed" | "banned">): Promise<string> {
  const c = s.texts.commands;
  const chats = await s.store.chats.list([state]);
  if (chats.length === 0) return state === "allowed" ? c.acceptedEmpty : c.bannedEmpty;
  const title = state === "allowed" ? c.acceptedTitle(chats.length) : c.bannedTitle(chats.length);
  // Next to each receiving chat: its filters (and topics), whether it is muted, whether the config file manages it.
  const destinations = state === "allowed" ? await s.store.routing.allDestinations() : new Map();
  const mutes = state === "allowed" ? await s.store.routing.allActiveMutes(s.now()) : new Map();
  const lines = chats.map((chat) =>
    c.listLine({
      chat: chatRefOfStored(chat),
      since: formatTime(new Date(chat.state_changed_at), s.config.bot.timeZone, s.config.bot.locale),
      ...(state === "allowed"
        ? {
            active: chat.active === 1,
            inactiveReason: chat.inactive_reason,
            routing: acceptedRouting(s, destinations.get(chat.id) ?? [], mutes.get(chat.id) ?? []),
          }
        : {}),
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
