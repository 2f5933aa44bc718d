// How long the poller waits after failures: exponential with jitter up to a cap, so a SIEM that is
// down is not hammered and several bots restarting together do not retry in step.

import type { SiemErrorKind } from "../siem/types.js";

export interface BackoffPolicy {
  /** Delay after the first failure (before jitter). */
  baseMs: number;
  /** No delay is ever longer than this. */
  capMs: number;
}

/**
 * Failures that need a person (wrong password, untrusted certificate): retrying every few seconds
 * only fills the log and may lock the SIEM account, so these wait the full cap at once.
 */
const NEEDS_A_PERSON: ReadonlySet<SiemErrorKind | "other"> = new Set(["credentials", "tls", "forbidden"]);

/**
 * The delay before the next attempt after `failures` consecutive failures (≥ 1).
 * Half of it is fixed and half random, so it is never shorter than half the exponential step.
 */
export function backoffDelayMs(
  failures: number,
  kind: SiemErrorKind | "other",
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const steps = Math.max(0, Math.min(30, Math.floor(failures) - 1));
  const ceiling = NEEDS_A_PERSON.has(kind)
    ? policy.capMs
    : Math.min(policy.capMs, policy.baseMs * 2 ** steps);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
