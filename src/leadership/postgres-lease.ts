// The leader lease on PostgreSQL, kept over a connection of its own (pg.Client, never a pooled one: a
// session's advisory lock belongs to that session). Two things together:
//   - a session advisory lock: the server releases it the moment the holder's session ends (kill -9,
//     pg_terminate_backend, a server restart), so a standby can take over at once;
//   - a lease row (holder, epoch, expires_at by the DATABASE's clock, the holder's backend pid): the
//     epoch grows at every acquisition and fences the leader's writes (store/fence.ts); the expiry lets a
//     standby take over from a holder whose session lingers (a network split, a frozen process): it ends
//     that session with pg_terminate_backend() to free the lock.
// The leader renews every TTL/3 and stops acting when its last successful renewal was SENT more than
// TTL − margin ago (local monotonic clock), or at once when its lease connection fails: it never acts
// past a moment at which another instance could hold the lease. A standby takes over only with the
// advisory lock, and only when the row has expired or the holder's backend is gone (so PgBouncer in
// transaction mode, which breaks session locks, can delay a takeover but never make two leaders).
import pg from "pg";
import type { Logger } from "pino";
import { LEASE_NAME } from "../store/index.js";
import {
  actingMarginMs,
  CHECKS_PER_TTL,
  type Leadership,
  type LeadershipEvents,
  type LeadershipStatus,
  type LeaseMetrics,
  type Role,
} from "./types.js";

export interface PostgresLeaseOptions {
  /** BOT_DB_URL. */
  url: string;
  /** This instance's name (BOT_INSTANCE_NAME), recorded as the holder. */
  instance: string;
  /** BOT_LEASE_TTL. */
  ttlMs: number;
  events: LeadershipEvents;
  metrics: LeaseMetrics;
  logger: Logger;
  /** Records this instance's heartbeat; never awaited by the lease's own work. */
  heartbeat: (role: Role, epoch: number | null) => Promise<void>;
  /** Monotonic ms (performance.now): the acting deadline must not move with the wall clock. */
  monotonic?: () => number;
  /** Wall clock (ms) for what status() shows. */
  now?: () => number;
  /** The advisory lock's two keys (tests may use their own). */
  lockKey?: readonly [number, number];
}

/** pg_try_advisory_lock(int4, int4): "mpsi", "emtg". One database holds one service's lease. */
export const DEFAULT_LOCK_KEY = [0x6d707369, 0x656d7467] as const;
/** The database's clock in ms: expiry is judged by one clock, whoever asks. */
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
/** A failure logged once, then every this many in a row. */
const LOG_EVERY = 10;

function describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? `${code} ${message}` : message;
}

export class PostgresLease implements Leadership {
  readonly instance: string;
  private readonly ttlMs: number;
  private readonly checkEveryMs: number;
  private readonly marginMs: number;
  private readonly monotonic: () => number;
  private readonly now: () => number;
  private readonly lockKey: readonly [number, number];
  private client: pg.Client | null = null;
  private lockHeld = false;
  private role: Role = "standby";
  private epoch: number | null = null;
  /** Monotonic time the last successful renewal (or the acquisition) was sent. */
  private renewedSentAt = Number.NEGATIVE_INFINITY;
  /** After losing the lease, this instance lets a standby go first until then (monotonic). */
  private contendAfter = Number.NEGATIVE_INFINITY;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private beating: Promise<void> | null = null;
  private stopped = false;
  private leaderSince: number | null = null;
  private lastCheckAt: number | null = null;
  private lastError: string | null = null;
  private failures = 0;

  constructor(private readonly opts: PostgresLeaseOptions) {
    this.instance = opts.instance;
    this.ttlMs = opts.ttlMs;
    this.checkEveryMs = Math.max(100, Math.round(opts.ttlMs / CHECKS_PER_TTL));
    this.marginMs = actingMarginMs(opts.ttlMs);
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.now = opts.now ?? Date.now;
    this.lockKey = opts.lockKey ?? DEFAULT_LOCK_KEY;
  }

  async start(): Promise<void> {
    await this.tick();
  }

  acting(): boolean {
    return this.role === "leader" && this.monotonic() < this.deadline();
  }

  status(): LeadershipStatus {
    const problems: string[] = [];
    const staleAfter = 3 * this.checkEveryMs;
    const now = this.now();
    if (this.lastCheckAt === null) {
      problems.push(
        `database: the leader lease has not been checked yet${this.lastError ? ` (${this.lastError})` : ""}`,
      );
    } else if (now - this.lastCheckAt > staleAfter) {
      problems.push(
        `database: the leader lease was last checked ${Math.round((now - this.lastCheckAt) / 1000)} s ago${this.lastError ? ` (${this.lastError})` : ""}`,
      );
    }
    return {
      role: this.acting() ? "leader" : "standby",
      backend: "postgres",
      instance: this.instance,
      epoch: this.epoch,
      leaderSince: this.role === "leader" ? this.leaderSince : null,
      lastCheckAt: this.lastCheckAt,
      lastError: this.lastError,
      problems,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.tickTimer);
    // A look under way finishes first (it may be taking the lease right now), within a second.
    await this.withinMs(this.ticking ?? Promise.resolve(), Math.min(this.checkEveryMs, 1_000));
    const client = this.client;
    if (this.role === "leader") {
      const epoch = this.epoch;
      this.stepDown("stopped");
      // Expired at once: a standby need not wait for the TTL (it still needs the lock, freed below).
      if (client && epoch !== null) {
        await this.withinMs(
          client.query("UPDATE leader_lease SET expires_at = 0 WHERE name = $1 AND epoch = $2", [
            LEASE_NAME,
            epoch,
          ]),
          1_000,
        );
      }
      this.opts.logger.info({ epoch }, "gave up the leader lease");
    }
    await this.withinMs(this.dropClient(), 1_000);
    await this.withinMs(this.beating ?? Promise.resolve(), 1_000);
  }

  // ---- the loop ----------------------------------------------------------------------------------

  private deadline(): number {
    return this.renewedSentAt + this.ttlMs - this.marginMs;
  }

  private tick(): Promise<void> {
    this.ticking ??= this.tickOnce().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    if (this.stopped) return;
    let next = this.checkEveryMs;
    const step = this.role === "leader" ? "renew" : "acquire";
    try {
      const client = await this.connect();
      if (this.role === "leader") await this.renew(client);
      else next = await this.contend(client);
      this.lastCheckAt = this.now();
      this.lastError = null;
      if (this.failures > 0)
        this.opts.logger.info({ failures: this.failures }, "the leader lease works again");
      this.failures = 0;
    } catch (error) {
      this.failed(step, error);
    }
    this.beat();
    if (!this.stopped) {
      clearTimeout(this.tickTimer);
      this.tickTimer = setTimeout(() => void this.tick(), next);
    }
  }

  private failed(step: "renew" | "acquire", error: unknown): void {
    this.failures++;
    this.lastError = describe(error);
    this.opts.metrics.leaseFailures.inc({ step });
    if (this.failures === 1 || this.failures % LOG_EVERY === 0) {
      this.opts.logger.warn(
        { err: this.lastError, failures: this.failures, role: this.role },
        step === "renew" ? "could not renew the leader lease" : "could not look at the leader lease",
      );
    }
  }

  private beat(): void {
    if (this.beating || this.stopped) return;
    this.beating = this.opts
      .heartbeat(this.acting() ? "leader" : "standby", this.role === "leader" ? this.epoch : null)
      .catch((error: unknown) =>
        this.opts.logger.debug({ err: describe(error) }, "could not record the heartbeat"),
      )
      .finally(() => {
        this.beating = null;
      });
  }

  // ---- the lease connection ----------------------------------------------------------------------

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: "mpsiem-telegram lease",
      keepAlive: true,
      connectionTimeoutMillis: Math.max(1_000, this.ttlMs),
      // A renewal that takes half the TTL means a connection that no longer works.
      query_timeout: Math.max(500, Math.round(this.ttlMs / 2)),
    });
    client.on("error", (error) => this.connectionLost(client, error));
    client.on("end", () => this.connectionLost(client, new Error("the lease connection ended")));
    try {
      await client.connect();
    } catch (error) {
      client.removeAllListeners();
      client.on("error", () => undefined);
      void client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.lockHeld = false;
    return client;
  }

  /** The session is gone (57P01 after pg_terminate_backend, a server restart, a network error). */
  private connectionLost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.lockHeld = false;
    this.opts.metrics.leaseFailures.inc({ step: "connection" });
    this.lastError = describe(error);
    void client.end().catch(() => undefined);
    if (this.role === "leader") this.lose(`its lease connection failed (${describe(error)})`, "connection");
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.lockHeld = false;
    if (!client) return;
    // Ending the session releases the advisory lock, if the server can still hear us.
    await client.end().catch(() => undefined);
  }

  private async withinMs(work: Promise<unknown>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  // ---- leading -----------------------------------------------------------------------------------

  private async renew(client: pg.Client): Promise<void> {
    const epoch = this.epoch;
    const sentAt = this.monotonic();
    let result: pg.QueryResult;
    try {
      result = await client.query(
        `UPDATE leader_lease SET expires_at = ${DB_NOW} + $3, renewed_at = ${DB_NOW}
         WHERE name = $1 AND epoch = $2 RETURNING epoch`,
        [LEASE_NAME, epoch, this.ttlMs],
      );
    } catch (error) {
      // A timeout leaves the session in doubt: end it (and with it the lead) rather than wait on it.
      if (/timeout/i.test(describe(error)) && this.client === client) {
        this.connectionLost(client, error instanceof Error ? error : new Error(String(error)));
      }
      throw error;
    }
    if (this.role !== "leader" || this.epoch !== epoch) return;
    if (result.rowCount !== 1) {
      this.lose("another instance holds the lease now", "taken");
      return;
    }
    this.renewedSentAt = Math.max(this.renewedSentAt, sentAt);
    this.armDeadline();
    this.opts.metrics.leaseRenewals.inc();
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    const due = this.deadline() - this.monotonic();
    this.deadlineTimer = setTimeout(
      () => {
        if (this.role !== "leader") return;
        if (this.monotonic() >= this.deadline()) {
          this.lose(`it could not renew its lease within ${this.ttlMs - this.marginMs} ms`, "expired");
        } else this.armDeadline();
      },
      Math.max(0, due),
    );
  }

  /** Leadership ends here, at once: acting() is false before anyone is told. */
  private lose(reason: string, kind: "connection" | "expired" | "taken"): void {
    if (this.role !== "leader") return;
    const epoch = this.epoch;
    this.stepDown(kind);
    this.contendAfter = this.monotonic() + this.ttlMs;
    this.opts.logger.warn({ epoch, reason }, `this instance no longer leads: ${reason}`);
    void this.dropClient();
    this.opts.events.onLost(reason);
  }

  private stepDown(kind: "connection" | "expired" | "taken" | "stopped"): void {
    this.role = "standby";
    this.leaderSince = null;
    clearTimeout(this.deadlineTimer);
    this.opts.metrics.leader.set(0);
    this.opts.metrics.leadershipLosses.inc({ reason: kind });
  }

  // ---- standing by -------------------------------------------------------------------------------

  /** One look as a standby; returns when to look again (ms). */
  private async contend(client: pg.Client): Promise<number> {
    // Just lost the lease: a healthy standby goes first.
    const mayTake = this.monotonic() >= this.contendAfter;
    if (mayTake && !this.lockHeld) {
      const got = await client.query("SELECT pg_try_advisory_lock($1, $2) AS got", [...this.lockKey]);
      this.lockHeld = got.rows[0]?.got === true;
    }
    if (mayTake && this.lockHeld) return this.acquire(client);
    return this.lookAtHolder(client, mayTake);
  }

  /**
   * Someone else holds the lock. When the lease has expired by the database's clock while the holder's
   * session still holds the lock (it no longer hears the server, or it is frozen; it has stopped acting by
   * its own deadline), that session is ended, so the lock comes free.
   */
  private async lookAtHolder(client: pg.Client, mayTake: boolean): Promise<number> {
    const result = await client.query(
      `SELECT ll.holder, ll.expires_at - ${DB_NOW} AS remaining,
         (SELECT l.pid FROM pg_locks l
           WHERE l.locktype = 'advisory' AND l.classid = $2 AND l.objid = $3 AND l.objsubid = 2
             AND l.granted AND l.pid = ll.backend_pid
           LIMIT 1) AS lingering
       FROM leader_lease ll WHERE ll.name = $1`,
      [LEASE_NAME, ...this.lockKey],
    );
    const row = result.rows[0] as { holder: string; remaining: string; lingering: number | null } | undefined;
    if (!row) return this.checkEveryMs;
    const remaining = Number(row.remaining);
    if (remaining > 0) return Math.max(20, Math.min(this.checkEveryMs, remaining + 20));
    if (mayTake && row.lingering !== null) {
      await client.query("SELECT pg_terminate_backend($1)", [row.lingering]);
      this.opts.logger.warn(
        { holder: row.holder, backendPid: row.lingering, expiredForMs: -remaining },
        "the leader's lease expired while its connection still held the lock (a network split or a frozen process); ended that connection to take over",
      );
      return 100;
    }
    return this.checkEveryMs;
  }

  /** With the advisory lock: take the lease when it has expired or its holder's session is gone. */
  private async acquire(client: pg.Client): Promise<number> {
    const sentAt = this.monotonic();
    await client.query("BEGIN");
    let epoch: number;
    let previousHolder: string | null;
    try {
      const current = await client.query(
        `SELECT holder, epoch, expires_at <= ${DB_NOW} AS expired,
           (backend_pid IS NULL OR backend_pid = pg_backend_pid()
             OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = leader_lease.backend_pid)) AS holder_gone,
           expires_at - ${DB_NOW} AS remaining
         FROM leader_lease WHERE name = $1 FOR UPDATE`,
        [LEASE_NAME],
      );
      const row = current.rows[0] as
        | { holder: string; epoch: string; expired: boolean; holder_gone: boolean; remaining: string }
        | undefined;
      if (row && !row.expired && !row.holder_gone) {
        // The holder's session lives although this one has the lock (a connection pooler in between):
        // only its expiry can hand the lease over.
        await client.query("ROLLBACK");
        return Math.max(20, Math.min(this.checkEveryMs, Number(row.remaining) + 20));
      }
      epoch = Number(row?.epoch ?? 0) + 1;
      previousHolder = row?.holder ?? null;
      const taken = await client.query(
        `INSERT INTO leader_lease (name, holder, epoch, expires_at, backend_pid, acquired_at, renewed_at)
         VALUES ($1, $2, $3, ${DB_NOW} + $4, pg_backend_pid(), ${DB_NOW}, ${DB_NOW})
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = EXCLUDED.epoch,
           expires_at = EXCLUDED.expires_at, backend_pid = EXCLUDED.backend_pid,
           acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at
         WHERE leader_lease.epoch = $3 - 1
         RETURNING epoch`,
        [LEASE_NAME, this.instance, epoch, this.ttlMs],
      );
      if (taken.rowCount !== 1) {
        await client.query("ROLLBACK");
        return this.checkEveryMs;
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
    if (this.stopped || this.client !== client) return this.checkEveryMs;
    this.role = "leader";
    this.epoch = epoch;
    this.renewedSentAt = sentAt;
    this.leaderSince = this.now();
    this.armDeadline();
    this.opts.metrics.leader.set(1);
    this.opts.metrics.takeovers.inc();
    this.opts.logger.info({ epoch, previousHolder }, "this instance leads now");
    this.opts.events.onAcquired({ epoch, previousHolder });
    return this.checkEveryMs;
  }
}
