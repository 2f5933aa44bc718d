// Small durable key-value settings: the incident watermark, last notices, and the like.
import type { Kysely } from "kysely";
import type { Fence } from "./fence.js";
import type { Database } from "./schema.js";

/** In the leader's view of the store (Store.fenced) every set() is fenced: the keys it writes are its own. */
export class SettingsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly fence: Fence,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", key)
      .executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.fence.run((db) =>
      db
        .insertInto("settings")
        .values({ key, value })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
        .execute(),
    );
  }

  async getNumber(key: string): Promise<number | undefined> {
    const v = await this.get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
}
