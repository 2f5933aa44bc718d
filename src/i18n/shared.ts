// Small pieces both catalogues use to build names. Locale-neutral: the words come in as arguments.

import type { ChatRef, PersonRef } from "./messages.js";

/**
 * At most `max` UTF-16 units (what Telegram counts), ending in "…" when cut. Cuts only between
 * code points, so a surrogate pair is never split.
 */
export function clipPlain(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return "";
  let end = max - 1; // room for the "…"
  const code = text.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end -= 1; // would keep half a pair
  return `${text.slice(0, end)}…`;
}

/** Outside values go into one-line texts: collapse newlines and runs of spaces, clip. */
export function inline(text: string | undefined | null, max = 128): string {
  if (typeof text !== "string") return "";
  return clipPlain(text.replace(/\s+/g, " ").trim(), max);
}

/** "Иван Петров (@ivan)", "@ivan", "Иван", or "" when nothing is known. */
export function personName(person: Pick<PersonRef, "username" | "firstName" | "lastName">): string {
  const full = inline([person.firstName, person.lastName].filter(Boolean).join(" "));
  const user = inline(person.username, 64);
  if (full && user) return `${full} (@${user})`;
  if (user) return `@${user}`;
  return full;
}

/**
 * A chat's own name: the quoted title for groups and channels, "topic in group" for forum topics,
 * the person's name for a private chat. `quote` wraps a title ("«»" or "“”"), `topicIn` joins a
 * topic and its group.
 */
export function chatName(chat: ChatRef, quote: (s: string) => string, topicIn: string): string {
  const title = inline(chat.title);
  const topic = inline(chat.topicTitle);
  const user = inline(chat.username, 64);
  if (chat.kind === "topic") {
    if (topic && title) return `${quote(topic)} ${topicIn} ${quote(title)}`;
    if (topic || title) return quote(topic || title);
    return user ? `@${user}` : "";
  }
  if (chat.kind === "private") return personName(chat);
  if (title && user) return `${quote(title)} (@${user})`;
  if (title) return quote(title);
  return user ? `@${user}` : "";
}
