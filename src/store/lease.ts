// The leader lease row and every instance's heartbeat. src/leadership/ decides who leads: on PostgreSQL it
// keeps the lease row itself, by the database's clock, over a connection of its own; here are the reads
// (health, /debug) and the single-process lease of SQLite.
import type { Kysely } from "kysely";
import { LEASE_NAME } from "./fence.js";
import type { Database } from "./schema.js";

export interface LeaseState {
  holder: string;
  epoch: number;
  /** PostgreSQL: the database's clock (ms); SQLite: the local clock. */
  expiresAt: number;
  acquiredAt: number;
  renewedAt: number;
  backendPid: number | null;
}

export type InstanceRole = "leader" | "standby";

export interface InstanceHeartbeat {
  name: string;
  role: InstanceRole;
  host: string;
  pid: number;
  startedAt: number;
  /** Local clock of the instance that wrote it. */
  heartbeatAt: number;
  /** The epoch it leads in, while it leads. */
  epoch: number | null;
}

export class LeaseRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  /** The lease as it stands, or undefined before anyone has led. */
  async read(): Promise<LeaseState | undefined> {
    const row = await this.db
      .selectFrom("leader_lease")
      .selectAll()
      .where("name", "=", LEASE_NAME)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      holder: row.holder,
      epoch: row.epoch,
      expiresAt: row.expires_at,
      acquiredAt: row.acquired_at,
      renewedAt: row.renewed_at,
      backendPid: row.backend_pid,
    };
  }

  /**
   * SQLite's lease: the process holds the file lock, so it simply leads; the epoch still moves at every
   * start, so that updates a previous run received and never handled are told apart from its own.
   */
  async takeAlone(holder: string, ttlMs: number): Promise<number> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("leader_lease")
        .select("epoch")
        .where("name", "=", LEASE_NAME)
        .executeTakeFirst();
      const epoch = (row?.epoch ?? 0) + 1;
      const values = {
        holder,
        epoch,
        expires_at: now + ttlMs,
        backend_pid: null,
        acquired_at: now,
        renewed_at: now,
      };
      await trx
        .insertInto("leader_lease")
        .values({ name: LEASE_NAME, ...values })
        .onConflict((oc) => oc.column("name").doUpdateSet(values))
        .execute();
      return epoch;
    });
  }

  /** Records this instance's heartbeat (and role). */
  async heartbeat(beat: InstanceHeartbeat): Promise<void> {
    const values = {
      role: beat.role,
      host: beat.host,
      pid: beat.pid,
      started_at: beat.startedAt,
      heartbeat_at: beat.heartbeatAt,
      epoch: beat.epoch,
    };
    await this.db
      .insertInto("instances")
      .values({ name: beat.name, ...values })
      .onConflict((oc) => oc.column("name").doUpdateSet(values))
      .execute();
  }

  /** Instances heard from since `sinceMs`, by name. */
  async instances(sinceMs: number): Promise<InstanceHeartbeat[]> {
    const rows = await this.db
      .selectFrom("instances")
      .selectAll()
      .where("heartbeat_at", ">=", sinceMs)
      .orderBy("name")
      .execute();
    return rows.map((r) => ({
      name: r.name,
      role: r.role === "leader" ? "leader" : "standby",
      host: r.host,
      pid: r.pid,
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      epoch: r.epoch,
    }));
  }

  /** Forgets instances not heard from since `beforeMs` (restarted under another name, or gone). */
  async forgetInstances(beforeMs: number): Promise<number> {
    const res = await this.db.deleteFrom("instances").where("heartbeat_at", "<", beforeMs).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
