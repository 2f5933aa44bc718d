// Write fencing for the leader. Several instances may share one PostgreSQL database; one leads, under a
// lease whose epoch grows at every acquisition (src/leadership/). The writes that only the leader may
// make (what was sent, the intake watermark and cursors, the Telegram update offset) go through a Fence
// holding the epoch the writer leads in: they commit only while the lease still has that epoch, so a
// leader that lost its lease without noticing yet (a pause, a network split) cannot overwrite what the
// new leader did. On SQLite there is one process (its file lock), and the fence lets every write through.
import type { Kysely, Transaction } from "kysely";
import type { DialectName } from "./dialect/types.js";
import type { Database } from "./schema.js";

/** The lease row's name (the one and only lease: the service's leader). */
export const LEASE_NAME = "leader";

/** A fenced write came from a leader whose epoch has passed: it was rolled back. */
export class FencedError extends Error {
  override readonly name = "FencedError";
  constructor(
    readonly epoch: number,
    readonly current: number | null,
  ) {
    super(
      `write refused: this instance led in epoch ${epoch}, the lease is at ${current ?? "none"} (another instance leads now)`,
    );
  }
}

export class Fence {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    /** The epoch the writer leads in; null: not fenced (a standby's own writes, tests, tools). */
    readonly epoch: number | null,
  ) {}

  /** Whether writes are checked: on PostgreSQL, with an epoch. */
  get active(): boolean {
    return this.epoch !== null && this.dialect === "postgres";
  }

  /** Runs `work`; when fenced, inside one transaction that commits only if the epoch is still ours. */
  run<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.active ? this.transaction(work) : work(this.db);
  }

  /** Runs `work` in one transaction; when fenced, it commits only if the epoch is still ours. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const result = await work(trx);
      await this.check(trx);
      return result;
    });
  }

  /**
   * Last step before the commit: FOR SHARE waits for a takeover that is committing at this moment and
   * then reads its epoch, and holds a takeover back until this transaction ends. Checked at the end, not
   * the start, so the lease row is locked only for the commit itself and never delays a renewal long.
   */
  private async check(trx: Transaction<Database>): Promise<void> {
    if (!this.active || this.epoch === null) return;
    const row = await trx
      .selectFrom("leader_lease")
      .select("epoch")
      .where("name", "=", LEASE_NAME)
      .forShare()
      .executeTakeFirst();
    if (row?.epoch !== this.epoch) throw new FencedError(this.epoch, row?.epoch ?? null);
  }
}
