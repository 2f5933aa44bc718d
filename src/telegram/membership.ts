// The bot's own membership: added to a chat (ask the admins), removed or blocked (stop sending, tell the
// admins once), and groups that became supergroups (the record moves to the new id, state kept).
// These run before the access check on purpose: a banned group's migration must carry its ban along.
import type { Chat as TelegramChat, User } from "grammy/types";
import { type ChatLifecycleDeps, migrateChat, removeChat } from "../chats/index.js";
import { resolveAccess } from "./access.js";
import { answerRequest, requestApproval } from "./approval.js";
import type { BotContext, BotServices } from "./context.js";
import { actorLabel, identityOf } from "./names.js";
import { sendPlain } from "./send.js";

/** my_chat_member: the bot was added, removed, or blocked by a private user. */
export async function handleMembershipChange(s: BotServices, ctx: BotContext): Promise<void> {
  const update = ctx.myChatMember;
  if (!update) return;
  const chat = update.chat;
  const status = update.new_chat_member.status;
  const by = update.from;
  if (status === "left" || status === "kicked") {
    await markRemoved(s, chat.id, status, by);
    return;
  }
  if (status !== "member" && status !== "administrator") return; // restricted, creator: nothing to decide

  const known = await s.store.chats.get(chat.id);
  if (chat.type === "private") {
    // A person unblocked the bot: they receive again only if they were allowed; otherwise they use /start.
    if (known?.state === "allowed" && known.active === 0) {
      await s.store.chats.setActive(chat.id, true, null);
      await audit(s, by, chat.id, "chat.reactivate", "ok");
    }
    return;
  }
  // Nobody is asked about a banned chat, or about chats a banned person adds the bot to.
  const adder = await resolveAccess(s.store, s.config.telegram.adminIds, by.id, chat.id);
  if (adder.role === "banned") {
    await audit(s, by, chat.id, "chat.added", "ignored_banned");
    return;
  }
  const outcome = await requestApproval(s, { identity: identityOf(chat), threadId: null, by });
  await audit(s, by, chat.id, "chat.added", outcome);
  if (chat.type !== "channel") await answerRequest(s, outcome, (text) => tell(s, chat, text));
}

/** The same path delivery takes when Telegram refuses a send: the admins hear once, whoever is first. */
function lifecycle(s: BotServices): ChatLifecycleDeps {
  return { store: s.store, locale: s.config.bot.locale, notifyAdmins: (text) => s.notifier.notify(text) };
}

async function markRemoved(s: BotServices, chatId: number, status: string, by: User): Promise<void> {
  await removeChat(lifecycle(s), chatId, status === "kicked" ? "kicked" : "left", "membership", {
    // Audited before the admins are told.
    record: async ({ before, cancelled }) => {
      if (!before) return; // a chat the bot never knew: nothing was stopped
      await audit(s, by, chatId, "chat.removed", "ok", `${status}; ${cancelled} undelivered cancelled`);
    },
  });
}

/** Service messages of a group → supergroup upgrade; whichever of the pair arrives first moves the record. */
export async function handleMigration(s: BotServices, ctx: BotContext): Promise<void> {
  const msg = ctx.msg;
  if (!msg) return;
  let fromId: number | undefined;
  let toId: number | undefined;
  if (typeof msg.migrate_to_chat_id === "number") {
    fromId = msg.chat.id;
    toId = msg.migrate_to_chat_id;
  } else if (typeof msg.migrate_from_chat_id === "number") {
    fromId = msg.migrate_from_chat_id;
    toId = msg.chat.id;
  }
  if (fromId === undefined || toId === undefined || fromId === toId) return;
  await migrateChat(lifecycle(s), fromId, toId, {
    // Audited before the admins are told.
    record: () =>
      s.audit({
        actorId: null,
        chatId: toId,
        action: "chat.migrate",
        target: String(fromId),
        result: "ok",
        detail: `${fromId} -> ${toId}`,
      }),
  });
}

async function tell(s: BotServices, chat: TelegramChat, text: string): Promise<void> {
  try {
    await sendPlain(s.api, chat.id, text);
  } catch {
    // The chat may not let the bot write (a channel, restricted rights): the admins were asked anyway.
  }
}

function audit(s: BotServices, by: User, chatId: number, action: string, result: string, detail?: string) {
  return s.audit({
    actorId: by.id,
    actorName: actorLabel(by),
    chatId,
    action,
    target: String(chatId),
    result,
    detail: detail ?? null,
  });
}
