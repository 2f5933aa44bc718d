// The public shape of the fake Bot API server (see index.ts for the implementation).

export type FakeChatType = "private" | "group" | "supergroup" | "channel";
export type BotMembershipStatus = "member" | "administrator" | "left" | "kicked";

export interface FakeRateLimits {
  perChatPerSec?: number;
  perChatBurst?: number;
  perGroupPerMin?: number;
  perBotPerSec?: number;
  /** Fixed retry_after for every 429; by default it is the wait until the limit frees up (≥ 1 s). */
  retryAfterSec?: number;
}

export interface FakeBotApiOptions {
  /** Loopback only; default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default "123456:TEST-TOKEN"; requests with any other token get 401. */
  token?: string;
  /** What getMe returns; the default id is the token's numeric prefix. */
  botUser?: { id: number; username: string; first_name: string };
  /** false turns flood control off; by default ~1 msg/s per chat (burst 3), 20/min per group, 30/s per bot. */
  limits?: false | FakeRateLimits;
  /** Milliseconds clock used for limits, bans, outages and message dates; default Date.now. */
  now?: () => number;
  /** Every answer waits this long (real time) after its call took effect, as over a slow link. Default 0. */
  answerDelayMs?: number;
}

export interface RecordedCall {
  seq: number;
  /** now() when the request arrived. */
  at: number;
  method: string;
  params: Record<string, unknown>;
  /** The JSON body answered, or CONNECTION_RESET when the socket was destroyed (or the client hung up). */
  response: unknown;
  /** A counted request to a chat (or a bot) that was still inside a retry_after window. */
  duringRetryAfter: boolean;
}

export interface FakeMessage {
  chatId: number;
  messageId: number;
  threadId?: number;
  /** The text (or caption) exactly as the bot sent it, markup included. */
  text: string;
  parseMode?: string;
  /** The entities Telegram holds for the message: parsed from HTML, or as given. */
  entities?: unknown;
  replyMarkup?: unknown;
  edits: number;
  /** Unix seconds. */
  date: number;
  /** Added: what kind of message it is; a media message's `text` is its caption. */
  kind: "text" | "animation" | "sticker";
  /** Added: the text as a person sees it (markup parsed away, entities decoded). */
  plainText: string;
}

export interface FakeUser {
  id: number;
  username?: string;
  first_name?: string;
  last_name?: string;
}

export interface FakeChat {
  id: number;
  type: FakeChatType;
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  is_forum?: boolean;
}

export interface FakeError {
  code: number;
  description: string;
  retryAfter?: number;
  migrateTo?: number;
}

/** One post of an update to the bot's webhook. */
export interface WebhookPost {
  updateId: number;
  url: string;
  /** The HTTP status answered; null when the post failed (refused, timed out). */
  status: number | null;
  /** now() when the answer came. */
  at: number;
}

/** Emitted whenever a bot message appears, changes or goes away (the demo prints these). */
export interface FakeMessageEvent {
  kind: "sent" | "edited" | "deleted";
  message: FakeMessage;
}

export interface FakeBotApi {
  /** e.g. http://127.0.0.1:40555 — grammY appends /bot<token>/<method>. */
  apiRoot: string;
  token: string;
  /** Every call, in arrival order. */
  calls: RecordedCall[];
  addChat(chat: FakeChat): void;
  /** Queues a message update; a leading "/cmd" gets a bot_command entity. Returns the update_id. */
  sendText(from: FakeUser, chatId: number, text: string, extra?: { threadId?: number }): number;
  /** Queues a callback_query update for a button under a message; returns the callback query id. */
  pressButton(from: FakeUser, chatId: number, messageId: number, data: string): string;
  /** Queues a my_chat_member update; left/kicked also make sends to the chat fail with 403. */
  setMembership(chatId: number, status: BotMembershipStatus, by?: FakeUser): number;
  /** Queues both migration service messages; from then on sends to oldId fail with migrate_to_chat_id. */
  migrateChat(oldId: number, newId: number): void;
  /** From then on sends to the chat answer 403 (until setMembership(member|administrator)). */
  blockBot(chatId: number): void;
  /** Queues a raw update (update_id is assigned); chats in it become known. Returns the update_id. */
  injectUpdate(update: object): number;
  /** From now on every answer waits `ms` (real time) after its call took effect; 0 ends it. */
  delayAnswers(ms: number): void;
  /**
   * From now on calls of `method` ("*": any; only those to `chatId`, when given) are read and
   * recorded, then never answered: they take no effect until release(). A client that gives up
   * (timeout, abort) finds its call recorded with response CONNECTION_RESET.
   */
  hang(method: string, options?: { chatId?: number }): void;
  /** Ends every hang; the calls still held are answered now, as if they had just arrived. */
  release(): void;
  /** How many calls are held by a hang now. */
  hanging(): number;
  /**
   * From now on every post to the chat (send or edit; with threadId, only sends to that forum topic)
   * answers `error`, as when the bot stays in a chat but may not post there (CANNOT_POST_ERRORS);
   * null ends it.
   */
  refusePosts(chatId: number, error: FakeError | null, options?: { threadId?: number }): void;
  /** The next `times` (default 1) calls of `method` (or any, with "*") answer this error. */
  failNext(method: string, error: FakeError, times?: number): void;
  /** For `ms` (by now()) every call answers 502 Bad Gateway, or has its connection dropped. */
  outage(ms: number, options?: { mode?: "bad-gateway" | "drop" }): void;
  /**
   * Destroys the socket of the next n requests (of `method` only, when given — a running bot
   * polls all the time). By default before the call takes effect; with afterProcessing the call
   * takes effect and only its answer is lost (a send that "maybe happened"; never getUpdates).
   */
  resetConnections(n: number, options?: { afterProcessing?: boolean; method?: string }): void;
  /** Bot messages (current state, after edits; deleted ones are gone), in the order they were sent. */
  messages(chatId?: number): FakeMessage[];
  answeredCallbacks(): Map<string, { text?: string; showAlert?: boolean }>;
  /** The commands set by setMyCommands for a scope (default scope) and language (none). */
  commandsFor(scope?: object, languageCode?: string): Array<{ command: string; description: string }>;
  /** Subscribes to bot message changes; returns the unsubscribe function. */
  onMessage(listener: (event: FakeMessageEvent) => void): () => void;
  /** Polls pred every few ms; rejects after timeoutMs (default 5000). */
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  /** The webhook set by setWebhook (url and secret_token), or null while updates wait for getUpdates. */
  webhookInfo(): { url: string; secret: string | undefined } | null;
  /** Every post of an update to the webhook, with the HTTP status it got (null: no answer). */
  webhookPosts(): WebhookPost[];
  stats(): { byMethod: Record<string, number>; tooManyRequests: number; duringRetryAfter: number };
  close(): Promise<void>;
}
