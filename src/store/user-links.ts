// Telegram users tied to MP SIEM accounts (/link, /unlink, /links; design.md §4): Take assigns an
// incident to the presser's linked account. One link per Telegram user; linking again replaces it.
import type { Kysely, Selectable } from "kysely";
import type { Database, UserLinksTable } from "./schema.js";

export interface UserLink {
  telegramId: number;
  mpLogin: string;
  mpUserId: string;
  telegramName: string | null;
  linkedBy: number | null;
  linkedByName: string | null;
  linkedAt: number;
}

function toLink(row: Selectable<UserLinksTable>): UserLink {
  return {
    telegramId: Number(row.telegram_id),
    mpLogin: row.mp_login,
    mpUserId: row.mp_user_id,
    telegramName: row.telegram_name,
    linkedBy: row.linked_by === null ? null : Number(row.linked_by),
    linkedByName: row.linked_by_name,
    linkedAt: Number(row.linked_at),
  };
}

export class UserLinksRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async get(telegramId: number): Promise<UserLink | undefined> {
    const row = await this.db
      .selectFrom("user_links")
      .selectAll()
      .where("telegram_id", "=", telegramId)
      .executeTakeFirst();
    return row ? toLink(row) : undefined;
  }

  /** The link whose MP account has this UUID (to name who changed an incident in the SIEM). */
  async byMpUserId(mpUserId: string): Promise<UserLink | undefined> {
    const row = await this.db
      .selectFrom("user_links")
      .selectAll()
      .where("mp_user_id", "=", mpUserId)
      .orderBy("telegram_id")
      .executeTakeFirst();
    return row ? toLink(row) : undefined;
  }

  /** Links (or re-links) a Telegram user; returns the link it replaced, if any. */
  async link(link: Omit<UserLink, "linkedAt">): Promise<UserLink | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom("user_links")
        .selectAll()
        .where("telegram_id", "=", link.telegramId)
        .executeTakeFirst();
      const values = {
        mp_login: link.mpLogin,
        mp_user_id: link.mpUserId,
        telegram_name: link.telegramName,
        linked_by: link.linkedBy,
        linked_by_name: link.linkedByName,
        linked_at: this.now(),
      };
      await trx
        .insertInto("user_links")
        .values({ telegram_id: link.telegramId, ...values })
        .onConflict((oc) => oc.column("telegram_id").doUpdateSet(values))
        .execute();
      return before ? toLink(before) : undefined;
    });
  }

  /** Removes a link; returns it, or undefined when there was none. */
  async unlink(telegramId: number): Promise<UserLink | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom("user_links")
        .selectAll()
        .where("telegram_id", "=", telegramId)
        .executeTakeFirst();
      if (!before) return undefined;
      await trx.deleteFrom("user_links").where("telegram_id", "=", telegramId).execute();
      return toLink(before);
    });
  }

  /** Every link, by Telegram id. */
  async list(): Promise<UserLink[]> {
    const rows = await this.db.selectFrom("user_links").selectAll().orderBy("telegram_id").execute();
    return rows.map(toLink);
  }
}
