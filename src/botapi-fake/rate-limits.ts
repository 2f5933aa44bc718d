// Telegram's flood control as the Bots FAQ describes it: ~1 message/s per chat (short bursts
// tolerated), ~20/min per group, ~30/s per bot. Over a limit the fake answers 429 and remembers a
// ban window, so a request arriving inside it proves the sender ignored `retry_after`.

export interface RateLimitSettings {
  perChatPerSec: number;
  perChatBurst: number;
  perGroupPerMin: number;
  perBotPerSec: number;
  /** When set, every 429 carries this retry_after instead of the computed wait. */
  retryAfterSec?: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perChatPerSec: 1,
  perChatBurst: 3,
  perGroupPerMin: 20,
  perBotPerSec: 30,
};

export type RateDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSec: number; scope: "chat" | "group" | "bot" };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const GROUP_WINDOW_MS = 60_000;
const BOT_WINDOW_MS = 1_000;

export class RateLimiter {
  private readonly buckets = new Map<number, Bucket>();
  private readonly groupSends = new Map<number, number[]>();
  private botSends: number[] = [];
  private readonly chatBans = new Map<number, number>();
  private botBanUntil = 0;

  constructor(private readonly settings: RateLimitSettings | null) {}

  /** Milliseconds left of a ban covering this chat (its own or bot-wide); 0 when none. */
  banRemainingMs(chatId: number, now: number): number {
    const chatUntil = this.chatBans.get(chatId) ?? 0;
    return Math.max(0, chatUntil - now, this.botBanUntil - now);
  }

  /** Starts (or lengthens) a ban for one chat, e.g. after an injected 429. */
  banChat(chatId: number, untilMs: number): void {
    this.chatBans.set(chatId, Math.max(this.chatBans.get(chatId) ?? 0, untilMs));
  }

  /**
   * Decides whether one more counted request to `chatId` fits. Allowed requests consume capacity;
   * a refused one consumes nothing and starts a ban window for the chat (and the bot, if the bot
   * limit was the one hit).
   */
  take(chatId: number, now: number): RateDecision {
    const s = this.settings;
    if (s === null) return { allowed: true };

    const bucket = this.refill(chatId, now, s);
    this.botSends = this.botSends.filter((t) => t > now - BOT_WINDOW_MS);
    const isGroup = chatId < 0;
    const groupSends = isGroup
      ? (this.groupSends.get(chatId) ?? []).filter((t) => t > now - GROUP_WINDOW_MS)
      : [];
    if (isGroup) this.groupSends.set(chatId, groupSends);

    let refusal: { waitMs: number; scope: "chat" | "group" | "bot" } | null = null;
    if (this.botSends.length >= s.perBotPerSec) {
      refusal = { waitMs: this.botSends[0]! + BOT_WINDOW_MS - now, scope: "bot" };
    } else if (isGroup && groupSends.length >= s.perGroupPerMin) {
      refusal = { waitMs: groupSends[0]! + GROUP_WINDOW_MS - now, scope: "group" };
    } else if (bucket.tokens < 1) {
      refusal = { waitMs: ((1 - bucket.tokens) / s.perChatPerSec) * 1000, scope: "chat" };
    }
    if (refusal !== null) {
      const retryAfterSec = s.retryAfterSec ?? Math.max(1, Math.ceil(refusal.waitMs / 1000));
      const until = now + retryAfterSec * 1000;
      this.banChat(chatId, until);
      if (refusal.scope === "bot") this.botBanUntil = Math.max(this.botBanUntil, until);
      return { allowed: false, retryAfterSec, scope: refusal.scope };
    }
    bucket.tokens -= 1;
    this.botSends.push(now);
    if (isGroup) groupSends.push(now);
    return { allowed: true };
  }

  private refill(chatId: number, now: number, s: RateLimitSettings): Bucket {
    let bucket = this.buckets.get(chatId);
    if (bucket === undefined) {
      bucket = { tokens: s.perChatBurst, updatedAt: now };
      this.buckets.set(chatId, bucket);
    }
    const elapsedSec = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(s.perChatBurst, bucket.tokens + elapsedSec * s.perChatPerSec);
    bucket.updatedAt = now;
    return bucket;
  }
}
