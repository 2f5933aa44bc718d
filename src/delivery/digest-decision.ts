// Whether a chat's next new message is one incident or a digest of its backlog, and what one digest holds.
import { type DigestMessage, renderDigestPage } from "../render/index.js";
import type { RenderOptions } from "../render/types.js";
import { type PendingDelivery, SEVERITY_RANK, type StoredIncident } from "../store/index.js";
import { storedSummary } from "./view.js";

export type NextSend = { kind: "single"; row: PendingDelivery } | { kind: "digest"; rows: PendingDelivery[] };

/** A High incident is never put in a digest (design.md §3): it always gets a message of its own. */
export function digestible(row: PendingDelivery): boolean {
  return row.rank !== SEVERITY_RANK.High;
}

/**
 * The chat's next new message. `rows` are the chat's own pending rows in lane order (rank, then id;
 * the first is due), so a High row, always first while there is one, goes out alone ahead of the rest.
 * The backlog goes out as digests when sending it one by one would take longer than
 * `digestThresholdMs` at the chat's pace (`drainMs`), and — once a digest has gone out (`flooding`) —
 * until it is sent, so that the tail of a flood is packed too instead of trickling out one by one.
 * A digest is offered every due row from the head on that goes to the head's topic; it takes as many
 * as fit (fitDigest). A last lone row goes out as a card of its own: one message either way.
 */
export function chooseNextSend(
  rows: readonly PendingDelivery[],
  asOf: number,
  drainMs: number,
  opts: { digestThresholdMs: number; flooding: boolean },
): NextSend {
  const head = rows[0]!;
  if (!digestible(head)) return { kind: "single", row: head };
  const offered: PendingDelivery[] = [];
  for (const row of rows) {
    // In lane order: a row waiting for its retry holds back the ones behind it, as a single send would.
    if (row.nextAttemptAt > asOf) break;
    if (digestible(row) && row.threadId === head.threadId) offered.push(row);
  }
  if (offered.length > 1 && (opts.flooding || drainMs > opts.digestThresholdMs)) {
    return { kind: "digest", rows: offered };
  }
  return { kind: "single", row: head };
}

/**
 * One digest message holding as many of these incidents (in order) as fit in Telegram's 4096, with a
 * header that counts what it holds ("57 new incidents", not "200 … (1/4)"). Silent (🔕 in the header)
 * when `silent(included)` says so of the incidents it ends up holding. Undefined for no incidents.
 */
export function fitDigest(
  incidents: readonly StoredIncident[],
  options: RenderOptions,
  silent: (included: readonly string[]) => boolean = () => false,
): (DigestMessage & { silent: boolean }) | undefined {
  const summaries = incidents.map(storedSummary);
  const loud = renderDigestPage(summaries, options);
  if (loud === undefined || !silent(loud.included)) return loud && { ...loud, silent: false };
  // Every incident it holds goes silently: the header says so, which may leave room for one line less.
  const quiet = renderDigestPage(summaries.slice(0, loud.included.length), options, { silent: true });
  return quiet && { ...quiet, silent: true };
}
