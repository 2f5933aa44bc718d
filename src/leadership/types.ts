// Who leads. Any number of `run` processes may share one PostgreSQL database; one of them leads: only
// it polls the SIEM, polls Telegram for updates and sends. The others stand by, hot, and one of them
// takes over within BOT_LEASE_TTL when the leader is gone. On SQLite the one process always leads.

export type Role = "leader" | "standby";

/** One stretch of leadership: from an acquisition of the lease to its loss. */
export interface Term {
  /** The lease's epoch for this term; the leader's writes are fenced on it (store/fence.ts). */
  epoch: number;
  /** Who held the lease before (this instance's own name after a restart), or null on the first lease ever. */
  previousHolder: string | null;
}

export interface LeadershipEvents {
  /** This instance leads from now on (acting() is already true). */
  onAcquired(term: Term): void;
  /** This instance no longer leads (acting() is already false): stop the leader's parts now. */
  onLost(reason: string): void;
}

export interface LeadershipStatus {
  role: Role;
  /** How the lease is kept: a PostgreSQL lease, or the single SQLite process. */
  backend: "postgres" | "sqlite";
  instance: string;
  epoch: number | null;
  /** Local time (ms) this instance became the leader, while it leads. */
  leaderSince: number | null;
  /** Local time (ms) of the last successful renewal (leader) or look at the lease (standby). */
  lastCheckAt: number | null;
  /** The last failure of the lease's database work, if it has not succeeded since. */
  lastError: string | null;
  /** Problems an operator should see (/healthz reasons); empty while the lease works. */
  problems: string[];
}

export interface Leadership {
  readonly instance: string;
  /** Starts competing for the lease; resolves after the first attempt (a lone instance then leads). */
  start(): Promise<void>;
  /**
   * True while this process may act as the leader. Checked right before every call that only the leader
   * may make (a send, getUpdates): a leader that could not renew in time is already false here, before its
   * lease can pass to another instance.
   */
  acting(): boolean;
  status(): LeadershipStatus;
  /** Stops competing; gives the lease up when held, so a standby takes over at once. */
  stop(): Promise<void>;
}

/** The lease's figures on /metrics (a subset of http/metrics.ts). */
export interface LeaseMetrics {
  leader: { set(value: number): void };
  leaseRenewals: { inc(): void };
  leaseFailures: { inc(labels: { step: "renew" | "acquire" | "connection" }): void };
  takeovers: { inc(): void };
  leadershipLosses: { inc(labels: { reason: "connection" | "expired" | "taken" | "stopped" }): void };
}

/** The lease is renewed (and a standby looks at it) this many times per TTL. */
export const CHECKS_PER_TTL = 3;

/**
 * A leader stops acting this long before its lease could expire: room for its last renewal's trip to the
 * database and for the clocks' rates to differ a little. A fifth of the TTL, at least 200 ms.
 */
export function actingMarginMs(ttlMs: number): number {
  return Math.max(200, Math.round(ttlMs / 5));
}
