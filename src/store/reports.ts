// The daily shift report (issue 16): which chats take it (/report on, /report off), and the claim of each
// day's report per chat. The claim is the leader's write, fenced on its epoch: a leader that lost its lease
// cannot claim, so a report goes out once per chat and day even with two instances and across restarts.
import type { Kysely } from "kysely";
import type { Fence } from "./fence.js";
import type { Database } from "./schema.js";

export interface ReportChat {
  chatId: number;
  threadId: number | null;
}

export class ReportsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly fence: Fence,
  ) {}

  async enable(chatId: number, threadId: number | null, by: number | null): Promise<void> {
    const values = { chat_id: chatId, thread_id: threadId, enabled_by: by, enabled_at: this.now() };
    await this.db
      .insertInto("report_chats")
      .values(values)
      .onConflict((oc) => oc.column("chat_id").doUpdateSet({ thread_id: threadId, enabled_by: by }))
      .execute();
  }

  /** Whether the chat took the report. */
  async disable(chatId: number): Promise<boolean> {
    const result = await this.db.deleteFrom("report_chats").where("chat_id", "=", chatId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async chats(): Promise<ReportChat[]> {
    const rows = await this.db
      .selectFrom("report_chats")
      .select(["chat_id", "thread_id"])
      .orderBy("chat_id")
      .execute();
    return rows.map((r) => ({
      chatId: Number(r.chat_id),
      threadId: r.thread_id === null ? null : Number(r.thread_id),
    }));
  }

  /** Chats already claimed for `day`. */
  async claimedOn(day: string): Promise<Set<number>> {
    const rows = await this.db.selectFrom("report_sends").select("chat_id").where("day", "=", day).execute();
    return new Set(rows.map((r) => Number(r.chat_id)));
  }

  /** Claims `day`'s report for the chat: true when this call claimed it (fenced). */
  async claim(day: string, chatId: number): Promise<boolean> {
    return this.fence.run(async (db) => {
      const result = await db
        .insertInto("report_sends")
        .values({ day, chat_id: chatId, claimed_at: this.now() })
        .onConflict((oc) => oc.columns(["day", "chat_id"]).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    });
  }

  /** Gives a claim back when the report certainly did not go out (a transient failure): tried again later. */
  async release(day: string, chatId: number): Promise<void> {
    await this.fence.run((db) =>
      db.deleteFrom("report_sends").where("day", "=", day).where("chat_id", "=", chatId).execute(),
    );
  }
}
