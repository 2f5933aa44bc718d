// Retention (BOT_RETENTION): what the service no longer needs is deleted, so the database and the
// idle loop's work stay the same size after months. Deleted in small batches, each its own short
// transaction, so a send or a button press never waits long behind a prune.
//
// Pruned: delivered and cancelled outbox rows older than the cutoff, audit rows older than it, reminders
// sent or dropped before it, and incidents first seen before it that no chat still waits for (their
// outbox rows, reminder jobs and reminders go with them).
// Never pruned: pending rows, incidents with a pending row, chats, settings (the watermark among them).
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface PruneCounts {
  /** Incidents deleted (with their outbox rows, counted in `outbox`). */
  incidents: number;
  /** Outbox rows deleted: delivered and cancelled ones, and those of the deleted incidents. */
  outbox: number;
  audit: number;
}

export const DEFAULT_RETENTION_BATCH = 200;

export class RetentionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Deletes up to `limit` incidents first seen before `cutoffMs` that have no pending outbox row,
   * with all their outbox rows, in one transaction. Returns what it deleted.
   */
  async pruneIncidents(cutoffMs: number, limit: number): Promise<{ incidents: number; outbox: number }> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom("incidents")
        .select("id")
        .where("first_seen_at", "<", cutoffMs)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("outbox")
                .select("outbox.id")
                .whereRef("outbox.incident_id", "=", "incidents.id")
                .where("outbox.state", "=", "pending"),
            ),
          ),
        )
        .limit(limit)
        .execute();
      if (rows.length === 0) return { incidents: 0, outbox: 0 };
      const ids = rows.map((r) => r.id);
      // Outbox rows first: they reference the incident.
      const outbox = await trx.deleteFrom("outbox").where("incident_id", "in", ids).executeTakeFirst();
      await trx.deleteFrom("lookup_copies").where("incident_id", "in", ids).execute();
      // Their reminder jobs and the reminders they sent (issue 15).
      await trx.deleteFrom("reminder_messages").where("incident_id", "in", ids).execute();
      await trx.deleteFrom("reminder_jobs").where("incident_id", "in", ids).execute();
      const incidents = await trx.deleteFrom("incidents").where("id", "in", ids).executeTakeFirst();
      return { incidents: Number(incidents.numDeletedRows), outbox: Number(outbox.numDeletedRows) };
    });
  }

  /**
   * Deletes up to `limit` delivered or cancelled outbox rows queued before `cutoffMs` (a delivered row
   * also only when it was sent before it). Pending rows are never touched.
   */
  async pruneOutbox(cutoffMs: number, limit: number): Promise<number> {
    const old = this.db
      .selectFrom("outbox")
      .select("id")
      .where("created_at", "<", cutoffMs)
      // "not pending" rather than "in (sent, cancelled)": the same rows, and the planner then reads
      // them by creation time (outbox_created) instead of walking every delivered row by state.
      .where("state", "!=", "pending")
      .where((eb) => eb.or([eb("sent_at", "is", null), eb("sent_at", "<", cutoffMs)]))
      .limit(limit);
    const res = await this.db.deleteFrom("outbox").where("id", "in", old).executeTakeFirst();
    // What old digests held, and old /inc cards: kept as long as the outbox rows of their time.
    const oldDigests = this.db
      .selectFrom("digest_messages")
      .select("message_id")
      .where("created_at", "<", cutoffMs)
      .limit(limit);
    await this.db
      .deleteFrom("digest_messages")
      .where("message_id", "in", oldDigests)
      .where("created_at", "<", cutoffMs)
      .execute();
    const oldLookups = this.db
      .selectFrom("lookup_copies")
      .select("id")
      .where("created_at", "<", cutoffMs)
      .limit(limit);
    await this.db.deleteFrom("lookup_copies").where("id", "in", oldLookups).execute();
    // Reminders sent or dropped that long ago (one still owed is never touched).
    const oldReminders = this.db
      .selectFrom("reminder_messages")
      .select("id")
      .where("created_at", "<", cutoffMs)
      .where("state", "!=", "pending")
      .limit(limit);
    await this.db.deleteFrom("reminder_messages").where("id", "in", oldReminders).execute();
    return Number(res.numDeletedRows);
  }

  /** Deletes up to `limit` audit rows written before `cutoffMs`. */
  async pruneAudit(cutoffMs: number, limit: number): Promise<number> {
    const old = this.db.selectFrom("audit").select("id").where("at", "<", cutoffMs).limit(limit);
    const res = await this.db.deleteFrom("audit").where("id", "in", old).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** What the task logs with (a pino logger fits). */
export interface RetentionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RetentionTaskOptions {
  repository: RetentionRepository;
  /** BOT_RETENTION in milliseconds. */
  retentionMs: number;
  logger: RetentionLogger;
  now?: () => number;
  /** Time between prunes after the one at start; default one hour. */
  intervalMs?: number;
  /** Rows (incidents for the incident pass) per transaction; default 200. */
  batchSize?: number;
  /** Pause between two batches, so other work gets the database in between; default 10 ms. */
  pauseMs?: number;
}

export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;

/** Prunes at start and then every `intervalMs`; `stop()` ends it after the batch under way. */
export class RetentionTask {
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly pauseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneCounts> | undefined;
  private stopping = false;
  private wakePause: (() => void) | undefined;

  constructor(private readonly opts: RetentionTaskOptions) {
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS;
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_RETENTION_BATCH);
    this.pauseMs = opts.pauseMs ?? 10;
  }

  start(): void {
    if (this.timer !== undefined || this.stopping) return;
    const run = () => {
      void this.runOnce().finally(() => {
        if (!this.stopping) this.timer = setTimeout(run, this.intervalMs);
      });
    };
    // Not in start-up's way: the first prune begins once the service's other parts have started.
    this.timer = setTimeout(run, 0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.wakePause?.();
    await this.running?.catch(() => undefined);
  }

  /** One prune, batch after batch until nothing old is left (or stop()). Never throws. */
  runOnce(): Promise<PruneCounts> {
    this.running ??= this.prune().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async prune(): Promise<PruneCounts> {
    const { repository, retentionMs, logger } = this.opts;
    const startedAt = Date.now();
    const cutoff = this.now() - retentionMs;
    const counts: PruneCounts = { incidents: 0, outbox: 0, audit: 0 };
    let batches = 0;
    // How long one batch held the database (the other parts wait at most this long behind a prune).
    let longestBatchMs = 0;
    try {
      const passes: Array<() => Promise<number>> = [
        async () => {
          const done = await repository.pruneIncidents(cutoff, this.batchSize);
          counts.incidents += done.incidents;
          counts.outbox += done.outbox;
          return done.incidents;
        },
        async () => {
          const done = await repository.pruneOutbox(cutoff, this.batchSize);
          counts.outbox += done;
          return done;
        },
        async () => {
          const done = await repository.pruneAudit(cutoff, this.batchSize);
          counts.audit += done;
          return done;
        },
      ];
      for (const pass of passes) {
        while (!this.stopping) {
          const batchStartedAt = Date.now();
          const deleted = await pass();
          longestBatchMs = Math.max(longestBatchMs, Date.now() - batchStartedAt);
          batches++;
          if (deleted < this.batchSize) break;
          await this.pause();
        }
      }
    } catch (error) {
      logger.warn({ err: error, ...counts }, "retention: pruning failed; trying again at the next prune");
      return counts;
    }
    if (counts.incidents + counts.outbox + counts.audit > 0) {
      logger.info(
        {
          ...counts,
          olderThan: new Date(cutoff).toISOString(),
          batches,
          longestBatchMs,
          ms: Date.now() - startedAt,
          stopped: this.stopping,
        },
        "retention: pruned old incidents, outbox rows and audit entries",
      );
    }
    return counts;
  }

  private pause(): Promise<void> {
    if (this.pauseMs <= 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pauseMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakePause = done;
    });
  }
}
