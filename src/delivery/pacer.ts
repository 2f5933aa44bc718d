// One gate in front of every Telegram call that counts against the flood limits (deliveries, edits
// and the bot's own replies), so that together they stay under Telegram's numbers:
//   ~1 message/s per chat (short bursts tolerated), ~20/min per group, ~30/s per bot,
// and no request at all reaches a chat (or, for a bot-wide ban, any chat) while a 429's
// retry_after is running — retrying early only lengthens the ban.
import { setMaxListeners } from "node:events";
import type { Transformer } from "grammy";
import type { Metrics } from "../http/metrics.js";
import { callLeavesPacer, callWaitsInPacer } from "./call-signals.js";

export interface PacerLimits {
  /** Sustained messages per second to one chat. */
  perChatPerSec: number;
  /** Messages one chat may receive back to back before the per-second pace applies. */
  perChatBurst: number;
  /** Messages per rolling minute to one group, supergroup or channel (negative chat id). */
  perGroupPerMin: number;
  /** Messages per rolling second for the whole bot. */
  perBotPerSec: number;
}

/** A little under Telegram's published numbers, so that clock skew and latency never tip us over. */
export const DEFAULT_PACER_LIMITS: PacerLimits = {
  perChatPerSec: 0.95,
  perChatBurst: 2,
  perGroupPerMin: 19,
  perBotPerSec: 25,
};

export type ChatKey = number | string;

export interface PacerHealth {
  /** Last time (ms) Telegram answered a call successfully. */
  lastOkAt: number | null;
  /** Last time (ms) a call failed (Telegram error or network). */
  lastErrorAt: number | null;
  /** Telegram's error code of that failure; 0 for a network failure. */
  lastErrorCode: number | null;
  /** End (ms) of a bot-wide retry_after ban still running, else null. */
  bannedUntil: number | null;
  /** How many chats are inside their own retry_after ban now. */
  bannedChats: number;
}

export interface PacerOptions {
  limits?: Partial<PacerLimits>;
  now?: () => number;
  /** Waits `ms`; must reject when `signal` aborts. Tests inject a virtual clock here. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** When given, 429s and retry_after seconds are counted here (and Telegram errors by code). */
  metrics?: Metrics;
  /** Extra wait after a retry_after, against clock and latency differences. Default 100 ms. */
  banMarginMs?: number;
  /**
   * Told of every retry_after ban (chat null: bot-wide) with its end (ms), so that the service can keep
   * it across a restart: Telegram still enforces it, and a new process must not send early.
   */
  onBan?: (chatId: ChatKey | null, untilMs: number) => void;
}

export class PacerStoppedError extends Error {
  override readonly name = "PacerStoppedError";
  constructor() {
    super("Telegram pacing stopped: the service is shutting down");
  }
}

interface ChatPace {
  tokens: number;
  refilledAt: number;
  /** Send times within the last minute (groups only). */
  groupSends: number[];
  bannedUntil: number;
}

const GROUP_WINDOW_MS = 60_000;
const BOT_WINDOW_MS = 1_000;
const MAX_TRACKED_CHATS = 5_000;
/** Above this share of the bot-wide limit in the last second, a 429 may have been the bot-wide one. */
const BOT_BUSY_SHARE = 0.5;
/** How often a wait re-checks while the bot-wide limit is taken up by calls still in flight. */
const IN_FLIGHT_RECHECK_MS = 50;

/** Waits `ms`; rejects with the signal's reason when it aborts first (listener removed either way). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Groups, supergroups and channels have negative ids; "@name" addresses a public channel or group. */
export function isGroupChat(chatId: ChatKey, kind?: string): boolean {
  if (kind !== undefined) return kind !== "private";
  return typeof chatId === "string" ? chatId.startsWith("@") : chatId < 0;
}

export class Pacer {
  readonly limits: PacerLimits;
  private readonly now: () => number;
  private readonly sleepFn: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly metrics: Metrics | undefined;
  private readonly banMarginMs: number;
  private readonly onBan: ((chatId: ChatKey | null, untilMs: number) => void) | undefined;
  private readonly chats = new Map<string, ChatPace>();
  /** Bot-wide: when each recent call was sent (acquire) or answered (begin … settle), ascending. */
  private botSends: number[] = [];
  /** Calls from begin() not answered yet: Telegram may receive them at any moment until then. */
  private botInFlight = 0;
  private botBannedUntil = 0;
  private readonly stopController = new AbortController();
  private lastOkAt: number | null = null;
  private lastErrorAt: number | null = null;
  private lastErrorCode: number | null = null;

  constructor(opts: PacerOptions = {}) {
    // Every wait listens to it, and a burst to many chats has many waits at once (each removes its own).
    setMaxListeners(0, this.stopController.signal);
    this.limits = { ...DEFAULT_PACER_LIMITS, ...opts.limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!(Number.isFinite(value) && value > 0))
        throw new Error(`Pacer limit ${name} must be > 0, got ${value}`);
    }
    this.now = opts.now ?? Date.now;
    this.sleepFn = opts.sleep ?? abortableSleep;
    this.metrics = opts.metrics;
    this.banMarginMs = opts.banMarginMs ?? 100;
    this.onBan = opts.onBan;
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Cancels every wait (they reject with PacerStoppedError) and refuses new ones. */
  stop(): void {
    if (!this.stopped) this.stopController.abort(new PacerStoppedError());
  }

  /**
   * Waits until one more message to `chatId` fits every limit and no ban covers it, then counts it.
   * `chatId` null paces a call that has no chat (only the bot-wide limit and ban apply).
   */
  async acquire(chatId: ChatKey | null, signal?: AbortSignal): Promise<void> {
    await this.waitUntilFree(chatId, signal, true);
  }

  /**
   * acquire() for a call about to be made, which then counts against the bot-wide limit from now
   * until the returned `settle` is called (when the answer or a failure comes) and for a second after
   * that. Calls leave one by one but may reach Telegram bunched together (new connections, a busy
   * event loop); counted this way, no second of Telegram's clock holds more than perBotPerSec of them.
   */
  async begin(chatId: ChatKey | null, signal?: AbortSignal): Promise<() => void> {
    await this.waitUntilFree(chatId, signal, true, true);
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      this.botInFlight--;
      this.botSends.push(this.now());
    };
  }

  /**
   * Waits until a message to `chatId` would be allowed, without counting one. A sender uses it to do
   * its (cancellable) waiting before it commits to a request.
   */
  async ready(chatId: ChatKey | null, signal?: AbortSignal): Promise<void> {
    await this.waitUntilFree(chatId, signal, false);
  }

  private async waitUntilFree(
    chatId: ChatKey | null,
    signal: AbortSignal | undefined,
    take: boolean,
    inFlight = false,
  ) {
    const waiting = this.waitSignal(signal);
    try {
      for (;;) {
        if (waiting.signal.aborted) throw waiting.signal.reason ?? new PacerStoppedError();
        const now = this.now();
        const at = this.nextAllowedAt(chatId, now);
        if (at <= now) {
          if (take) this.take(chatId, now, inFlight);
          return;
        }
        await this.sleepFn(at - now, waiting.signal);
      }
    } finally {
      waiting.release();
    }
  }

  /**
   * A signal for one wait, aborted by the caller's signal or by stop(). Its listeners are removed when
   * the wait is over: both sources live long (AbortSignal.any would pile up on them, nodejs/node#55351).
   */
  private waitSignal(signal: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
    const stop = this.stopController.signal;
    if (signal === undefined) return { signal: stop, release: () => undefined };
    const controller = new AbortController();
    const sources = [signal, stop];
    const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
    const release = () => {
      for (const source of sources) source.removeEventListener("abort", onAbort);
    };
    const already = sources.find((source) => source.aborted);
    if (already !== undefined) controller.abort(already.reason);
    else for (const source of sources) source.addEventListener("abort", onAbort, { once: true });
    return { signal: controller.signal, release };
  }

  /** The earliest time (ms) a message to this chat is allowed; ≤ now means at once. */
  nextAllowedAt(chatId: ChatKey | null, now = this.now()): number {
    let at = this.botBannedUntil;
    this.botSends = this.botSends.filter((t) => t > now - BOT_WINDOW_MS);
    // One more fits once `excess + 1` recent calls have left the window; calls in flight never leave it.
    const excess = this.botSends.length + this.botInFlight - this.limits.perBotPerSec;
    if (excess >= 0) {
      const leaving = this.botSends[excess];
      at = Math.max(at, leaving === undefined ? now + IN_FLIGHT_RECHECK_MS : leaving + BOT_WINDOW_MS);
    }
    if (chatId === null) return Math.ceil(at);
    const pace = this.pace(chatId, now);
    at = Math.max(at, pace.bannedUntil);
    if (pace.tokens < 1) at = Math.max(at, now + ((1 - pace.tokens) / this.limits.perChatPerSec) * 1000);
    if (isGroupChat(chatId)) {
      const sends = pace.groupSends;
      if (sends.length >= this.limits.perGroupPerMin) {
        at = Math.max(at, sends[sends.length - this.limits.perGroupPerMin]! + GROUP_WINDOW_MS);
      }
    }
    // Whole milliseconds, as a real clock ticks: a fractional time would never quite be reached.
    return Math.ceil(at);
  }

  private take(chatId: ChatKey | null, now: number, inFlight: boolean): void {
    if (inFlight) this.botInFlight++;
    else this.botSends.push(now);
    if (chatId === null) return;
    const pace = this.pace(chatId, now);
    pace.tokens -= 1;
    if (isGroupChat(chatId)) pace.groupSends.push(now);
    if (this.chats.size > MAX_TRACKED_CHATS) this.forgetIdleChats(now);
  }

  /** Chats back at full burst, with no recent group sends and no ban, carry no state worth keeping. */
  private forgetIdleChats(now: number): void {
    for (const [key, pace] of this.chats) {
      const idle = now - pace.refilledAt >= (this.limits.perChatBurst / this.limits.perChatPerSec) * 1000;
      const lastGroupSend = pace.groupSends[pace.groupSends.length - 1] ?? 0;
      if (idle && lastGroupSend <= now - GROUP_WINDOW_MS && pace.bannedUntil <= now) this.chats.delete(key);
    }
  }

  /** The chat's pacing state, refilled up to `now` and with sends older than a minute forgotten. */
  private pace(chatId: ChatKey, now: number): ChatPace {
    const key = String(chatId);
    let pace = this.chats.get(key);
    if (pace === undefined) {
      pace = { tokens: this.limits.perChatBurst, refilledAt: now, groupSends: [], bannedUntil: 0 };
      this.chats.set(key, pace);
    }
    const elapsedSec = Math.max(0, now - pace.refilledAt) / 1000;
    pace.tokens = Math.min(this.limits.perChatBurst, pace.tokens + elapsedSec * this.limits.perChatPerSec);
    pace.refilledAt = now;
    if (pace.groupSends.length > 0 && pace.groupSends[0]! <= now - GROUP_WINDOW_MS) {
      pace.groupSends = pace.groupSends.filter((t) => t > now - GROUP_WINDOW_MS);
    }
    return pace;
  }

  /**
   * Telegram answered 429 with `retry_after` for a call to `chatId` (null: a call without a chat).
   * Telegram does not say which limit was hit; when the bot as a whole was sending at more than half
   * its limit in the last second, the ban is taken as bot-wide too, to be safe.
   */
  recordRetryAfter(chatId: ChatKey | null, retryAfterSec: number): void {
    const now = this.now();
    const seconds = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec : 1;
    const until = now + seconds * 1000 + this.banMarginMs;
    this.metrics?.rateLimitHits.inc();
    this.metrics?.rateLimitWaits.inc(seconds);
    this.botSends = this.botSends.filter((t) => t > now - BOT_WINDOW_MS);
    const botBusy = this.botSends.length + this.botInFlight >= this.limits.perBotPerSec * BOT_BUSY_SHARE;
    if (chatId === null || botBusy) {
      this.botBannedUntil = Math.max(this.botBannedUntil, until);
      this.onBan?.(null, this.botBannedUntil);
    }
    if (chatId !== null) {
      const pace = this.pace(chatId, now);
      pace.bannedUntil = Math.max(pace.bannedUntil, until);
      this.onBan?.(chatId, pace.bannedUntil);
    }
  }

  /**
   * A ban that started before this pacer existed (a retry_after the previous run of the service got):
   * nothing goes to the chat (null: to any chat) until `untilMs`. Past ends are ignored.
   */
  restoreBan(chatId: ChatKey | null, untilMs: number): void {
    const now = this.now();
    if (!(Number.isFinite(untilMs) && untilMs > now)) return;
    if (chatId === null) this.botBannedUntil = Math.max(this.botBannedUntil, untilMs);
    else {
      const pace = this.pace(chatId, now);
      pace.bannedUntil = Math.max(pace.bannedUntil, untilMs);
    }
  }

  /** End (ms) of the ban covering this chat (its own or bot-wide), or 0. */
  bannedUntil(chatId: ChatKey | null): number {
    const now = this.now();
    const chatBan = chatId === null ? 0 : (this.chats.get(String(chatId))?.bannedUntil ?? 0);
    const until = Math.max(chatBan, this.botBannedUntil);
    return until > now ? until : 0;
  }

  /**
   * A message sent at `at` (ms), before this pacer existed (the previous run of the service). Telegram
   * still counts it: it takes its place in the group's minute window and what is left of its token.
   */
  recordPastSend(chatId: ChatKey, at: number): void {
    const now = this.now();
    if (!(at > now - GROUP_WINDOW_MS && at <= now)) return;
    const pace = this.pace(chatId, now);
    pace.tokens -= Math.max(0, 1 - ((now - at) / 1000) * this.limits.perChatPerSec);
    if (isGroupChat(chatId)) {
      pace.groupSends.push(at);
      pace.groupSends.sort((a, b) => a - b);
    }
  }

  recordOk(): void {
    this.lastOkAt = this.now();
  }

  /** A failed call: Telegram's error code, or 0 when the request did not get an answer. */
  recordError(code: number): void {
    this.lastErrorAt = this.now();
    this.lastErrorCode = code;
    this.metrics?.telegramErrors.inc({ code: String(code) });
  }

  /**
   * How long `n` single messages to this chat would take at its pace from now (bans, burst, per-chat
   * rate and the group minute window included; other chats' use of the bot-wide limit is not).
   */
  estimateDrainMs(chatId: ChatKey, kind: string | undefined, n: number): number {
    if (n <= 0) return 0;
    const now = this.now();
    const pace = this.pace(chatId, now);
    const { perChatPerSec, perChatBurst, perGroupPerMin } = this.limits;
    const group = isGroupChat(chatId, kind);
    // Replays acquire() on a copy of the chat's state: a token per send and, in a group, a free slot
    // in the minute window; times rounded up to whole milliseconds as with a real clock.
    const window = group ? [...pace.groupSends] : [];
    let tokens = pace.tokens;
    let tokensAt = now;
    let t = Math.ceil(Math.max(now, pace.bannedUntil, this.botBannedUntil));
    for (let i = 0; i < n; i++) {
      for (;;) {
        tokens = Math.min(perChatBurst, tokens + (Math.max(0, t - tokensAt) / 1000) * perChatPerSec);
        tokensAt = t;
        let at = t;
        if (tokens < 1) at = t + ((1 - tokens) / perChatPerSec) * 1000;
        if (group && window.length >= perGroupPerMin) {
          at = Math.max(at, window[window.length - perGroupPerMin]! + GROUP_WINDOW_MS);
        }
        at = Math.ceil(at);
        if (at <= t) break;
        t = at;
      }
      tokens -= 1;
      if (group) window.push(t);
      // Beyond a day the exact figure no longer matters to anyone; keep the work bounded.
      if (t - now > 86_400_000) return t - now + ((n - i - 1) * 1000) / perChatPerSec;
    }
    return t - now;
  }

  health(): PacerHealth {
    const now = this.now();
    let bannedChats = 0;
    for (const pace of this.chats.values()) if (pace.bannedUntil > now) bannedChats++;
    return {
      lastOkAt: this.lastOkAt,
      lastErrorAt: this.lastErrorAt,
      lastErrorCode: this.lastErrorCode,
      bannedUntil: this.botBannedUntil > now ? this.botBannedUntil : null,
      bannedChats,
    };
  }
}

/** Methods that put or change a message in a chat: Telegram counts them against the flood limits. */
const PACED_METHODS = new Set([
  "sendMessage",
  "sendPhoto",
  "sendAudio",
  "sendDocument",
  "sendVideo",
  "sendAnimation",
  "sendVoice",
  "sendVideoNote",
  "sendMediaGroup",
  "sendLocation",
  "sendVenue",
  "sendContact",
  "sendPoll",
  "sendDice",
  "sendSticker",
  "sendInvoice",
  "sendPaidMedia",
  "forwardMessage",
  "forwardMessages",
  "copyMessage",
  "copyMessages",
  "editMessageText",
  "editMessageCaption",
  "editMessageMedia",
  "editMessageReplyMarkup",
  "editMessageLiveLocation",
  "stopMessageLiveLocation",
  "stopPoll",
  "deleteMessage",
  "deleteMessages",
]);

export function isPacedMethod(method: string): boolean {
  return PACED_METHODS.has(method);
}

function chatOf(payload: unknown): ChatKey | null {
  if (typeof payload !== "object" || payload === null) return null;
  const chatId = (payload as { chat_id?: unknown }).chat_id;
  return typeof chatId === "number" || typeof chatId === "string" ? chatId : null;
}

/**
 * A grammY API transformer: paced methods wait for the pacer before they are sent, a 429 starts a
 * ban in the pacer, and every answer (of any method) updates the pacer's health record.
 * It does not retry: the caller decides what a failure means (delivery retries after the ban).
 */
export function pacingTransformer(pacer: Pacer): Transformer {
  return async (prev, method, payload, signal) => {
    const paced = isPacedMethod(method);
    const chatId = paced ? chatOf(payload) : null;
    let settle: (() => void) | undefined;
    if (paced) {
      // grammY types the signal with its own shim; at run time it is the platform AbortSignal.
      const platformSignal = signal as AbortSignal | undefined;
      callWaitsInPacer(platformSignal);
      settle = await pacer.begin(chatId, platformSignal);
      callLeavesPacer(platformSignal);
    }
    let response: Awaited<ReturnType<typeof prev>>;
    try {
      response = await prev(method, payload, signal);
    } catch (error) {
      settle?.();
      pacer.recordError(0);
      throw error;
    }
    settle?.();
    if (response.ok) {
      pacer.recordOk();
    } else {
      pacer.recordError(response.error_code);
      const retryAfter = response.parameters?.retry_after;
      if (response.error_code === 429 && paced) pacer.recordRetryAfter(chatId, retryAfter ?? 1);
    }
    return response;
  };
}
