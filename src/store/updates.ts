// Telegram updates received, one row per update_id. The row decides who handles an update: the instance
// whose insert (or takeover of an abandoned claim) succeeds. It also keeps the update until it is
// handled, so that an update a leader had fetched, and Telegram therefore forgot, is not lost when that
// leader dies: the next leader handles it (reclaim). Long polling's offset is kept beside it.
import type { Kysely } from "kysely";
import type { Fence } from "./fence.js";
import type { Database } from "./schema.js";

/** settings key: the getUpdates offset (last received update_id + 1). */
export const UPDATE_OFFSET_KEY = "telegram.updateOffset";
const CHUNK = 100;

export interface IncomingUpdate {
  updateId: number;
  /** The update as JSON. */
  body: string;
}

export interface StoredUpdate extends IncomingUpdate {
  receivedAt: number;
}

export class UpdatesRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    /** receive() moves the offset: the leader's (fenced). */
    private readonly fence: Fence,
  ) {}

  /** Where long polling goes on from: the update after the last one received, or 0 before any. */
  async offset(): Promise<number> {
    const row = await this.db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", UPDATE_OFFSET_KEY)
      .executeTakeFirst();
    const n = Number(row?.value);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  }

  /**
   * A batch from getUpdates, in one (fenced) transaction: each update is recorded as claimed by `by` in
   * `epoch`, unless it is known already (handled, or claimed in this epoch); an unhandled one claimed in
   * an earlier epoch (its leader died) is taken over. The offset moves past the batch. Returns the
   * update ids claimed now: the ones to handle.
   */
  async receive(batch: IncomingUpdate[], by: string, epoch: number): Promise<Set<number>> {
    if (batch.length === 0) return new Set();
    const now = this.now();
    return this.fence.transaction(async (trx) => {
      const claimed = new Set<number>();
      for (let i = 0; i < batch.length; i += CHUNK) {
        const inserted = await trx
          .insertInto("telegram_updates")
          .values(
            batch.slice(i, i + CHUNK).map((u) => ({
              update_id: u.updateId,
              body: u.body,
              received_at: now,
              claimed_by: by,
              claim_epoch: epoch,
              claimed_at: now,
              handled_at: null,
            })),
          )
          .onConflict((oc) => oc.column("update_id").doNothing())
          .returning("update_id")
          .execute();
        for (const row of inserted) claimed.add(row.update_id);
      }
      const known = batch.map((u) => u.updateId).filter((id) => !claimed.has(id));
      if (known.length > 0) {
        const taken = await trx
          .updateTable("telegram_updates")
          .set({ claimed_by: by, claim_epoch: epoch, claimed_at: now })
          .where("update_id", "in", known)
          .where("handled_at", "is", null)
          .where("claim_epoch", "<", epoch)
          .returning("update_id")
          .execute();
        for (const row of taken) claimed.add(row.update_id);
      }
      const next = Math.max(...batch.map((u) => u.updateId)) + 1;
      const current = await trx
        .selectFrom("settings")
        .select("value")
        .where("key", "=", UPDATE_OFFSET_KEY)
        .executeTakeFirst();
      if (!current || Number(current.value) < next) {
        await trx
          .insertInto("settings")
          .values({ key: UPDATE_OFFSET_KEY, value: String(next) })
          .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(next) }))
          .execute();
      }
      return claimed;
    });
  }

  /**
   * A webhook post: true when this instance is the one to handle it — the first to record it, or the
   * one taking over a claim made before `staleBefore` and never handled (its instance died).
   */
  async claim(update: IncomingUpdate, by: string, staleBefore: number): Promise<boolean> {
    const now = this.now();
    const inserted = await this.db
      .insertInto("telegram_updates")
      .values({
        update_id: update.updateId,
        body: update.body,
        received_at: now,
        claimed_by: by,
        claim_epoch: null,
        claimed_at: now,
        handled_at: null,
      })
      .onConflict((oc) => oc.column("update_id").doNothing())
      .returning("update_id")
      .executeTakeFirst();
    if (inserted) return true;
    const taken = await this.db
      .updateTable("telegram_updates")
      .set({ claimed_by: by, claimed_at: now })
      .where("update_id", "=", update.updateId)
      .where("handled_at", "is", null)
      .where("claimed_at", "<", staleBefore)
      .returning("update_id")
      .executeTakeFirst();
    return taken !== undefined;
  }

  /**
   * Unhandled updates a previous leader claimed (an earlier epoch), or a webhook claim abandoned before
   * `staleBefore`: claimed by `by` for `epoch` now and returned, oldest first, at most `limit`.
   */
  async reclaimUnhandled(
    by: string,
    epoch: number,
    staleBefore: number,
    limit: number,
  ): Promise<StoredUpdate[]> {
    const ids = (
      await this.db
        .selectFrom("telegram_updates")
        .select("update_id")
        .where("handled_at", "is", null)
        .where("body", "is not", null)
        .where((eb) =>
          eb.or([
            eb("claim_epoch", "<", epoch),
            eb.and([eb("claim_epoch", "is", null), eb("claimed_at", "<", staleBefore)]),
          ]),
        )
        .orderBy("update_id")
        .limit(limit)
        .execute()
    ).map((r) => r.update_id);
    if (ids.length === 0) return [];
    const now = this.now();
    // The same condition again: another instance may have taken some of them meanwhile.
    const rows = await this.fence.run((db) =>
      db
        .updateTable("telegram_updates")
        .set({ claimed_by: by, claim_epoch: epoch, claimed_at: now })
        .where("update_id", "in", ids)
        .where("handled_at", "is", null)
        .where((eb) =>
          eb.or([
            eb("claim_epoch", "<", epoch),
            eb.and([eb("claim_epoch", "is", null), eb("claimed_at", "<", staleBefore)]),
          ]),
        )
        .returning(["update_id", "body", "received_at"])
        .execute(),
    );
    return rows
      .filter((r) => r.body !== null)
      .map((r) => ({ updateId: r.update_id, body: r.body!, receivedAt: r.received_at }))
      .sort((a, b) => a.updateId - b.updateId);
  }

  /** The update is handled (whatever came of it): nobody handles it again; its body is dropped. */
  async markHandled(updateId: number, by: string): Promise<void> {
    await this.db
      .updateTable("telegram_updates")
      .set({ handled_at: this.now(), body: null })
      .where("update_id", "=", updateId)
      .where("claimed_by", "=", by)
      .where("handled_at", "is", null)
      .execute();
  }

  /** Whether it was handled (tests, /debug). */
  async handledBy(updateId: number): Promise<{ by: string; handled: boolean } | undefined> {
    const row = await this.db
      .selectFrom("telegram_updates")
      .select(["claimed_by", "handled_at"])
      .where("update_id", "=", updateId)
      .executeTakeFirst();
    return row ? { by: row.claimed_by, handled: row.handled_at !== null } : undefined;
  }

  /**
   * Drops rows handled before `handledBefore`, and unhandled ones received before `receivedBefore`
   * (Telegram itself keeps an update 24 hours at most).
   */
  async prune(handledBefore: number, receivedBefore: number): Promise<number> {
    const handled = await this.db
      .deleteFrom("telegram_updates")
      .where("handled_at", "<", handledBefore)
      .executeTakeFirst();
    const old = await this.db
      .deleteFrom("telegram_updates")
      .where("handled_at", "is", null)
      .where("received_at", "<", receivedBefore)
      .executeTakeFirst();
    return Number(handled.numDeletedRows) + Number(old.numDeletedRows);
  }
}
