// Everything a request to receive incidents makes the bot send (the notices to the admins, the answers
// in the asking chat) shares a small budget of its own, on top of the shared Telegram pacer: a flood of
// strangers adding the bot to groups can then take at most a fixed share of the bot-wide limit, and the
// incidents keep the rest. The pacer has no priorities; this budget is what keeps requests behind.
import { abortableSleep } from "../delivery/pacer.js";

/** Sends per second for request traffic, and how many may go at once: 2/s of the pacer's 25/s. */
export const REQUEST_SENDS_PER_SEC = 2;
export const REQUEST_SENDS_BURST = 4;

export class RequestStoppedError extends Error {
  override readonly name = "RequestStoppedError";
  constructor() {
    super("the bot is stopping: a request's message was not sent");
  }
}

export interface RequestPaceOptions {
  perSec?: number;
  burst?: number;
  /** How often a held message looks again whether its chat is free, and how long it is held at most. */
  recheckMs?: number;
  maxHoldMs?: number;
  /** Real time: this paces sends, it does not decide anything (tests move the bot's own clock freely). */
  now?: () => number;
  /** Waits `ms`; must reject when `signal` aborts (tests inject a virtual clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * A token bucket, first come first served: each send waits for its turn, at most `burst` at once. Messages
 * to a chat that also receives incidents (an admin's private chat) go one at a time through that chat's
 * lane, and only while no incident waits for the chat: the pacer gives a chat's turns to whoever asks
 * first, so without this a pile of notices would push the admin's incidents back.
 */
export class RequestPace {
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly recheckMs: number;
  private readonly maxHoldMs: number;
  private readonly now: () => number;
  private readonly sleepFn: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly lanes = new Map<number, Promise<unknown>>();
  /** When the bucket would be empty again if nobody took more: the next free turn is burst intervals before. */
  private busyUntil = 0;
  private readonly stopping = new AbortController();

  constructor(opts: RequestPaceOptions = {}) {
    const perSec = opts.perSec ?? REQUEST_SENDS_PER_SEC;
    if (!(perSec > 0)) throw new Error(`request sends per second must be > 0, got ${perSec}`);
    this.intervalMs = 1000 / perSec;
    this.burst = Math.max(1, Math.floor(opts.burst ?? REQUEST_SENDS_BURST));
    this.recheckMs = Math.max(1, opts.recheckMs ?? 500);
    this.maxHoldMs = Math.max(0, opts.maxHoldMs ?? 5 * 60_000);
    this.now = opts.now ?? Date.now;
    this.sleepFn = opts.sleep ?? abortableSleep;
  }

  /**
   * Sends one message to `chatId` in that chat's lane: after the messages queued before it there, once
   * `busy()` (incidents waiting for the chat) is false or maxHoldMs has passed, and within the budget.
   * The lane stays taken until `send` has finished, so at most one such message waits in the pacer.
   */
  inLane<T>(chatId: number, busy: () => Promise<boolean>, send: () => Promise<T>): Promise<T> {
    const before = this.lanes.get(chatId) ?? Promise.resolve();
    const mine = before.then(async () => {
      const until = this.now() + this.maxHoldMs;
      while (this.now() < until && (await busy().catch(() => false))) await this.sleep(this.recheckMs);
      await this.take(1);
      return send();
    });
    const settled = mine.catch(() => undefined);
    this.lanes.set(chatId, settled);
    void settled.then(() => {
      if (this.lanes.get(chatId) === settled) this.lanes.delete(chatId);
    });
    return mine;
  }

  /** Waits for `sends` turns (one per message about to be sent). Rejects with RequestStoppedError on stop. */
  async take(sends = 1): Promise<void> {
    if (this.stopping.signal.aborted) throw new RequestStoppedError();
    const now = this.now();
    const start = Math.max(this.busyUntil, now);
    this.busyUntil = start + Math.max(1, sends) * this.intervalMs;
    const at = this.busyUntil - this.burst * this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }

  /** Every waiting send is refused, and so are later ones. */
  stop(): void {
    this.stopping.abort();
  }

  private async sleep(ms: number): Promise<void> {
    try {
      await this.sleepFn(ms, this.stopping.signal);
    } catch {
      throw new RequestStoppedError();
    }
    if (this.stopping.signal.aborted) throw new RequestStoppedError();
  }
}
