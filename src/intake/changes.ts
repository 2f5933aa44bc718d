// Which incidents from a `lastModification` list are worth re-reading. A list item carries no
// modification time, so the decision uses what the item shows (status, name, severity…) and what the
// store already knows; every re-read costs three SIEM calls, so repeats within the overlap are avoided.

import type { IncidentSummary } from "../siem/types.js";
import type { StoredIncident } from "../store/index.js";

/** Fields a list item carries that a message shows: a difference means the message is out of date. */
function shownFieldsDiffer(item: IncidentSummary, stored: StoredIncident): boolean {
  return (
    item.status !== stored.status ||
    item.name !== stored.name ||
    item.severity !== stored.severity ||
    item.type !== stored.type ||
    (item.key !== "" && item.key !== stored.key)
  );
}

/**
 * True when the incident must be re-read (details + events):
 * - the list shows something different from the store (a status change in the SIEM UI, a rename), or
 * - the last modification we know of is older than the start of this window, so the item is listed
 *   because of a newer one (e.g. new events).
 * An item whose known modification (or creation, when none is known) is inside the window is listed
 * because of what we already have, and is left alone. `settledIds` are incidents re-read earlier whose
 * details carried no modification time: only a visible difference re-reads them.
 */
export function needsReread(
  item: IncidentSummary,
  stored: StoredIncident,
  windowStartMs: number,
  settledIds: ReadonlySet<string>,
): boolean {
  if (shownFieldsDiffer(item, stored)) return true;
  if (stored.modified) return stored.modified.getTime() < windowStartMs;
  if (settledIds.has(stored.id)) return false;
  return stored.created.getTime() < windowStartMs;
}
