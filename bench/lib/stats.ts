// Percentiles and the lower bound Telegram's flood limits put on delivering a number of messages.
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from "../../src/botapi-fake/rate-limits.js";

/** Telegram's published limits, as the fake Bot API enforces them (the service's pacer keeps a little under). */
export const TELEGRAM_LIMITS: RateLimitSettings = { ...DEFAULT_RATE_LIMITS };

/** The p-th percentile (0–100) by linear interpolation between the closest ranks; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low]!;
  return lowValue + (sorted[high]! - lowValue) * (rank - low);
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    mean: values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length,
  };
}

export interface ChatLoad {
  /** Groups, supergroups and channels also have the per-minute limit. */
  group: boolean;
  messages: number;
}

/** One send of the fastest schedule: which chat (index into the loads) and when (ms from t = 0). */
export interface ScheduledSend {
  chat: number;
  at: number;
}

/**
 * The fastest schedule in which every chat receives its messages under Telegram's limits, all chats
 * starting with a full allowance at t = 0 and nothing else sent meanwhile:
 *   - per chat: a bucket of `perChatBurst` messages refilled at `perChatPerSec`;
 *   - per group: at most `perGroupPerMin` messages in any 60 s;
 *   - per bot: at most `perBotPerSec` messages in any 1 s.
 * Each step sends the message that may go earliest (greedy), which is optimal here: the chats' own
 * limits do not interact, and the bot-wide one only hands out the earliest free slot.
 */
export function fastestSchedule(chats: readonly ChatLoad[], limits = TELEGRAM_LIMITS): ScheduledSend[] {
  interface State {
    index: number;
    group: boolean;
    remaining: number;
    tokens: number;
    tokensAt: number;
    groupSends: number[];
  }
  const states: State[] = chats.map((c, index) => ({
    index,
    group: c.group,
    remaining: c.messages,
    tokens: limits.perChatBurst,
    tokensAt: 0,
    groupSends: [],
  }));
  const botSends: number[] = [];
  const perChatMs = 1000 / limits.perChatPerSec;
  const schedule: ScheduledSend[] = [];
  const earliest = (s: State): number => {
    let at = s.tokens >= 1 ? s.tokensAt : s.tokensAt + (1 - s.tokens) * perChatMs;
    if (s.group && s.groupSends.length >= limits.perGroupPerMin) {
      at = Math.max(at, s.groupSends[s.groupSends.length - limits.perGroupPerMin]! + 60_000);
    }
    if (botSends.length >= limits.perBotPerSec) {
      at = Math.max(at, botSends[botSends.length - limits.perBotPerSec]! + 1000);
    }
    return at;
  };
  for (;;) {
    let best: State | undefined;
    let bestAt = Number.POSITIVE_INFINITY;
    for (const s of states) {
      if (s.remaining <= 0) continue;
      const at = earliest(s);
      if (at < bestAt) {
        bestAt = at;
        best = s;
      }
    }
    if (best === undefined) return schedule;
    best.tokens = Math.min(
      limits.perChatBurst,
      best.tokens + ((bestAt - best.tokensAt) / 1000) * limits.perChatPerSec,
    );
    best.tokensAt = bestAt;
    best.tokens -= 1;
    best.remaining -= 1;
    if (best.group) best.groupSends.push(bestAt);
    botSends.push(bestAt);
    schedule.push({ chat: best.index, at: bestAt });
  }
}

/**
 * The lower bound (seconds) Telegram's limits put on delivering these messages: the time of the last
 * send of the fastest schedule, so messages that fit in the first burst allowance cost 0 s.
 */
export function fastestDeliverySeconds(chats: readonly ChatLoad[], limits = TELEGRAM_LIMITS): number {
  return fastestSchedule(chats, limits).reduce((last, send) => Math.max(last, send.at), 0) / 1000;
}

/** Messages needed to show `incidents` when one message holds at most `perMessage` of them. */
export function messagesNeeded(incidents: number, perMessage: number): number {
  return perMessage <= 0 ? incidents : Math.ceil(incidents / perMessage);
}
