// Events added to an incident without any other change: MP SIEM's correlation may append events while
// the incident's modification time (and so the lastModification list) stays the same. The only cheap
// signal is the event count (GET /api/incidents/{id}/events/count, one small request), so the poller
// checks the counts of open incidents in turn, within a fixed budget of requests per minute, whatever
// the number of incidents. Only incidents with a message of their own count: digest lines show no events.
import type { SiemClient } from "../siem/types.js";
import type { Store } from "../store/index.js";
import { type FailedReads, isSiemWide } from "./failures.js";

/** Event-count requests per minute: with 30 open incidents, each is checked about once a minute. */
export const EVENT_CHECKS_PER_MINUTE = 30;

export class EventCountWatch {
  /** Where the round of open incidents goes on from: the last id checked. */
  private after = "";
  /** Requests that may be spent now (a bucket refilled at the per-minute rate, holding one minute's worth). */
  private tokens: number;
  private refilledAt: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly siem: SiemClient,
    private readonly perMinute = EVENT_CHECKS_PER_MINUTE,
  ) {
    this.tokens = 0;
  }

  private spendable(now: number): number {
    if (this.refilledAt === null) this.refilledAt = now;
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.refilledAt) * this.perMinute) / 60_000);
    this.refilledAt = now;
    return Math.floor(this.tokens);
  }

  /**
   * Checks the next few open incidents first seen since `since`; returns the ids whose event count
   * differs from the stored one. A failure of one incident is recorded in `failures`; a failure of the
   * SIEM as a whole ends this round early (the poll itself notices the outage).
   */
  async changed(since: number, failures: FailedReads, now: number): Promise<string[]> {
    const budget = this.spendable(now);
    if (budget === 0) return [];
    let rows = await this.store.incidents.openAfter(since, this.after, budget);
    if (rows.length < budget && this.after !== "") {
      // End of the round: start again from the first open incident.
      const seen = new Set(rows.map((r) => r.id));
      const again = await this.store.incidents.openAfter(since, "", budget - rows.length);
      rows = [...rows, ...again.filter((r) => !seen.has(r.id))];
    }
    const out: string[] = [];
    for (const row of rows) {
      this.after = row.id;
      // Never read yet: the enrichment reads it whole anyway.
      if (!row.enriched || !failures.due(row.id, now)) continue;
      this.tokens -= 1;
      try {
        const count = await this.siem.countEvents(row.id);
        if (count !== row.totalEvents) out.push(row.id);
      } catch (error) {
        if (isSiemWide(error)) break;
        failures.failed(row.id, error instanceof Error ? error.message : String(error), now);
      }
    }
    return out;
  }
}
