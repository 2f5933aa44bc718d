// Details and first events of new incidents. A few new incidents are read before they are queued, so
// their first message is complete; a burst is queued at once (it goes out as digests) and the incidents
// that will get single messages are read afterwards, a few per poll, which edits those messages. A read
// never holds a poll for long, and one unreadable incident never holds back the others.
import type { IncidentSummary } from "../siem/types.js";
import type { IncidentRead } from "../store/index.js";
import { type FailedReads, isSiemWide } from "./failures.js";
import type { IncidentReader } from "./reader.js";

/** New incidents read before they are queued; a larger batch is queued at once. */
export const READ_BEFORE_QUEUE_MAX = 20;
/** Reads at once, and the time all of them together may take before the poll queues what it has. */
const READ_CONCURRENCY = 4;
export const READ_BEFORE_QUEUE_BUDGET_MS = 5_000;
/** Incidents read afterwards, per poll. */
export const LATE_READS_PER_POLL = 10;

export interface EnrichmentReport {
  /** Incidents whose read failed for the first time (to be reported once). */
  newlyFailing: Array<{ id: string; reason: string }>;
  /** The SIEM as a whole failed: the poll should back off. */
  siemFailed: unknown | null;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads the new incidents of a small batch, at most READ_CONCURRENCY at a time, within the budget. */
export async function readBeforeQueue(
  unseen: IncidentSummary[],
  reader: IncidentReader,
  failures: FailedReads,
  now: () => number,
  budgetMs = READ_BEFORE_QUEUE_BUDGET_MS,
): Promise<{ reads: Map<string, IncidentRead> } & EnrichmentReport> {
  const reads = new Map<string, IncidentRead>();
  const report: EnrichmentReport = { newlyFailing: [], siemFailed: null };
  if (unseen.length === 0 || unseen.length > READ_BEFORE_QUEUE_MAX) return { reads, ...report };
  const deadline = now() + budgetMs;
  const queue = [...unseen];
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), budgetMs);
  });
  const worker = async () => {
    for (;;) {
      const next = queue.shift();
      if (next === undefined || report.siemFailed !== null || now() >= deadline) return;
      try {
        const read = await Promise.race([reader.read(next.id), outOfTime]);
        if (read === "timeout") return; // queued without details; read again later
        reads.set(next.id, read);
        failures.succeeded(next.id);
      } catch (error) {
        if (isSiemWide(error)) report.siemFailed = error;
        else if (failures.failed(next.id, reasonOf(error), now()))
          report.newlyFailing.push({ id: next.id, reason: reasonOf(error) });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, unseen.length) }, worker));
  } finally {
    clearTimeout(timer);
  }
  return { reads, ...report };
}

/** Reads up to `limit` stored incidents that were queued without details (newest first). */
export async function readLate(
  ids: string[],
  reader: IncidentReader,
  failures: FailedReads,
  now: () => number,
  limit = LATE_READS_PER_POLL,
): Promise<{ changed: number } & EnrichmentReport> {
  const report: EnrichmentReport = { newlyFailing: [], siemFailed: null };
  let changed = 0;
  let done = 0;
  for (const id of ids) {
    if (done >= limit) break;
    if (!failures.due(id, now())) continue;
    done++;
    try {
      const result = await reader.reread(id);
      failures.succeeded(id);
      if (result?.changed) changed++;
    } catch (error) {
      if (isSiemWide(error)) {
        report.siemFailed = error;
        break;
      }
      if (failures.failed(id, reasonOf(error), now()))
        report.newlyFailing.push({ id, reason: reasonOf(error) });
    }
  }
  return { changed, ...report };
}
