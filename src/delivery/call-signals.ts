// The signal each Telegram call carries: cut by the call's own timeout, or by cancelAll() when a
// stop has outlived its grace.
//
// Each call gets its own AbortController with a timer and a listener on the long-lived cancel
// signal, both removed when the call is over. AbortSignal.any would be shorter, but on Node 20 the
// long-lived source keeps every signal combined from it (nodejs/node#55351): one per call, forever.

export class CallTimeoutError extends Error {
  override readonly name = "TimeoutError";
  constructor(ms: number) {
    super(`no answer from Telegram within ${ms} ms`);
  }
}

export class CallSignals {
  private readonly cancelled = new AbortController();

  constructor(private readonly timeoutMs: number) {}

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
    const timer = setTimeout(() => controller.abort(new CallTimeoutError(this.timeoutMs)), this.timeoutMs);
    try {
      return await call(controller.signal);
    } finally {
      clearTimeout(timer);
      cancel.removeEventListener("abort", onCancel);
    }
  }

  /** Cuts every call in flight, and every later one at once. */
  cancelAll(reason: Error): void {
    if (!this.cancelled.signal.aborted) this.cancelled.abort(reason);
  }
}
