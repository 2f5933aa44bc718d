// How a fresh read of an incident combines with what the store holds. MP SIEM answers reads from its
// read model, which may show a status change only some seconds after the transition returned 204.
// So a change made through the bot is stored at once, marked pending, and a read that still shows the
// status before it is the read model lagging: it must not take the copies back to New or erase who
// acted. A read confirms the change, or supersedes it when it shows a later change (someone else in the
// SIEM UI), or, when the read model still disagrees long after, the SIEM's word wins.
import { SIEM_ACTOR } from "../render/index.js";
import type { ActionLine, Reconcile, StatusDecision } from "../store/index.js";

/** How long a read may lag behind a change made through the bot before the SIEM's word wins. */
export const READ_MODEL_LAG_TOLERANCE_MS = 5 * 60_000;

/**
 * The SIEM's Date header has whole seconds; our own change shows a modification time inside the
 * second the header names. Only a modification after that second is someone else's later change.
 */
const DATE_HEADER_RESOLUTION_MS = 1_000;

export function reconcileRead(nowMs: number, toleranceMs = READ_MODEL_LAG_TOLERANCE_MS): Reconcile {
  return (current, read): StatusDecision => {
    const own = current.lastAction?.pending ? current.lastAction : null;
    if (read.status === current.status) {
      // Confirmed: the read model has caught up with our change (shown the same, no longer pending).
      if (own) return { status: read.status, lastAction: confirmed(own) };
      return { status: read.status };
    }
    if (own && own.status === current.status) {
      const laterChange =
        read.modified !== null &&
        own.siemAt != null &&
        read.modified.getTime() >= own.siemAt.getTime() + DATE_HEADER_RESOLUTION_MS;
      const waitedLongEnough = nowMs - own.at.getTime() > toleranceMs;
      if (!laterChange && !waitedLongEnough) return { status: current.status };
    }
    return {
      status: read.status,
      lastAction: { status: read.status, by: SIEM_ACTOR, at: read.modified ?? new Date(nowMs) },
    };
  };
}

function confirmed(action: ActionLine): ActionLine {
  const { pending: _pending, ...rest } = action;
  return rest;
}
