// How chats and people are named in texts, the store and the SIEM comment. Names come from strangers:
// they are only ever placed in plain-text messages (no parse_mode), so nothing in them is markup, and
// they are shown cleaned (no control, direction-override or zero-width characters), so a title cannot
// reorder or hide the words of the request an admin decides on.
import type { Chat as TelegramChat, User } from "grammy/types";
import type { ChatRef, PersonRef } from "../i18n/index.js";
import { cleanInline } from "../render/index.js";
import type { Chat, ChatIdentity, ChatKind } from "../store/index.js";

const KINDS: ReadonlySet<string> = new Set(["private", "group", "supergroup", "channel"]);

function kindOf(type: string, id: number): ChatKind {
  if (KINDS.has(type)) return type as ChatKind;
  return id > 0 ? "private" : "supergroup";
}

function defined(s: string | null | undefined): string | undefined {
  const clean = typeof s === "string" ? cleanInline(s) : "";
  return clean.length > 0 ? clean : undefined;
}

export function identityOf(chat: TelegramChat): ChatIdentity {
  const c = chat as TelegramChat & {
    title?: string;
    username?: string;
    first_name?: string;
    last_name?: string;
  };
  return {
    id: c.id,
    kind: kindOf(c.type, c.id),
    title: c.title ?? null,
    username: c.username ?? null,
    firstName: c.first_name ?? null,
    lastName: c.last_name ?? null,
  };
}

export function chatRefOfIdentity(identity: ChatIdentity, threadId?: number | null): ChatRef {
  return {
    id: identity.id,
    kind: threadId != null ? "topic" : identity.kind,
    threadId: threadId ?? null,
    title: defined(identity.title),
    username: defined(identity.username),
    firstName: defined(identity.firstName),
    lastName: defined(identity.lastName),
  };
}

export function chatRefOfStored(chat: Chat): ChatRef {
  return chatRefOfIdentity(
    {
      id: chat.id,
      kind: chat.kind,
      title: chat.title,
      username: chat.username,
      firstName: chat.first_name,
      lastName: chat.last_name,
    },
    chat.thread_id,
  );
}

export function personOf(user: User): PersonRef {
  return {
    id: user.id,
    username: defined(user.username),
    firstName: defined(user.first_name),
    lastName: defined(user.last_name),
  };
}

function fullName(user: Pick<User, "first_name" | "last_name">): string {
  return cleanInline([user.first_name, user.last_name].filter((s) => typeof s === "string").join(" ")).slice(
    0,
    128,
  );
}

/** Short label for "Approved by …" lines and decisions: "@ivan", or "Ivan Petrov (42)". */
export function actorLabel(user: User): string {
  if (user.username) return `@${user.username}`;
  const name = fullName(user);
  return name ? `${name} (${user.id})` : String(user.id);
}

/** The person as written into the SIEM comment: "@ivan (Ivan Petrov, 42)", or "Ivan Petrov (42)". */
export function siemActor(user: User): string {
  const name = fullName(user);
  if (user.username) return `@${user.username} (${name ? `${name}, ` : ""}${user.id})`;
  return name ? `${name} (${user.id})` : String(user.id);
}
