// The signal each Telegram call carries: cut by the call's own timeout, or by cancelAll() when a
// stop has outlived its grace.
//
// Each call gets its own AbortController with a timer and a listener on the long-lived cancel
// signal, both removed when the call is over. AbortSignal.any would be shorter, but on Node 20 the
// long-lived source keeps every signal combined from it (nodejs/node#55351): one per call, forever.
//
// The timeout measures Telegram, not the queue: while the pacer holds a call (a burst to many chats
// can queue calls for the bot-wide 30 a second far longer than the timeout), its timer is off, and it
// starts afresh when the call leaves. Otherwise a call let go just before its deadline is cut while
// Telegram is taking it, and the message it sent is sent again.
import { setMaxListeners } from "node:events";

export class CallTimeoutError extends Error {
  override readonly name = "TimeoutError";
  constructor(ms: number) {
    super(`no answer from Telegram within ${ms} ms`);
  }
}

/** A call's timeout, as the pacer sees it: held while the call waits its turn, restarted when it goes. */
interface HeldTimeout {
  hold(): void;
  restart(): void;
}
const timeouts = new WeakMap<AbortSignal, HeldTimeout>();

/** The pacer holds this call (its timeout stops) until callLeavesPacer(). No-op for other signals. */
export function callWaitsInPacer(signal: AbortSignal | undefined): void {
  if (signal !== undefined) timeouts.get(signal)?.hold();
}

/** The call leaves the pacer for Telegram: its whole timeout starts now. */
export function callLeavesPacer(signal: AbortSignal | undefined): void {
  if (signal !== undefined) timeouts.get(signal)?.restart();
}

export class CallSignals {
  private readonly cancelled = new AbortController();

  constructor(private readonly timeoutMs: number) {
    // Every call in flight listens to it, and a burst has many in flight at once (each removes its own).
    setMaxListeners(0, this.cancelled.signal);
  }

  /** The one long-lived signal every call listens to while it runs (exposed for tests). */
  get cancelSignal(): AbortSignal {
    return this.cancelled.signal;
  }

  /** Runs one call with its own signal; nothing stays attached to the cancel signal afterwards. */
  async run<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const cancel = this.cancelled.signal;
    const onCancel = () => controller.abort(cancel.reason);
    if (cancel.aborted) onCancel();
    else cancel.addEventListener("abort", onCancel, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const start = () => {
      timer = setTimeout(() => controller.abort(new CallTimeoutError(this.timeoutMs)), this.timeoutMs);
    };
    const stop = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    timeouts.set(controller.signal, {
      hold: stop,
      restart: () => {
        stop();
        if (!controller.signal.aborted) start();
      },
    });
    start();
    try {
      return await call(controller.signal);
    } finally {
      stop();
      timeouts.delete(controller.signal);
      cancel.removeEventListener("abort", onCancel);
    }
  }

  /** Cuts every call in flight, and every later one at once. */
  cancelAll(reason: Error): void {
    if (!this.cancelled.signal.aborted) this.cancelled.abort(reason);
  }
}
