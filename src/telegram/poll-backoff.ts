// Backoff for long polling. The runner's own retry doubles its wait without a cap and gives up for good
// after 15 hours, so a long Telegram outage (or a proxy that is down for a night) would leave the bot
// waiting an hour between tries, then deaf. The runner is told to retry at once and forever; this
// transformer on getUpdates waits first, capped, jittered, and cut short when the runner stops.
import type { Transformer } from "grammy";
import type { Logger } from "pino";
import { describeError } from "./notify.js";
import { pause } from "./pause.js";

export interface PollBackoffOptions {
  baseMs?: number;
  capMs?: number;
  logger?: Logger;
  /** Waits `ms` or until `signal` aborts (tests pass a fake). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Failed getUpdates calls in a row before the log says so again (the first one is always logged). */
const LOG_EVERY = 20;

export class PollBackoff {
  private failures = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: PollBackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 1_000;
    this.capMs = opts.capMs ?? 30_000;
    this.sleep = opts.sleep ?? pause;
    this.random = opts.random ?? Math.random;
  }

  /** The wait before the next getUpdates after `failures` failures in a row: half fixed, half random. */
  delayMs(failures = this.failures): number {
    if (failures <= 0) return 0;
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  readonly transformer: Transformer = async (prev, method, payload, signal) => {
    if (method !== "getUpdates") return prev(method, payload, signal);
    // grammY types its signal with an AbortController shim; at run time it is the platform's AbortSignal.
    if (this.failures > 0) await this.sleep(this.delayMs(), signal as AbortSignal | undefined);
    try {
      const result = await prev(method, payload, signal);
      // An error answer (5xx, 409…) comes back as a result here; grammY throws it later.
      if (result.ok) this.succeeded();
      else this.failed(`${result.error_code} ${result.description}`, signal);
      return result;
    } catch (error) {
      this.failed(describeError(error), signal);
      throw error;
    }
  };

  private succeeded(): void {
    if (this.failures > 0)
      this.opts.logger?.info({ failures: this.failures }, "Telegram polling works again");
    this.failures = 0;
  }

  private failed(reason: string, signal: unknown): void {
    if ((signal as AbortSignal | undefined)?.aborted) return;
    this.failures++;
    if (this.failures === 1 || this.failures % LOG_EVERY === 0) {
      this.opts.logger?.warn(
        { err: reason, failures: this.failures, retryInMs: this.delayMs() },
        "polling Telegram for updates failed; retrying with backoff",
      );
    }
  }
}
