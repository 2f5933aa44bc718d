// What becomes of a chat when Telegram tells the bot it changed: the bot was removed or blocked (or
// the chat is gone), the bot may no longer post there, or the group became a supergroup. Delivery
// learns these from a failed send, the bot from its updates; both make the change here, so it is the
// same change whoever sees it first, and the admins hear about it once.
import type { Locale } from "../config/types.js";
import { type ChatRef, t } from "../i18n/index.js";
import type { Chat, Store } from "../store/index.js";

export interface ChatLifecycleDeps {
  store: Store;
  /** The admins' language. */
  locale: Locale;
  /** Tells every admin (plain text). */
  notifyAdmins: (text: string) => Promise<unknown>;
  /** Hears of a notice that could not be sent; the change itself stands. */
  onNoticeError?: (error: unknown) => void;
}

/** How the bot learnt that a chat is out of reach: its own membership update, or Telegram refusing a send. */
export type RemovalSource = "membership" | "refused";

/** A stored chat as the i18n texts describe it to the admins. */
export function chatRefOf(chat: Chat): ChatRef {
  const ref: ChatRef = { id: chat.id, kind: chat.kind, threadId: chat.thread_id };
  if (chat.title) ref.title = chat.title;
  if (chat.username) ref.username = chat.username;
  if (chat.first_name) ref.firstName = chat.first_name;
  if (chat.last_name) ref.lastName = chat.last_name;
  return ref;
}

/** Only a chat that was receiving is news: the admins hear once, whoever reports the change first. */
function wasReceiving(chat: Chat | undefined): chat is Chat {
  return chat !== undefined && chat.state === "allowed" && chat.active === 1;
}

async function tell(deps: ChatLifecycleDeps, text: string): Promise<boolean> {
  try {
    await deps.notifyAdmins(text);
    return true;
  } catch (error) {
    deps.onNoticeError?.(error);
    return false;
  }
}

export interface ChangeOptions<T> {
  /** Records the change (an audit line) once it is made, before the admins are told of it. */
  record?: (change: T) => Promise<void>;
}

export interface Removal {
  /** The chat before the change; undefined when the bot never knew it. */
  before: Chat | undefined;
  /** Undelivered rows dropped. */
  cancelled: number;
  /** Whether the admins were told (only when the chat was receiving until now). */
  told: boolean;
}

/**
 * The bot was removed from the chat or blocked, or the chat is gone: it stops receiving, its
 * undelivered incidents are dropped (they would be stale by the time it is back), the record stays
 * so /accepted shows it inactive and an allowed chat resumes when the bot is added back.
 */
export async function removeChat(
  deps: ChatLifecycleDeps,
  chatId: number,
  reason: string,
  source: RemovalSource,
  opts: ChangeOptions<Omit<Removal, "told">> = {},
): Promise<Removal> {
  const { before, cancelled } = await deps.store.chats.stopReceiving(chatId, reason, {
    keepUndelivered: false,
  });
  await opts.record?.({ before, cancelled });
  if (!wasReceiving(before)) return { before, cancelled, told: false };
  const m = t(deps.locale);
  const chat = m.chats.describe(chatRefOf(before));
  const told = await tell(
    deps,
    source === "membership" ? m.notices.botRemoved(chat) : m.notices.chatInactive({ chat, reason }),
  );
  return { before, cancelled, told };
}

export interface Pause {
  before: Chat | undefined;
  told: boolean;
}

/**
 * The bot is still in the chat but may not post there (its rights were taken away, the topic was
 * closed…): the chat stops receiving with Telegram's reason, and its undelivered incidents are KEPT —
 * once an admin has fixed the bot's rights, /accept makes it receive again and they go out.
 */
export async function pauseChat(deps: ChatLifecycleDeps, chatId: number, reason: string): Promise<Pause> {
  const { before } = await deps.store.chats.stopReceiving(chatId, reason, { keepUndelivered: true });
  if (!wasReceiving(before)) return { before, told: false };
  const m = t(deps.locale);
  const told = await tell(
    deps,
    m.notices.chatPaused({ chat: m.chats.describe(chatRefOf(before)), chatId, reason }),
  );
  return { before, told };
}

export interface Migration {
  /** False when the old chat was unknown, or already moved by whoever saw the upgrade first. */
  moved: boolean;
  /** The record under its new id. */
  chat: Chat | undefined;
  told: boolean;
}

/**
 * A group became a supergroup: its record (state, topic, ban) and its undelivered incidents move to
 * the new id. The admins hear once, about a chat that receives or is waiting for them.
 */
export async function migrateChat(
  deps: ChatLifecycleDeps,
  oldId: number,
  newId: number,
  opts: ChangeOptions<Omit<Migration, "told">> = {},
): Promise<Migration> {
  const moved = await deps.store.chats.migrate(oldId, newId);
  if (!moved) return { moved, chat: undefined, told: false };
  const chat = await deps.store.chats.get(newId);
  await opts.record?.({ moved, chat });
  if (chat === undefined || (chat.state !== "allowed" && chat.state !== "pending")) {
    return { moved, chat, told: false };
  }
  const m = t(deps.locale);
  const told = await tell(
    deps,
    m.notices.chatMigrated({ chat: m.chats.describe(chatRefOf(chat)), fromId: oldId, toId: newId }),
  );
  return { moved, chat, told };
}
