// Whether a chat's backlog goes out one message per incident or as digests, and what one digest holds.
import { type DigestMessage, renderDigest } from "../render/index.js";
import type { RenderOptions } from "../render/types.js";
import type { PendingDelivery, StoredIncident } from "../store/index.js";
import { storedSummary } from "./view.js";

export type NextSend = { kind: "single"; row: PendingDelivery } | { kind: "digest"; rows: PendingDelivery[] };

/**
 * The chat's oldest row alone, or — when its due backlog would take longer than `digestThresholdMs`
 * at the chat's pace (`drainMs`) — a digest offered its oldest due rows (at most `digestBatch`).
 * `rows` are the chat's pending rows, oldest first; the first is due.
 */
export function chooseNextSend(
  rows: readonly PendingDelivery[],
  asOf: number,
  drainMs: number,
  opts: { digestThresholdMs: number; digestBatch: number },
): NextSend {
  const due: PendingDelivery[] = [];
  for (const row of rows) {
    if (row.nextAttemptAt > asOf) break;
    due.push(row);
  }
  if (due.length > 1 && drainMs > opts.digestThresholdMs) {
    return { kind: "digest", rows: due.slice(0, opts.digestBatch) };
  }
  return { kind: "single", row: rows[0]! };
}

/**
 * One digest message holding as many of these incidents (in order) as fit, with a header that counts
 * what it holds ("57 new incidents", not "200 … (1/4)"). Undefined when not even one fits.
 */
export function fitDigest(
  incidents: readonly StoredIncident[],
  options: RenderOptions,
): DigestMessage | undefined {
  const summaries = incidents.map(storedSummary);
  // Render once to learn how many fit in one message, then again with only those.
  const firstFit = renderDigest(summaries, options)[0];
  const fitting = firstFit ? summaries.slice(0, Math.max(1, firstFit.included.length)) : [];
  const page = renderDigest(fitting, options)[0];
  return page !== undefined && page.included.length > 0 ? page : undefined;
}
