// Who leads: the lease on PostgreSQL (postgres-lease.ts), the one process on SQLite (solo.ts), and the
// leader's work run per term (terms.ts). See types.ts.
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { InstanceHeartbeat, Store } from "../store/index.js";
import { PostgresLease } from "./postgres-lease.js";
import { SoloLeadership } from "./solo.js";
import type { Leadership, LeadershipEvents, LeaseMetrics, Role } from "./types.js";

export { DEFAULT_LOCK_KEY, PostgresLease, type PostgresLeaseOptions } from "./postgres-lease.js";
export { SoloLeadership } from "./solo.js";
export { type RunningTerm, TermRunner } from "./terms.js";
export {
  actingMarginMs,
  CHECKS_PER_TTL,
  type Leadership,
  type LeadershipEvents,
  type LeadershipStatus,
  type LeaseMetrics,
  type Role,
  type Term,
} from "./types.js";

/** BOT_INSTANCE_NAME, or this host and process. */
export function defaultInstanceName(): string {
  return `${hostname()}-${process.pid}`;
}

export interface LeadershipOptions {
  store: Store;
  /** BOT_DB_URL when on PostgreSQL. */
  dbUrl?: string;
  instance: string;
  ttlMs: number;
  events: LeadershipEvents;
  metrics: LeaseMetrics;
  logger: Logger;
  now?: () => number;
}

/** The lease on PostgreSQL; on SQLite the process simply leads. */
export function createLeadership(opts: LeadershipOptions): Leadership {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const beat = (role: Role, epoch: number | null): InstanceHeartbeat => ({
    name: opts.instance,
    role,
    host: hostname(),
    pid: process.pid,
    startedAt,
    heartbeatAt: now(),
    epoch,
  });
  if (opts.store.dialect === "postgres" && opts.dbUrl) {
    return new PostgresLease({
      url: opts.dbUrl,
      instance: opts.instance,
      ttlMs: opts.ttlMs,
      events: opts.events,
      metrics: opts.metrics,
      logger: opts.logger,
      now,
      heartbeat: (role, epoch) => opts.store.lease.heartbeat(beat(role, epoch)),
    });
  }
  return new SoloLeadership({
    store: opts.store,
    instance: opts.instance,
    ttlMs: opts.ttlMs,
    events: opts.events,
    metrics: opts.metrics,
    logger: opts.logger,
    heartbeat: beat,
    now,
  });
}
