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
