// Every admin's copy of a "new chat" request, so the decision can be written into all of them.
import type { Kysely, Selectable } from "kysely";
import type { ApprovalMessagesTable, Database } from "./schema.js";

export type ApprovalMessage = Selectable<ApprovalMessagesTable>;

export class ApprovalsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async add(chatId: number, adminChatId: number, messageId: number): Promise<void> {
    await this.db
      .insertInto("approval_messages")
      .values({ chat_id: chatId, admin_chat_id: adminChatId, message_id: messageId, created_at: this.now() })
      .execute();
  }

  /** Open (undecided) request copies for a chat. */
  async open(chatId: number): Promise<ApprovalMessage[]> {
    return this.db
      .selectFrom("approval_messages")
      .selectAll()
      .where("chat_id", "=", chatId)
      .where("decided_at", "is", null)
      .execute();
  }

  async all(chatId: number): Promise<ApprovalMessage[]> {
    return this.db.selectFrom("approval_messages").selectAll().where("chat_id", "=", chatId).execute();
  }

  async markDecided(chatId: number): Promise<void> {
    await this.db
      .updateTable("approval_messages")
      .set({ decided_at: this.now() })
      .where("chat_id", "=", chatId)
      .where("decided_at", "is", null)
      .execute();
  }
}
