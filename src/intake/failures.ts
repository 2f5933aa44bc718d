// Incidents whose own read failed (a 500 or 403 for that incident alone, a body that does not parse,
// an id the SIEM no longer knows). One such incident must never fail a poll or hold back the others: it
// is retried on its own with backoff, and reported once, not every poll.
import { SiemError } from "../siem/types.js";

export interface FailedRead {
  attempts: number;
  nextAt: number;
  reason: string;
}

export interface IncidentRetryPolicy {
  baseMs: number;
  capMs: number;
}

/** Kinds that say the SIEM itself is unreachable, not that one incident is unreadable. */
const SIEM_WIDE: ReadonlySet<string> = new Set(["network", "timeout", "unauthorized", "credentials", "tls"]);

/** True when a failed read of one incident means the SIEM as a whole is failing right now. */
export function isSiemWide(error: unknown): boolean {
  return error instanceof SiemError && SIEM_WIDE.has(error.kind);
}

/** Most incidents tracked at once; beyond it the oldest entry is forgotten (its next read starts over). */
const TRACKED_LIMIT = 5_000;

export class FailedReads {
  private readonly entries = new Map<string, FailedRead>();

  constructor(private readonly policy: IncidentRetryPolicy) {}

  /** May this incident be read now? */
  due(id: string, now: number): boolean {
    const entry = this.entries.get(id);
    return entry === undefined || entry.nextAt <= now;
  }

  /** Records a failure; true the first time (report it), false on repeats. */
  failed(id: string, reason: string, now: number): boolean {
    const entry = this.entries.get(id);
    const attempts = (entry?.attempts ?? 0) + 1;
    const delay = Math.min(this.policy.capMs, this.policy.baseMs * 2 ** Math.min(attempts - 1, 20));
    this.entries.delete(id); // re-inserted last: Map order is oldest failure first
    this.entries.set(id, { attempts, nextAt: now + delay, reason });
    while (this.entries.size > TRACKED_LIMIT) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return entry === undefined;
  }

  /** A successful read; true when the incident had been failing (worth a line in the log). */
  succeeded(id: string): boolean {
    return this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Incidents failing now, with their attempts and reason (for /debug). */
  list(): Array<[string, FailedRead]> {
    return [...this.entries];
  }
}
