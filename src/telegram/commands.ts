// Parsing of the bot's commands (design.md §2). Pure: no I/O, so it can be property-tested.
// Accepted forms: `/accept-100123`, `/accept -100123`, `/accept@BotName 123`, `/accept123@BotName`.

export const ADMIN_COMMANDS = [
  "accepted",
  "accept",
  "deny",
  "ban",
  "unban",
  "banned",
  "filter",
  "debug",
  "help",
  // Working an incident (design.md §4): Telegram ↔ MP account links (link-commands.ts).
  "link",
  "unlink",
  "links",
] as const;
export const PUBLIC_COMMANDS = ["start", "id", "ping"] as const;
/** Admins, and a person allowed personally in their own private chat (design.md §3; access.ts decides). */
export const MUTE_COMMANDS = ["mute", "unmute"] as const;
/** Admins, allowed chats and allowed users (design.md §4; access.ts decides): `/inc KEY`, `/inc_123`. */
export const LOOKUP_COMMANDS = ["inc"] as const;
/**
 * Questions to the bot (design.md §6, issue 16; query-commands.ts): /open, /stats and /report for the same
 * people as /inc, /audit for admins (access is decided there).
 */
export const QUERY_COMMANDS = ["open", "stats", "audit", "report"] as const;
export type QueryCommandName = (typeof QUERY_COMMANDS)[number];
export type AdminCommandName = (typeof ADMIN_COMMANDS)[number];
export type PublicCommandName = (typeof PUBLIC_COMMANDS)[number];
export type MuteCommandName = (typeof MUTE_COMMANDS)[number];
export type LookupCommandName = (typeof LOOKUP_COMMANDS)[number];
export type CommandName =
  | AdminCommandName
  | PublicCommandName
  | MuteCommandName
  | LookupCommandName
  | QueryCommandName;

/** Commands that take a chat id argument. */
export const CHAT_ID_COMMANDS = ["accept", "deny", "ban", "unban"] as const;
export type ChatIdCommandName = (typeof CHAT_ID_COMMANDS)[number];
/** Commands whose optional chat id may be glued to the name (`/filter-100123 …`, `/mute-100123 2h`). */
const GLUED_ID_COMMANDS: readonly CommandName[] = [...CHAT_ID_COMMANDS, "filter", ...MUTE_COMMANDS];

export interface ParsedCommand {
  name: CommandName;
  /** What followed the command: the glued part, or the rest of the text, trimmed. */
  arg: string;
}

// Longest names first, so `/accepted` never parses as `/accept` + "ed" and `/banned` not as `/ban` + "ned".
const NAMES_LONGEST_FIRST: readonly CommandName[] = [
  ...ADMIN_COMMANDS,
  ...PUBLIC_COMMANDS,
  ...MUTE_COMMANDS,
  ...LOOKUP_COMMANDS,
  ...QUERY_COMMANDS,
].sort((a, b) => b.length - a.length);
const GLUED_ARG_START = /^[-+0-9]/;
/** `/inc_123` (the tappable form: Telegram links `/word_123`) and `/inc123`. */
const GLUED_LOOKUP_START = /^[_0-9]/;
/** Telegram limits a message to 4096 characters; a command line longer than this is not one of ours. */
const MAX_COMMAND_TEXT = 4096;

export function isChatIdCommand(name: CommandName): name is ChatIdCommandName {
  return (CHAT_ID_COMMANDS as readonly string[]).includes(name);
}

export function isAdminCommand(name: CommandName): name is AdminCommandName {
  return (ADMIN_COMMANDS as readonly string[]).includes(name);
}

export function isLookupCommand(name: CommandName): name is LookupCommandName {
  return (LOOKUP_COMMANDS as readonly string[]).includes(name);
}

export function isQueryCommand(name: CommandName): name is QueryCommandName {
  return (QUERY_COMMANDS as readonly string[]).includes(name);
}

export function isMuteCommand(name: CommandName): name is MuteCommandName {
  return (MUTE_COMMANDS as readonly string[]).includes(name);
}

/**
 * Recognises one of the bot's commands at the start of `text`. Returns null for ordinary text, for
 * commands the bot does not know, and for commands addressed to another bot (`/start@OtherBot`).
 * `botUsername` is compared without case; when it is unknown, any `@name` is accepted.
 */
export function parseCommand(text: string | undefined | null, botUsername?: string): ParsedCommand | null {
  if (typeof text !== "string" || !text.startsWith("/") || text.length > MAX_COMMAND_TEXT) return null;
  const firstSpace = text.search(/\s/);
  const token = firstSpace === -1 ? text.slice(1) : text.slice(1, firstSpace);
  const rest = firstSpace === -1 ? "" : text.slice(firstSpace).trim();

  let head = token;
  const at = token.indexOf("@");
  if (at !== -1) {
    const mention = token.slice(at + 1);
    head = token.slice(0, at);
    if (mention.length === 0) return null;
    if (botUsername && mention.toLowerCase() !== botUsername.toLowerCase()) return null;
  }
  const lowered = head.toLowerCase();
  for (const name of NAMES_LONGEST_FIRST) {
    if (!lowered.startsWith(name)) continue;
    const glued = head.slice(name.length);
    if (glued.length === 0) return { name, arg: rest };
    if (isLookupCommand(name)) {
      if (!GLUED_LOOKUP_START.test(glued)) return null;
      return { name, arg: rest.length > 0 ? `${glued} ${rest}` : glued };
    }
    // Only a chat id may be glued; `/acceptx` is not `/accept x`.
    if (!GLUED_ID_COMMANDS.includes(name) || !GLUED_ARG_START.test(glued)) return null;
    return { name, arg: rest.length > 0 ? `${glued} ${rest}` : glued };
  }
  return null;
}

export type ChatIdArg = { ok: true; chatId: number } | { ok: false; reason: "missing" | "invalid" };

/**
 * The optional chat id that leads the arguments of /filter, /mute and /unmute (glued or after a space):
 * a whole number. What follows it is the rest; without one, the command acts where it was typed.
 */
export function leadingChatId(arg: string): { chatId: number | null; rest: string } | { invalid: string } {
  const trimmed = arg.trim();
  const m = /^([-+]?\d+)(?=\s|$)/.exec(trimmed);
  if (!m) return { chatId: null, rest: trimmed };
  const parsed = parseChatIdArg(m[1]!);
  if (!parsed.ok) return { invalid: m[1]! };
  return { chatId: parsed.chatId, rest: trimmed.slice(m[1]!.length).trim() };
}

/** A Telegram chat id: a non-zero whole number that fits a double exactly (ids go up to 52 bits). */
export function parseChatIdArg(arg: string): ChatIdArg {
  const trimmed = arg.trim();
  if (trimmed.length === 0) return { ok: false, reason: "missing" };
  if (!/^[-+]?\d{1,16}$/.test(trimmed)) return { ok: false, reason: "invalid" };
  const id = Number(trimmed);
  if (!Number.isSafeInteger(id) || id === 0) return { ok: false, reason: "invalid" };
  return { ok: true, chatId: id };
}
