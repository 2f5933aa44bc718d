// Per-person command budget, so one person flooding commands cannot slow the bot for everyone else.
// A sliding window: at most `limit` commands per `windowMs`; the first command over the limit is
// answered with one warning, the rest are dropped silently until the window frees up.

export type RateVerdict = "ok" | "warn" | "drop";

export interface CommandRateLimiterOptions {
  limit?: number;
  windowMs?: number;
  now?: () => number;
  /** People tracked at once; the least recently seen are forgotten first. */
  maxTracked?: number;
}

interface Budget {
  times: number[];
  warned: boolean;
}

export class CommandRateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxTracked: number;
  private readonly budgets = new Map<number, Budget>();

  constructor(opts: CommandRateLimiterOptions = {}) {
    this.limit = Math.max(1, opts.limit ?? 10);
    this.windowMs = Math.max(1, opts.windowMs ?? 10_000);
    this.now = opts.now ?? Date.now;
    this.maxTracked = Math.max(1, opts.maxTracked ?? 10_000);
  }

  check(userId: number): RateVerdict {
    const now = this.now();
    let budget = this.budgets.get(userId);
    if (budget) {
      this.budgets.delete(userId); // re-inserted below: Map order is then least recently seen first
    } else {
      budget = { times: [], warned: false };
    }
    this.budgets.set(userId, budget);
    this.forgetOldest();

    const since = now - this.windowMs;
    while (budget.times.length > 0 && budget.times[0]! <= since) budget.times.shift();
    if (budget.times.length < this.limit) {
      budget.times.push(now);
      budget.warned = false;
      return "ok";
    }
    if (budget.warned) return "drop";
    budget.warned = true;
    return "warn";
  }

  private forgetOldest(): void {
    while (this.budgets.size > this.maxTracked) {
      const oldest = this.budgets.keys().next().value;
      if (oldest === undefined) return;
      this.budgets.delete(oldest);
    }
  }
}

export interface Refusals {
  userId: number;
  /** Label of the person (for the audit), and the chat of the first refused press. */
  actorName: string;
  chatId: number | null;
  /** When the first refusal of this window happened, and how many there were. */
  since: number;
  count: number;
}

/**
 * Refused presses, counted per person and window, so a flood writes one audit row per person and window
 * (with the count) rather than one per press. A window opens with the first refusal and closes
 * `windowMs` later; closed windows are handed out by `takeClosed`, open ones too by `takeAll` (at stop).
 */
export class RefusalTally {
  private readonly windowMs: number;
  private readonly maxTracked: number;
  private readonly open = new Map<number, Refusals>();

  constructor(opts: { windowMs: number; maxTracked?: number }) {
    this.windowMs = Math.max(1, opts.windowMs);
    this.maxTracked = Math.max(1, opts.maxTracked ?? 10_000);
  }

  /** Counts one refusal; returns windows that had to be closed early to stay within maxTracked. */
  add(userId: number, actorName: string, chatId: number | null, now: number): Refusals[] {
    const current = this.open.get(userId);
    if (current) {
      current.count++;
      return [];
    }
    this.open.set(userId, { userId, actorName, chatId, since: now, count: 1 });
    const evicted: Refusals[] = [];
    for (const [key, oldest] of this.open) {
      if (this.open.size <= this.maxTracked) break;
      this.open.delete(key);
      evicted.push(oldest);
    }
    return evicted;
  }

  takeClosed(now: number): Refusals[] {
    const closed: Refusals[] = [];
    for (const [key, tally] of this.open) {
      if (now - tally.since < this.windowMs) continue;
      this.open.delete(key);
      closed.push(tally);
    }
    return closed;
  }

  takeAll(): Refusals[] {
    const all = [...this.open.values()];
    this.open.clear();
    return all;
  }
}
