// What waits for somebody's yes: a chat's request to receive incidents (with every admin's copy of
// it, so the decision can be written into all of them), and the Close confirmations the bot asked for.
import type { Kysely, Selectable } from "kysely";
import type { ApprovalMessagesTable, ChatRequestsTable, Database } from "./schema.js";

export type ApprovalMessage = Selectable<ApprovalMessagesTable>;
export type ChatRequest = Selectable<ChatRequestsTable>;

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

  /** The chat's request and every admin's copy of it are decided. */
  async markDecided(chatId: number): Promise<void> {
    const at = this.now();
    await this.db
      .updateTable("approval_messages")
      .set({ decided_at: at })
      .where("chat_id", "=", chatId)
      .where("decided_at", "is", null)
      .execute();
    await this.db
      .updateTable("chat_requests")
      .set({ decided_at: at })
      .where("chat_id", "=", chatId)
      .where("decided_at", "is", null)
      .execute();
  }

  /** The chat's undecided request, if it has one. */
  async pendingRequest(chatId: number): Promise<ChatRequest | undefined> {
    return this.db
      .selectFrom("chat_requests")
      .selectAll()
      .where("chat_id", "=", chatId)
      .where("decided_at", "is", null)
      .executeTakeFirst();
  }

  /** Records a new request of the chat (replacing a decided one): undecided, caused by `by`, at `at`. */
  async openRequest(chatId: number, by: number | null, at: number): Promise<void> {
    const values = { requested_by: by, requested_at: at, decided_at: null };
    await this.db
      .insertInto("chat_requests")
      .values({ chat_id: chatId, ...values })
      .onConflict((oc) => oc.column("chat_id").doUpdateSet(values))
      .execute();
  }

  /** The chat's undecided request is dropped (its notices never reached an admin). */
  async withdrawRequest(chatId: number): Promise<void> {
    await this.db
      .deleteFrom("chat_requests")
      .where("chat_id", "=", chatId)
      .where("decided_at", "is", null)
      .execute();
  }

  /** How many undecided requests `userId` caused since `since` (ms). */
  async pendingRequestsBy(userId: number, since: number): Promise<number> {
    const row = await this.db
      .selectFrom("chat_requests")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("requested_by", "=", userId)
      .where("requested_at", ">=", since)
      .where("decided_at", "is", null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}

/** "Yes, close" counts only on a message where Close was pressed (and the bot asked) shortly before. */
export class CloseConfirmationsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Close was pressed under this message at `at`: the next "Yes, close" there may close it. */
  async ask(
    chatId: number,
    messageId: number,
    incidentId: string,
    by: number | null,
    at: number,
  ): Promise<void> {
    const values = { incident_id: incidentId, asked_by: by, asked_at: at };
    await this.db
      .insertInto("close_confirmations")
      .values({ chat_id: chatId, message_id: messageId, ...values })
      .onConflict((oc) => oc.columns(["chat_id", "message_id"]).doUpdateSet(values))
      .execute();
    // Confirmations older than a day are long expired: forget them, so the table stays small.
    await this.db
      .deleteFrom("close_confirmations")
      .where("asked_at", "<", at - 86_400_000)
      .execute();
  }

  /**
   * Uses up the confirmation asked under this message: true when it was asked there for this incident
   * at `notBefore` or later. Whatever it was, it is gone afterwards (a second "Yes" asks again).
   */
  async take(chatId: number, messageId: number, incidentId: string, notBefore: number): Promise<boolean> {
    const removed = await this.db
      .deleteFrom("close_confirmations")
      .where("chat_id", "=", chatId)
      .where("message_id", "=", messageId)
      .returning(["incident_id", "asked_at"])
      .executeTakeFirst();
    return removed !== undefined && removed.incident_id === incidentId && removed.asked_at >= notBefore;
  }

  /** Cancel was pressed: the confirmation under this message is withdrawn. */
  async withdraw(chatId: number, messageId: number): Promise<void> {
    await this.db
      .deleteFrom("close_confirmations")
      .where("chat_id", "=", chatId)
      .where("message_id", "=", messageId)
      .execute();
  }
}
