// A wait that a stop cuts short: it resolves early when the signal aborts, and the caller looks at the
// signal itself. node:timers/promises removes its listener either way, so a long-lived signal gathers none.
import { setTimeout as delay } from "node:timers/promises";

export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined).catch(() => undefined);
}
