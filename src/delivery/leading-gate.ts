// The last check before a Telegram call that only the leader may make (a send, an edit, getUpdates):
// installed innermost on the Api, after the pacer's wait, so a call that waited out a pace or a
// retry_after is refused if the lease was lost meanwhile. A leader that can no longer renew stops
// sending here, before its lease could have passed to another instance.
import type { Transformer } from "grammy";

export class NotLeadingError extends Error {
  override readonly name = "NotLeadingError";
  constructor(readonly method: string) {
    super(`${method} not sent: this instance does not lead (any more)`);
  }
}

/** `applies`: which methods need the lead (default: all). */
export function leadingGate(
  acting: () => boolean,
  applies: (method: string) => boolean = () => true,
): Transformer {
  return async (prev, method, payload, signal) => {
    if (applies(method) && !acting()) throw new NotLeadingError(method);
    return prev(method, payload, signal);
  };
}
