// A fake Telegram Bot API server over real HTTP (node:http, loopback). The `demo` command runs it
// when no real token is given, and every bot/delivery test and the benchmark talk to it with
// grammY as the client. It reproduces what a long-running bot meets in production: long polling
// and 409 conflicts, flood control with retry_after, HTML that Telegram refuses, migrated groups,
// blocked bots, outages and dropped connections.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EntityParseError, parseTelegramHtml, type TextEntity } from "./html.js";
import { DEFAULT_RATE_LIMITS, RateLimiter } from "./rate-limits.js";
import { BadRequestBody, parseParams, readBody, type UploadedFile } from "./request-body.js";
import type {
  BotMembershipStatus,
  FakeBotApi,
  FakeBotApiOptions,
  FakeChat,
  FakeError,
  FakeMessage,
  FakeMessageEvent,
  FakeUser,
  RecordedCall,
  WebhookPost,
} from "./types.js";

export { EntityParseError, parseTelegramHtml } from "./html.js";
export { renderChatTranscript } from "./transcript.js";
export type * from "./types.js";

export const DEFAULT_FAKE_TOKEN = "123456:TEST-TOKEN";
/** RecordedCall.response of a request whose socket the fake destroyed. */
export const CONNECTION_RESET = "<connection reset>";

const MAX_TEXT_UNITS = 4096;
const MAX_CAPTION_UNITS = 1024;
const MAX_CALLBACK_DATA_BYTES = 64;
const MAX_CALLBACK_ANSWER_UNITS = 200;
const MAX_BODY_BYTES = 20 * 1024 * 1024;
const MAX_POLL_TIMEOUT_SEC = 50;
/** Telegram leaves these out unless allowed_updates asks for them. */
const NOT_DELIVERED_BY_DEFAULT = new Set(["chat_member", "message_reaction", "message_reaction_count"]);
/** Methods that send or edit a message and so count against flood control. */
const COUNTED_METHODS = new Set([
  "sendMessage",
  "editMessageText",
  "editMessageReplyMarkup",
  "sendAnimation",
  "sendSticker",
]);
/** A user acting in a group when a test does not say who. */
const DEFAULT_GROUP_ACTOR: FakeUser = { id: 1_000_001, first_name: "Group", last_name: "Admin" };

interface Reply {
  status: number;
  body: unknown;
}

interface ChatState {
  chat: FakeChat;
  nextMessageId: number;
  membership: BotMembershipStatus;
  blocked: boolean;
  migratedTo?: number;
  memberIds: Set<number>;
}

interface StoredMessage extends FakeMessage {
  seq: number;
  editDate?: number;
  fileId?: string;
}

interface PendingPoll {
  res: ServerResponse;
  record: RecordedCall;
  limit: number;
  timer: NodeJS.Timeout;
  done: boolean;
}

interface FaultRule {
  method: string;
  error: FakeError;
  remaining: number;
}

/** Calls that are read and recorded but not answered (a hung link or a stuck Telegram). */
interface HangRule {
  method: string;
  chatId: number | undefined;
}

interface HeldCall {
  record: RecordedCall;
  params: Record<string, unknown>;
  res: ServerResponse;
}

/** Methods a chat that refuses the bot's posts answers with its error. */
const POSTING_METHODS = new Set([
  "sendMessage",
  "sendAnimation",
  "sendSticker",
  "editMessageText",
  "editMessageReplyMarkup",
]);

/**
 * What Telegram answers when the bot is still in a chat but may not post there (the descriptions
 * as bots meet them; Telegram does not document them).
 */
export const CANNOT_POST_ERRORS = {
  topicClosed: { code: 400, description: "Bad Request: TOPIC_CLOSED" },
  notEnoughRights: {
    code: 400,
    description: "Bad Request: not enough rights to send text messages to the chat",
  },
  writeForbidden: { code: 400, description: "Bad Request: CHAT_WRITE_FORBIDDEN" },
  restricted: { code: 400, description: "Bad Request: CHAT_RESTRICTED" },
  noRightsToSend: { code: 400, description: "Bad Request: have no rights to send a message" },
  peerIdInvalid: { code: 400, description: "Bad Request: PEER_ID_INVALID" },
  deactivated: { code: 400, description: "Bad Request: group chat was deactivated" },
} as const satisfies Record<string, FakeError>;

function ok(result: unknown): Reply {
  return { status: 200, body: { ok: true, result } };
}

function fail(code: number, description: string, parameters?: Record<string, number>): Reply {
  const body: Record<string, unknown> = { ok: false, error_code: code, description };
  if (parameters !== undefined && Object.keys(parameters).length > 0) body.parameters = parameters;
  return { status: code, body };
}

const badRequest = (reason: string): Reply => fail(400, `Bad Request: ${reason}`);

function tooManyRequests(retryAfterSec: number): Reply {
  return fail(429, `Too Many Requests: retry after ${retryAfterSec}`, { retry_after: retryAfterSec });
}

/** An integer from a JSON number or a form string; undefined otherwise. */
function toInt(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^-?\d{1,16}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function toBool(value: unknown): boolean {
  return value === true || value === "true" || value === "1";
}

/** JSON with sorted keys, so two equal keyboards compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The keyboard a message ends up with: an empty inline keyboard is the same as none. */
function effectiveMarkup(markup: unknown): unknown {
  if (markup === undefined || markup === null) return undefined;
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (Array.isArray(rows) && rows.every((row) => Array.isArray(row) && row.length === 0)) return undefined;
  return markup;
}

function validateMarkup(markup: unknown): Reply | null {
  if (markup === undefined || markup === null) return null;
  if (typeof markup !== "object" || Array.isArray(markup)) {
    return badRequest("can't parse reply keyboard markup JSON object");
  }
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (rows === undefined) return null; // a reply keyboard or a keyboard removal: kept as given
  if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
    return badRequest("can't parse reply keyboard markup JSON object");
  }
  for (const row of rows as unknown[][]) {
    for (const button of row) {
      if (typeof button !== "object" || button === null) {
        return badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
      }
      const b = button as Record<string, unknown>;
      if (typeof b.text !== "string" || b.text === "") {
        return badRequest('can\'t parse inline keyboard button: Field "text" must be of type String');
      }
      if ("callback_data" in b) {
        const data = b.callback_data;
        const bytes = typeof data === "string" ? Buffer.byteLength(data, "utf8") : 0;
        if (bytes < 1 || bytes > MAX_CALLBACK_DATA_BYTES) return badRequest("BUTTON_DATA_INVALID");
      } else if ("url" in b) {
        if (typeof b.url !== "string" || !/^(https?|tg):\/\/\S+$/i.test(b.url)) {
          return badRequest(`inline keyboard button URL '${String(b.url)}' is invalid: Wrong HTTP URL`);
        }
      } else if (
        ![
          "switch_inline_query",
          "switch_inline_query_current_chat",
          "web_app",
          "login_url",
          "pay",
          "copy_text",
        ].some((field) => field in b)
      ) {
        return badRequest("text buttons are unallowed in the inline keyboard");
      }
    }
  }
  return null;
}

interface PreparedText {
  plain: string;
  entities: TextEntity[] | unknown[];
}

/**
 * Validates a message text or caption like Telegram: parse_mode HTML must parse, the visible text
 * must fit (UTF-16 units, after parsing), and a message text may not be blank.
 */
function prepareText(
  raw: unknown,
  parseMode: unknown,
  entities: unknown,
  kind: "text" | "caption",
): PreparedText | Reply {
  const source = typeof raw === "string" ? raw : raw === undefined || raw === null ? "" : String(raw);
  if (kind === "text" && source === "") return badRequest("message text is empty");
  let prepared: PreparedText;
  const mode = typeof parseMode === "string" ? parseMode : "";
  if (mode === "") {
    prepared = { plain: source, entities: Array.isArray(entities) ? entities : [] };
  } else if (mode.toLowerCase() === "html") {
    try {
      const parsed = parseTelegramHtml(source);
      prepared = { plain: parsed.text, entities: parsed.entities };
    } catch (error) {
      if (error instanceof EntityParseError) return badRequest(`can't parse entities: ${error.message}`);
      throw error;
    }
  } else if (mode.toLowerCase() === "markdownv2" || mode.toLowerCase() === "markdown") {
    prepared = { plain: source, entities: [] }; // not modelled: this project sends HTML
  } else {
    return badRequest("unsupported parse_mode");
  }
  if (kind === "text") {
    if (prepared.plain.trim() === "") return badRequest("message text is empty");
    if (prepared.plain.length > MAX_TEXT_UNITS) return badRequest("message is too long");
  } else if (prepared.plain.length > MAX_CAPTION_UNITS) {
    return badRequest("message caption is too long");
  }
  return prepared;
}

const isReply = (value: unknown): value is Reply =>
  typeof value === "object" && value !== null && "status" in value && "body" in value;

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

export async function startFakeBotApi(opts: FakeBotApiOptions = {}): Promise<FakeBotApi> {
  const host = opts.host ?? "127.0.0.1";
  const token = opts.token ?? DEFAULT_FAKE_TOKEN;
  const now = opts.now ?? Date.now;
  const tokenId = Number(token.split(":")[0]);
  const botUser = opts.botUser ?? {
    id: Number.isSafeInteger(tokenId) && tokenId > 0 ? tokenId : 123456,
    username: "FakeMpSiemBot",
    first_name: "MP SIEM",
  };
  const limiter = new RateLimiter(
    opts.limits === false ? null : { ...DEFAULT_RATE_LIMITS, ...(opts.limits ?? {}) },
  );

  const calls: RecordedCall[] = [];
  const chats = new Map<number, ChatState>();
  const users = new Map<number, FakeUser>();
  const messages = new Map<string, StoredMessage>();
  const updates: Array<{ update_id: number } & Record<string, unknown>> = [];
  const openCallbacks = new Set<string>();
  const answered = new Map<string, { text?: string; showAlert?: boolean }>();
  const commands = new Map<string, Array<{ command: string; description: string }>>();
  const faults: FaultRule[] = [];
  const listeners = new Set<(event: FakeMessageEvent) => void>();
  const byMethod: Record<string, number> = {};
  let tooManyCount = 0;
  let duringRetryAfterCount = 0;
  let nextUpdateId = 1;
  let nextCallbackId = 1;
  let nextMessageSeq = 1;
  let nextFileId = 1;
  let allowedUpdates: string[] | null = null;
  let pendingPoll: PendingPoll | null = null;
  let outageUntil = 0;
  let outageMode: "bad-gateway" | "drop" = "bad-gateway";
  const pendingResets: Array<{ remaining: number; afterProcessing: boolean; method: string | undefined }> =
    [];
  let closed = false;
  /** setWebhook: updates are posted there (with the secret) instead of waiting for getUpdates. */
  let webhook: { url: string; secret: string | undefined } | null = null;
  const webhookPosts: WebhookPost[] = [];
  let pushing = false;
  let answerDelayMs = Math.max(0, opts.answerDelayMs ?? 0);
  const delayedAnswers = new Set<NodeJS.Timeout>();
  const hangRules: HangRule[] = [];
  const held = new Set<HeldCall>();
  /** chat id → the error every post to it answers (and the topic it is limited to, if any). */
  const refusals = new Map<number, { error: FakeError; threadId: number | undefined }>();

  const nowSec = () => Math.floor(now() / 1000);
  const messageKey = (chatId: number, messageId: number) => `${chatId}:${messageId}`;

  // ---- chats, users, messages -------------------------------------------------------------

  function registerUser(user: FakeUser): FakeUser {
    const known = users.get(user.id);
    const merged = { ...known, ...user };
    users.set(user.id, merged);
    return merged;
  }

  function userObject(user: FakeUser): Record<string, unknown> {
    return {
      id: user.id,
      is_bot: false,
      first_name: user.first_name ?? `User ${user.id}`,
      last_name: user.last_name,
      username: user.username,
    };
  }

  const botUserObject = () => ({
    id: botUser.id,
    is_bot: true,
    first_name: botUser.first_name,
    username: botUser.username,
  });

  function addChat(chat: FakeChat): ChatState {
    const existing = chats.get(chat.id);
    if (existing !== undefined) {
      existing.chat = { ...existing.chat, ...chat };
      return existing;
    }
    const state: ChatState = {
      chat: { ...chat },
      nextMessageId: 1,
      membership: chat.type === "channel" ? "administrator" : "member",
      blocked: false,
      memberIds: new Set(chat.type === "private" ? [chat.id] : []),
    };
    chats.set(chat.id, state);
    return state;
  }

  /** Makes a chat known on first sight, guessing its type from the id as Telegram numbers them. */
  function ensureChat(chatId: number, user?: FakeUser): ChatState {
    const known = chats.get(chatId);
    if (known !== undefined) return known;
    if (chatId > 0) {
      return addChat({
        id: chatId,
        type: "private",
        first_name: user?.id === chatId ? (user.first_name ?? `User ${chatId}`) : `User ${chatId}`,
        last_name: user?.id === chatId ? user.last_name : undefined,
        username: user?.id === chatId ? user.username : undefined,
      });
    }
    const type = chatId <= -1_000_000_000_000 ? "supergroup" : "group";
    return addChat({ id: chatId, type, title: `Chat ${chatId}` });
  }

  function chatObject(state: ChatState): Record<string, unknown> {
    const c = state.chat;
    return {
      id: c.id,
      type: c.type,
      title: c.title,
      username: c.username,
      first_name: c.first_name,
      last_name: c.last_name,
      is_forum: c.is_forum,
    };
  }

  function resolveChat(chatIdParam: unknown): ChatState | undefined {
    if (typeof chatIdParam === "string" && chatIdParam.startsWith("@")) {
      const username = chatIdParam.slice(1).toLowerCase();
      for (const state of chats.values()) if (state.chat.username?.toLowerCase() === username) return state;
      return undefined;
    }
    const id = toInt(chatIdParam);
    return id === undefined ? undefined : chats.get(id);
  }

  function publicMessage(m: StoredMessage): FakeMessage {
    const copy: FakeMessage = {
      chatId: m.chatId,
      messageId: m.messageId,
      text: m.text,
      edits: m.edits,
      date: m.date,
      kind: m.kind,
      plainText: m.plainText,
    };
    if (m.threadId !== undefined) copy.threadId = m.threadId;
    if (m.parseMode !== undefined) copy.parseMode = m.parseMode;
    if (m.entities !== undefined) copy.entities = structuredClone(m.entities);
    if (m.replyMarkup !== undefined) copy.replyMarkup = structuredClone(m.replyMarkup);
    return copy;
  }

  /** The Message object Telegram would return for a bot message. */
  function messageObject(m: StoredMessage): Record<string, unknown> {
    const state = chats.get(m.chatId)!;
    const out: Record<string, unknown> = {
      message_id: m.messageId,
      from: botUserObject(),
      chat: chatObject(state),
      date: m.date,
    };
    if (m.threadId !== undefined) {
      out.message_thread_id = m.threadId;
      out.is_topic_message = true;
    }
    if (m.editDate !== undefined) out.edit_date = m.editDate;
    const entities = Array.isArray(m.entities) && m.entities.length > 0 ? m.entities : undefined;
    if (m.kind === "text") {
      out.text = m.plainText;
      out.entities = entities;
    } else {
      if (m.plainText !== "") out.caption = m.plainText;
      out.caption_entities = entities;
      const file = { file_id: m.fileId, file_unique_id: `u${m.fileId}`, file_size: 1024 };
      if (m.kind === "animation") {
        out.animation = { ...file, width: 320, height: 240, duration: 2 };
        out.document = { ...file, file_name: "animation.mp4", mime_type: "video/mp4" };
      } else {
        out.sticker = {
          ...file,
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        };
      }
    }
    const markup = effectiveMarkup(m.replyMarkup);
    if (markup !== undefined && (markup as { inline_keyboard?: unknown }).inline_keyboard !== undefined) {
      out.reply_markup = markup;
    }
    return out;
  }

  function emit(kind: FakeMessageEvent["kind"], m: StoredMessage): void {
    for (const listener of listeners) {
      try {
        listener({ kind, message: publicMessage(m) });
      } catch {
        // a listener's failure (e.g. a closed console) must not fail the API call
      }
    }
  }

  // ---- updates and long polling ------------------------------------------------------------

  const updateType = (update: Record<string, unknown>) =>
    Object.keys(update).find((k) => k !== "update_id") ?? "";

  function isDeliverable(update: Record<string, unknown>): boolean {
    const type = updateType(update);
    if (allowedUpdates !== null && allowedUpdates.length > 0) return allowedUpdates.includes(type);
    return !NOT_DELIVERED_BY_DEFAULT.has(type);
  }

  function deliverable(limit: number): unknown[] {
    return updates.filter(isDeliverable).slice(0, limit);
  }

  function finishPoll(poll: PendingPoll, reply: Reply): void {
    if (poll.done) return;
    poll.done = true;
    clearTimeout(poll.timer);
    if (pendingPoll === poll) pendingPoll = null;
    send(poll.res, poll.record, reply);
  }

  /** Chats and users named in an injected update become known, as they would to Telegram. */
  function learnFromUpdate(update: Record<string, unknown>): void {
    for (const value of Object.values(update)) {
      if (typeof value !== "object" || value === null) continue;
      const part = value as Record<string, unknown>;
      const from = part.from as FakeUser | undefined;
      if (from !== undefined && typeof from.id === "number") registerUser(from);
      const holders = [part, part.message as Record<string, unknown> | undefined];
      for (const holder of holders) {
        const chat = holder?.chat as FakeChat | undefined;
        if (chat !== undefined && typeof chat.id === "number" && typeof chat.type === "string") {
          const state = chats.get(chat.id) ?? addChat(chat);
          if (from !== undefined && typeof from.id === "number") state.memberIds.add(from.id);
        }
      }
    }
  }

  /**
   * While a webhook is set, updates are posted to it one at a time, in order, as Telegram does: an answer
   * other than 2xx (or none) is retried after a pause, until it succeeds or the webhook is removed.
   */
  async function pushToWebhook(): Promise<void> {
    if (pushing) return;
    pushing = true;
    let failures = 0;
    try {
      while (!closed && webhook !== null) {
        const next = updates.find(isDeliverable);
        if (next === undefined) break;
        const target = webhook;
        let status: number | null = null;
        try {
          const res = await fetch(target.url, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(target.secret !== undefined ? { "x-telegram-bot-api-secret-token": target.secret } : {}),
            },
            body: JSON.stringify(next),
            signal: AbortSignal.timeout(15_000),
          });
          status = res.status;
          await res.arrayBuffer().catch(() => undefined);
        } catch {
          status = null;
        }
        webhookPosts.push({ updateId: next.update_id, url: target.url, status, at: now() });
        if (status !== null && status >= 200 && status < 300) {
          const index = updates.indexOf(next);
          if (index >= 0) updates.splice(index, 1);
          failures = 0;
        } else {
          failures++;
          await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * failures)));
        }
      }
    } finally {
      pushing = false;
    }
  }

  function queueUpdate(body: Record<string, unknown>): number {
    const update = { ...body, update_id: nextUpdateId++ };
    learnFromUpdate(update);
    updates.push(update);
    if (webhook !== null) {
      void pushToWebhook();
      return update.update_id;
    }
    const poll = pendingPoll;
    if (poll !== null) {
      const ready = deliverable(poll.limit);
      if (ready.length > 0) finishPoll(poll, ok(ready));
    }
    return update.update_id;
  }

  function confirmUpTo(offset: number): void {
    if (offset < 0) {
      updates.splice(0, Math.max(0, updates.length + offset)); // -N keeps only the last N
      return;
    }
    while (updates.length > 0 && updates[0]!.update_id < offset) updates.shift();
  }

  function getUpdates(params: Record<string, unknown>, record: RecordedCall, res: ServerResponse): void {
    if (webhook !== null) {
      send(
        res,
        record,
        fail(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        ),
      );
      return;
    }
    const offset = toInt(params.offset);
    if (offset !== undefined && offset !== 0) confirmUpTo(offset);
    if (Array.isArray(params.allowed_updates)) allowedUpdates = params.allowed_updates.map(String);
    const limit = Math.min(100, Math.max(1, toInt(params.limit) ?? 100));
    const timeoutSec = Math.min(MAX_POLL_TIMEOUT_SEC, Math.max(0, toInt(params.timeout) ?? 0));
    const previous = pendingPoll;
    if (previous !== null)
      finishPoll(previous, fail(409, "Conflict: terminated by other getUpdates request"));
    const ready = deliverable(limit);
    if (ready.length > 0 || timeoutSec === 0) {
      send(res, record, ok(ready));
      return;
    }
    const poll: PendingPoll = {
      res,
      record,
      limit,
      done: false,
      timer: setTimeout(() => finishPoll(poll, ok([])), timeoutSec * 1000),
    };
    pendingPoll = poll;
    res.on("close", () => {
      if (poll.done) return;
      // the client gave up (grammY aborts its poll on stop): nothing to answer
      poll.done = true;
      clearTimeout(poll.timer);
      if (pendingPoll === poll) pendingPoll = null;
      record.response = CONNECTION_RESET;
    });
  }

  // ---- sending and editing ------------------------------------------------------------------

  /** 400/403 when the chat cannot take messages any more (migrated, blocked, the bot removed). */
  function unavailable(state: ChatState): Reply | null {
    if (state.migratedTo !== undefined) {
      return fail(400, "Bad Request: group chat was upgraded to a supergroup chat", {
        migrate_to_chat_id: state.migratedTo,
      });
    }
    const removed = state.blocked || state.membership === "kicked" || state.membership === "left";
    if (!removed) return null;
    const type = state.chat.type;
    if (type === "private") return fail(403, "Forbidden: bot was blocked by the user");
    if (type === "channel") return fail(403, "Forbidden: bot is not a member of the channel chat");
    if (state.membership === "left" && !state.blocked) {
      return fail(403, `Forbidden: bot is not a member of the ${type} chat`);
    }
    return fail(403, `Forbidden: bot was kicked from the ${type} chat`);
  }

  function targetChat(params: Record<string, unknown>): ChatState | Reply {
    if (params.chat_id === undefined || params.chat_id === "") return badRequest("chat_id is empty");
    const state = resolveChat(params.chat_id);
    if (state === undefined) return badRequest("chat not found");
    return unavailable(state) ?? state;
  }

  function targetMessage(params: Record<string, unknown>, missing: string): StoredMessage | Reply {
    if (params.inline_message_id !== undefined) return badRequest(missing); // inline messages are not modelled
    const state = targetChat(params);
    if (isReply(state)) return state;
    const messageId = toInt(params.message_id);
    if (messageId === undefined) return badRequest("message identifier is not specified");
    return messages.get(messageKey(state.chat.id, messageId)) ?? badRequest(missing);
  }

  /** Flood control for one counted request that passed validation; null when it may proceed. */
  function charge(chatId: number): Reply | null {
    const decision = limiter.take(chatId, now());
    return decision.allowed ? null : tooManyRequests(decision.retryAfterSec);
  }

  function storeNewMessage(
    state: ChatState,
    params: Record<string, unknown>,
    kind: StoredMessage["kind"],
    raw: unknown,
    prepared: PreparedText,
    fileId?: string,
  ): StoredMessage {
    const threadId = toInt(params.message_thread_id);
    const m: StoredMessage = {
      seq: nextMessageSeq++,
      chatId: state.chat.id,
      messageId: state.nextMessageId++,
      text: typeof raw === "string" ? raw : "",
      edits: 0,
      date: nowSec(),
      kind,
      plainText: prepared.plain,
      entities: prepared.entities,
    };
    if (threadId !== undefined && threadId !== 0) m.threadId = threadId;
    if (typeof params.parse_mode === "string" && params.parse_mode !== "") m.parseMode = params.parse_mode;
    if (params.reply_markup !== undefined) m.replyMarkup = params.reply_markup;
    if (fileId !== undefined) m.fileId = fileId;
    messages.set(messageKey(m.chatId, m.messageId), m);
    emit("sent", m);
    return m;
  }

  function sendMessage(params: Record<string, unknown>): Reply {
    const state = targetChat(params);
    if (isReply(state)) return state;
    const prepared = prepareText(params.text, params.parse_mode, params.entities, "text");
    if (isReply(prepared)) return prepared;
    const markupError = validateMarkup(params.reply_markup);
    if (markupError !== null) return markupError;
    const limited = charge(state.chat.id);
    if (limited !== null) return limited;
    return ok(messageObject(storeNewMessage(state, params, "text", params.text, prepared)));
  }

  function sendMedia(params: Record<string, unknown>, kind: "animation" | "sticker"): Reply {
    const state = targetChat(params);
    if (isReply(state)) return state;
    const media = params[kind];
    if (media === undefined || media === "") return badRequest(`there is no ${kind} in the request`);
    const prepared = prepareText(params.caption, params.parse_mode, params.caption_entities, "caption");
    if (isReply(prepared)) return prepared;
    const markupError = validateMarkup(params.reply_markup);
    if (markupError !== null) return markupError;
    const limited = charge(state.chat.id);
    if (limited !== null) return limited;
    const uploaded =
      typeof media === "object" || (typeof media === "string" && media.startsWith("attach://"));
    const fileId =
      uploaded || /^https?:\/\//.test(String(media)) ? `FAKE-${kind}-${nextFileId++}` : String(media);
    return ok(messageObject(storeNewMessage(state, params, kind, params.caption, prepared, fileId)));
  }

  const NOT_MODIFIED =
    "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

  function editMessageText(params: Record<string, unknown>): Reply {
    const m = targetMessage(params, "message to edit not found");
    if (isReply(m)) return m;
    if (m.kind !== "text") return badRequest("there is no text in the message to edit");
    const prepared = prepareText(params.text, params.parse_mode, params.entities, "text");
    if (isReply(prepared)) return prepared;
    const markupError = validateMarkup(params.reply_markup);
    if (markupError !== null) return markupError;
    // Telegram compares what the message would become: visible text, entities and keyboard.
    // Leaving reply_markup out removes the keyboard, which counts as a change.
    const sameText =
      prepared.plain === m.plainText && canonicalJson(prepared.entities) === canonicalJson(m.entities ?? []);
    const sameMarkup =
      canonicalJson(effectiveMarkup(params.reply_markup)) === canonicalJson(effectiveMarkup(m.replyMarkup));
    if (sameText && sameMarkup) return badRequest(NOT_MODIFIED);
    const limited = charge(m.chatId);
    if (limited !== null) return limited;
    m.text = String(params.text);
    m.plainText = prepared.plain;
    m.entities = prepared.entities;
    if (typeof params.parse_mode === "string" && params.parse_mode !== "") m.parseMode = params.parse_mode;
    else delete m.parseMode;
    if (params.reply_markup !== undefined) m.replyMarkup = params.reply_markup;
    else delete m.replyMarkup;
    m.edits++;
    m.editDate = nowSec();
    emit("edited", m);
    return ok(messageObject(m));
  }

  function editMessageReplyMarkup(params: Record<string, unknown>): Reply {
    const m = targetMessage(params, "message to edit not found");
    if (isReply(m)) return m;
    const markupError = validateMarkup(params.reply_markup);
    if (markupError !== null) return markupError;
    if (
      canonicalJson(effectiveMarkup(params.reply_markup)) === canonicalJson(effectiveMarkup(m.replyMarkup))
    ) {
      return badRequest(NOT_MODIFIED);
    }
    const limited = charge(m.chatId);
    if (limited !== null) return limited;
    if (params.reply_markup !== undefined) m.replyMarkup = params.reply_markup;
    else delete m.replyMarkup;
    m.edits++;
    m.editDate = nowSec();
    emit("edited", m);
    return ok(messageObject(m));
  }

  function deleteMessage(params: Record<string, unknown>): Reply {
    const m = targetMessage(params, "message to delete not found");
    if (isReply(m)) return m;
    messages.delete(messageKey(m.chatId, m.messageId));
    emit("deleted", m);
    return ok(true);
  }

  function answerCallbackQuery(params: Record<string, unknown>): Reply {
    const id = params.callback_query_id === undefined ? "" : String(params.callback_query_id);
    if (!openCallbacks.has(id)) {
      return badRequest("query is too old and response timeout expired or query ID is invalid");
    }
    const text = params.text === undefined || params.text === null ? undefined : String(params.text);
    if (text !== undefined && text.length > MAX_CALLBACK_ANSWER_UNITS) return badRequest("MESSAGE_TOO_LONG");
    openCallbacks.delete(id);
    const answer: { text?: string; showAlert?: boolean } = {};
    if (text !== undefined) answer.text = text;
    if (params.show_alert !== undefined) answer.showAlert = toBool(params.show_alert);
    answered.set(id, answer);
    return ok(true);
  }

  function memberObject(user: Record<string, unknown>, status: BotMembershipStatus): Record<string, unknown> {
    if (status === "administrator") {
      return {
        status,
        user,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: false,
        can_restrict_members: false,
        can_promote_members: false,
        can_change_info: false,
        can_invite_users: true,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        can_post_messages: true,
        can_edit_messages: true,
      };
    }
    return status === "kicked" ? { status, user, until_date: 0 } : { status, user };
  }

  function getChatMember(params: Record<string, unknown>): Reply {
    const state = resolveChat(params.chat_id);
    if (state === undefined) return badRequest("chat not found");
    const userId = toInt(params.user_id);
    if (userId === undefined) return badRequest("user not found");
    if (userId === botUser.id) return ok(memberObject(botUserObject(), state.membership));
    const user = users.get(userId);
    if (user === undefined) return badRequest("user not found");
    return ok(memberObject(userObject(user), state.memberIds.has(userId) ? "member" : "left"));
  }

  const commandsKey = (scope: unknown, languageCode: unknown) =>
    canonicalJson({
      scope: scope ?? { type: "default" },
      language: typeof languageCode === "string" ? languageCode : "",
    });

  function setMyCommands(params: Record<string, unknown>): Reply {
    const list = params.commands;
    if (!Array.isArray(list)) return badRequest('field "commands" must be an Array');
    if (list.length > 100) return badRequest("BOT_COMMANDS_TOO_MUCH");
    const clean: Array<{ command: string; description: string }> = [];
    for (const entry of list) {
      const c = entry as { command?: unknown; description?: unknown } | null;
      if (typeof c?.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
        return badRequest("BOT_COMMAND_INVALID");
      }
      if (typeof c.description !== "string" || c.description.length < 1 || c.description.length > 256) {
        return badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
      }
      clean.push({ command: c.command, description: c.description });
    }
    commands.set(commandsKey(params.scope, params.language_code), clean);
    return ok(true);
  }

  const handlers: Record<string, (params: Record<string, unknown>) => Reply> = {
    getMe: () =>
      ok({
        ...botUserObject(),
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      }),
    setWebhook: (params) => {
      const url = typeof params.url === "string" ? params.url : "";
      if (url === "") {
        webhook = null;
        return ok(true);
      }
      const secret = params.secret_token === undefined ? undefined : String(params.secret_token);
      if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
        return badRequest("secret token contains unallowed characters");
      }
      try {
        new URL(url);
      } catch {
        return badRequest("bad webhook: Failed to resolve host: Name or service not known");
      }
      if (Array.isArray(params.allowed_updates)) allowedUpdates = params.allowed_updates.map(String);
      if (toBool(params.drop_pending_updates)) updates.splice(0, updates.length);
      webhook = { url, secret };
      if (pendingPoll !== null)
        finishPoll(pendingPoll, fail(409, "Conflict: terminated by setWebhook request"));
      void pushToWebhook();
      return ok(true);
    },
    deleteWebhook: (params) => {
      webhook = null;
      if (toBool(params.drop_pending_updates)) updates.splice(0, updates.length);
      return ok(true);
    },
    getWebhookInfo: () =>
      ok({ url: webhook?.url ?? "", has_custom_certificate: false, pending_update_count: updates.length }),
    setMyCommands,
    getMyCommands: (params) => ok(commands.get(commandsKey(params.scope, params.language_code)) ?? []),
    deleteMyCommands: (params) => {
      commands.delete(commandsKey(params.scope, params.language_code));
      return ok(true);
    },
    sendMessage,
    editMessageText,
    editMessageReplyMarkup,
    sendAnimation: (params) => sendMedia(params, "animation"),
    sendSticker: (params) => sendMedia(params, "sticker"),
    deleteMessage,
    answerCallbackQuery,
    getChat: (params) => {
      const state = resolveChat(params.chat_id);
      if (state === undefined) return badRequest("chat not found");
      return ok({ ...chatObject(state), accent_color_id: 0, max_reaction_count: 11 });
    },
    getChatMember,
  };
  const methodByLowerName = new Map<string, string>(
    [...Object.keys(handlers), "getUpdates"].map((name) => [name.toLowerCase(), name]),
  );

  // ---- HTTP -------------------------------------------------------------------------------

  function send(res: ServerResponse, record: RecordedCall, reply: Reply): void {
    if (reply.status === 429) tooManyCount++;
    if (record.method !== "getUpdates" && takeReset(record.method, true)) {
      // the call took effect; only its answer is lost
      record.response = CONNECTION_RESET;
      res.socket?.destroy();
      return;
    }
    record.response = reply.body;
    if (answerDelayMs > 0 && !closed) {
      // A slow link: the call has taken effect; its answer is on the way for answerDelayMs.
      const timer = setTimeout(() => {
        delayedAnswers.delete(timer);
        write(res, reply);
      }, answerDelayMs);
      delayedAnswers.add(timer);
      return;
    }
    write(res, reply);
  }

  function write(res: ServerResponse, reply: Reply): void {
    if (res.writableEnded || res.destroyed) return;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  function matchingHang(method: string, chatId: number | undefined): HangRule | undefined {
    return hangRules.find(
      (rule) =>
        (rule.method === "*" || rule.method === method) &&
        (rule.chatId === undefined || rule.chatId === chatId),
    );
  }

  /** Holds a call unanswered until its rule is released (or the client gives up, or the fake closes). */
  function hold(call: HeldCall): void {
    held.add(call);
    call.res.on("close", () => {
      if (!held.delete(call)) return;
      // The client gave up waiting (a timeout or a stop): the call never took effect.
      call.record.response = CONNECTION_RESET;
    });
  }

  /** A post to a chat that refuses the bot's posts: its error, else null. */
  function refusal(
    method: string,
    chatId: number | undefined,
    params: Record<string, unknown>,
  ): Reply | null {
    if (!POSTING_METHODS.has(method) || chatId === undefined) return null;
    const rule = refusals.get(chatId);
    if (rule === undefined) return null;
    if (
      rule.threadId !== undefined &&
      method.startsWith("send") &&
      toInt(params.message_thread_id) !== rule.threadId
    ) {
      return null;
    }
    return fail(rule.error.code, rule.error.description);
  }

  /** Consumes one pending connection reset that applies to this call, if any. */
  function takeReset(method: string, afterProcessing: boolean): boolean {
    const index = pendingResets.findIndex(
      (r) => r.afterProcessing === afterProcessing && (r.method === undefined || r.method === method),
    );
    if (index === -1) return false;
    const reset = pendingResets[index]!;
    reset.remaining--;
    if (reset.remaining <= 0) pendingResets.splice(index, 1);
    return true;
  }

  function takeFault(method: string): FakeError | undefined {
    const index = faults.findIndex((rule) => rule.method === method || rule.method === "*");
    if (index === -1) return undefined;
    const rule = faults[index]!;
    rule.remaining--;
    if (rule.remaining <= 0) faults.splice(index, 1);
    return rule.error;
  }

  function faultReply(error: FakeError, chatId: number | undefined): Reply {
    const parameters: Record<string, number> = {};
    if (error.retryAfter !== undefined) parameters.retry_after = error.retryAfter;
    if (error.migrateTo !== undefined) parameters.migrate_to_chat_id = error.migrateTo;
    if (error.code === 429 && error.retryAfter !== undefined && chatId !== undefined) {
      // an injected 429 opens a ban window like a real one, so early retries are caught
      limiter.banChat(chatId, now() + error.retryAfter * 1000);
    }
    return fail(error.code, error.description, parameters);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const route = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(url.pathname);
    // an unroutable path is not recorded verbatim: it may hold a token
    const method = route ? (methodByLowerName.get(route[2]!.toLowerCase()) ?? route[2]!) : "(invalid path)";
    let params: Record<string, unknown> = {};
    let bodyError: BadRequestBody | null = null;
    try {
      params = await parseParams(
        req.headers["content-type"],
        await readBody(req, MAX_BODY_BYTES),
        url.searchParams,
      );
    } catch (error) {
      if (!(error instanceof BadRequestBody)) throw error;
      bodyError = error;
    }
    const record: RecordedCall = {
      seq: calls.length + 1,
      at: now(),
      method,
      params,
      response: undefined,
      duringRetryAfter: false,
    };
    calls.push(record);
    byMethod[method] = (byMethod[method] ?? 0) + 1;

    if (takeReset(method, false)) {
      record.response = CONNECTION_RESET;
      req.socket.destroy();
      return;
    }
    if (now() < outageUntil) {
      if (outageMode === "drop") {
        record.response = CONNECTION_RESET;
        req.socket.destroy();
      } else {
        send(res, record, fail(502, "Bad Gateway"));
      }
      return;
    }
    if (route === null) return send(res, record, fail(404, "Not Found"));
    if (route[1] !== token) return send(res, record, fail(401, "Unauthorized"));
    if (!methodByLowerName.has(method.toLowerCase())) return send(res, record, fail(404, "Not Found"));
    if (bodyError !== null) return send(res, record, fail(bodyError.status, bodyError.message));

    if (matchingHang(method, resolveChat(params.chat_id)?.chat.id ?? toInt(params.chat_id)) !== undefined)
      return hold({ record, params, res });
    respond(method, params, record, res);
  }

  /** Answers a call that passed the checks above (now, or when a hang is released). */
  function respond(
    method: string,
    params: Record<string, unknown>,
    record: RecordedCall,
    res: ServerResponse,
  ): void {
    const counted = COUNTED_METHODS.has(method);
    const chatId = resolveChat(params.chat_id)?.chat.id ?? toInt(params.chat_id);
    if (counted && chatId !== undefined) {
      const banLeftMs = limiter.banRemainingMs(chatId, now());
      if (banLeftMs > 0) {
        // the sender did not wait out retry_after: flag it, answer 429 again, extend nothing
        record.duringRetryAfter = true;
        duringRetryAfterCount++;
        send(res, record, tooManyRequests(Math.max(1, Math.ceil(banLeftMs / 1000))));
        return;
      }
    }
    const fault = takeFault(method);
    if (fault !== undefined) {
      send(res, record, faultReply(fault, chatId));
      return;
    }
    const refused = refusal(method, chatId, params);
    if (refused !== null) {
      send(res, record, refused);
      return;
    }
    if (method === "getUpdates") {
      getUpdates(params, record, res);
      return;
    }
    send(res, record, handlers[method]!(params));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // a bug in the fake must show up as a 500 in the test, not as a hung request
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            ok: false,
            error_code: 500,
            description: `Internal Server Error: ${String(error)}`,
          }),
        );
      }
    });
  });
  // Long-lived keep-alive, like api.telegram.org: grammY reuses one socket for polls and sends.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  // ---- the test-facing interface -------------------------------------------------------------

  const api: FakeBotApi = {
    apiRoot: `http://${formatHost(host)}:${port}`,
    token,
    calls,

    addChat(chat) {
      addChat(chat);
    },

    sendText(from, chatId, text, extra) {
      const user = registerUser(from);
      const state = ensureChat(chatId, user);
      state.memberIds.add(user.id);
      const message: Record<string, unknown> = {
        message_id: state.nextMessageId++,
        from: userObject(user),
        chat: chatObject(state),
        date: nowSec(),
        text,
      };
      if (text.startsWith("/")) {
        const end = text.search(/\s/);
        message.entities = [{ type: "bot_command", offset: 0, length: end === -1 ? text.length : end }];
      }
      if (extra?.threadId !== undefined) {
        message.message_thread_id = extra.threadId;
        message.is_topic_message = true;
      }
      return queueUpdate({ message });
    },

    pressButton(from, chatId, messageId, data) {
      const user = registerUser(from);
      const state = ensureChat(chatId, user);
      const id = `${botUser.id}${String(nextCallbackId++).padStart(6, "0")}`;
      openCallbacks.add(id);
      const stored = messages.get(messageKey(chatId, messageId));
      // a message the fake never saw is "inaccessible" (date 0), as Telegram reports very old ones
      const message = stored
        ? messageObject(stored)
        : { chat: chatObject(state), message_id: messageId, date: 0 };
      queueUpdate({
        callback_query: {
          id,
          from: userObject(user),
          message,
          chat_instance: `ci${chatId}`,
          data,
        },
      });
      return id;
    },

    setMembership(chatId, status, by) {
      const state = ensureChat(chatId);
      const actor = registerUser(
        by ??
          (state.chat.type === "private"
            ? { id: chatId, first_name: state.chat.first_name }
            : DEFAULT_GROUP_ACTOR),
      );
      const old = state.membership;
      state.membership = status;
      if (status === "member" || status === "administrator") state.blocked = false;
      return queueUpdate({
        my_chat_member: {
          chat: chatObject(state),
          from: userObject(actor),
          date: nowSec(),
          old_chat_member: memberObject(botUserObject(), old),
          new_chat_member: memberObject(botUserObject(), status),
        },
      });
    },

    migrateChat(oldId, newId) {
      const old = ensureChat(oldId);
      const created = addChat({ id: newId, type: "supergroup", title: old.chat.title });
      created.membership = old.membership;
      for (const id of old.memberIds) created.memberIds.add(id);
      old.migratedTo = newId;
      const actor = userObject(DEFAULT_GROUP_ACTOR);
      queueUpdate({
        message: {
          message_id: old.nextMessageId++,
          from: actor,
          chat: chatObject(old),
          date: nowSec(),
          migrate_to_chat_id: newId,
        },
      });
      queueUpdate({
        message: {
          message_id: created.nextMessageId++,
          from: actor,
          chat: chatObject(created),
          date: nowSec(),
          migrate_from_chat_id: oldId,
        },
      });
    },

    blockBot(chatId) {
      ensureChat(chatId).blocked = true;
    },

    injectUpdate(update) {
      const { update_id: _ignored, ...body } = update as Record<string, unknown>;
      return queueUpdate(body);
    },

    delayAnswers(ms) {
      answerDelayMs = Math.max(0, ms);
    },

    hang(method, options) {
      const name = method === "*" ? "*" : (methodByLowerName.get(method.toLowerCase()) ?? method);
      hangRules.push({ method: name, chatId: options?.chatId });
    },

    release() {
      hangRules.splice(0, hangRules.length);
      const calls = [...held];
      held.clear();
      for (const call of calls) {
        if (call.res.destroyed || call.res.writableEnded) continue;
        respond(call.record.method, call.params, call.record, call.res);
      }
    },

    hanging() {
      return held.size;
    },

    refusePosts(chatId, error, options) {
      if (error === null) refusals.delete(chatId);
      else refusals.set(chatId, { error: { ...error }, threadId: options?.threadId });
    },

    failNext(method, error, times = 1) {
      if (times > 0) faults.push({ method, error: { ...error }, remaining: times });
    },

    outage(ms, options) {
      outageUntil = now() + ms;
      outageMode = options?.mode ?? "bad-gateway";
    },

    resetConnections(n, options) {
      if (n <= 0) return;
      const method =
        options?.method === undefined
          ? undefined
          : (methodByLowerName.get(options.method.toLowerCase()) ?? options.method);
      pendingResets.push({ remaining: n, afterProcessing: options?.afterProcessing === true, method });
    },

    messages(chatId) {
      return [...messages.values()]
        .filter((m) => chatId === undefined || m.chatId === chatId)
        .sort((a, b) => a.seq - b.seq)
        .map(publicMessage);
    },

    answeredCallbacks() {
      return new Map([...answered].map(([id, answer]) => [id, { ...answer }]));
    },

    commandsFor(scope, languageCode) {
      return (commands.get(commandsKey(scope, languageCode)) ?? []).map((c) => ({ ...c }));
    },

    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() >= deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },

    webhookInfo() {
      return webhook === null ? null : { ...webhook };
    },

    webhookPosts() {
      return webhookPosts.map((p) => ({ ...p }));
    },

    stats() {
      return {
        byMethod: { ...byMethod },
        tooManyRequests: tooManyCount,
        duringRetryAfter: duringRetryAfterCount,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (pendingPoll !== null) finishPoll(pendingPoll, ok([]));
      for (const timer of delayedAnswers) clearTimeout(timer);
      delayedAnswers.clear();
      hangRules.splice(0, hangRules.length);
      for (const call of held) {
        call.record.response = CONNECTION_RESET;
        call.res.socket?.destroy();
      }
      held.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return api;
}

export type { UploadedFile };
