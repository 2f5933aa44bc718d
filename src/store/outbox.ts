// The outbox: one row per (incident, chat). A row is `pending` until Telegram returns a message id,
// which is recorded at once and makes the row `sent` for good — it is never sent again.
import type { Kysely } from "kysely";
import type { Fence } from "./fence.js";
import type { ChatKind, Database, OutboxVia } from "./schema.js";

export interface PendingDelivery {
  id: number;
  incidentId: string;
  chatId: number;
  chatKind: ChatKind;
  /** The row's topic, or the chat's own thread_id. */
  threadId: number | null;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  /** Deliver with disable_notification (fixed at queue time). */
  silent?: boolean;
  /** The mute that made it silent. */
  muteId?: number | null;
  /** 0 High, 1 Medium, 2 Low, 3 other. */
  rank?: number;
}

export interface DeliveredCopy {
  id: number;
  incidentId: string;
  chatId: number;
  messageId: number;
  via: OutboxVia;
  renderedVersion: number;
}

export interface StaleCopy extends DeliveredCopy {
  version: number;
  chatKind: ChatKind;
}

function toPending(
  r: Omit<PendingDelivery, "silent"> & { silent: number },
): PendingDelivery & { silent: boolean } {
  return { ...r, silent: r.silent === 1 };
}

/**
 * What delivery writes about the rows it sends (sent, retry, cancelled, the version a copy shows) is
 * fenced: a leader that has lost its lease cannot record it over the new leader's work (fence.ts).
 */
export class OutboxRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly fence: Fence,
  ) {}

  private pendingQuery() {
    return this.db
      .selectFrom("outbox")
      .innerJoin("chats", "chats.id", "outbox.chat_id")
      .select([
        "outbox.id as id",
        "outbox.incident_id as incidentId",
        "outbox.chat_id as chatId",
        "chats.kind as chatKind",
        (eb) => eb.fn.coalesce("outbox.thread_id", "chats.thread_id").as("threadId"),
        "outbox.attempts as attempts",
        "outbox.next_attempt_at as nextAttemptAt",
        "outbox.created_at as createdAt",
        "outbox.silent as silent",
        "outbox.mute_id as muteId",
        "outbox.rank as rank",
      ])
      .where("outbox.state", "=", "pending")
      .where("chats.state", "=", "allowed")
      .where("chats.active", "=", 1);
  }

  /** Pending deliveries for chats that receive now, oldest first. */
  async pending(limit = 1000): Promise<PendingDelivery[]> {
    return (await this.pendingQuery().orderBy("outbox.id").limit(limit).execute()).map(toPending);
  }

  async pendingForChat(chatId: number, limit = 1000): Promise<PendingDelivery[]> {
    return (
      await this.pendingQuery()
        .where("outbox.chat_id", "=", chatId)
        .orderBy("outbox.id")
        .limit(limit)
        .execute()
    ).map(toPending);
  }

  /** Pending rows per chat that receives now. */
  async pendingCounts(): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom("outbox")
      .innerJoin("chats", "chats.id", "outbox.chat_id")
      .select(["outbox.chat_id as chatId", (eb) => eb.fn.countAll<number>().as("n")])
      .where("outbox.state", "=", "pending")
      .where("chats.state", "=", "allowed")
      .where("chats.active", "=", 1)
      .groupBy("outbox.chat_id")
      .execute();
    return new Map(rows.map((r) => [r.chatId, Number(r.n)]));
  }

  /** Pending rows by chat kind (for metrics and /debug), including chats not receiving now. */
  async depthByKind(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom("outbox")
      .innerJoin("chats", "chats.id", "outbox.chat_id")
      .select(["chats.kind as kind", (eb) => eb.fn.countAll<number>().as("n")])
      .where("outbox.state", "=", "pending")
      .groupBy("chats.kind")
      .execute();
    return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
  }

  /** Records Telegram's message id for these rows: from now on they are never sent again. */
  async markSent(ids: number[], messageId: number, via: OutboxVia, renderedVersion: number): Promise<void> {
    if (ids.length === 0) return;
    const now = this.now();
    await this.fence.run((db) =>
      db
        .updateTable("outbox")
        .set({
          state: "sent",
          message_id: messageId,
          via,
          rendered_version: renderedVersion,
          sent_at: now,
          last_error: null,
        })
        .where("id", "in", ids)
        .where("state", "=", "pending")
        .execute(),
    );
  }

  async retryLater(ids: number[], nextAttemptAt: number, error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.fence.run((db) =>
      db
        .updateTable("outbox")
        .set((eb) => ({
          attempts: eb("attempts", "+", 1),
          next_attempt_at: nextAttemptAt,
          last_error: error.slice(0, 500),
        }))
        .where("id", "in", ids)
        .where("state", "=", "pending")
        .execute(),
    );
  }

  /** A chat stopped receiving (denied, banned, blocked the bot): its undelivered rows are dropped, with the reason. */
  async cancelForChat(chatId: number, reason: string): Promise<number> {
    const res = await this.fence.run((db) =>
      db
        .updateTable("outbox")
        .set({ state: "cancelled", last_error: reason })
        .where("chat_id", "=", chatId)
        .where("state", "=", "pending")
        .executeTakeFirst(),
    );
    return Number(res.numUpdatedRows);
  }

  /** Every delivered copy of an incident's message. */
  async copies(incidentId: string): Promise<DeliveredCopy[]> {
    const rows = await this.db
      .selectFrom("outbox")
      .select([
        "id",
        "incident_id as incidentId",
        "chat_id as chatId",
        "message_id as messageId",
        "via",
        "rendered_version as renderedVersion",
      ])
      .where("incident_id", "=", incidentId)
      .where("state", "=", "sent")
      .where("message_id", "is not", null)
      .execute();
    return rows.map((r) => ({ ...r, messageId: r.messageId!, via: r.via ?? "single" }));
  }

  /** The delivered copy of an incident in one chat, if any (used to check a button press is genuine). */
  async copyIn(incidentId: string, chatId: number): Promise<DeliveredCopy | undefined> {
    return (await this.copies(incidentId)).find((c) => c.chatId === chatId);
  }

  /**
   * Delivered single-message copies that show an older version than the store has, in chats that
   * receive now: a chat that was denied, banned or stopped receiving is never edited again.
   * The version is compared twice: outbox.incident_version (kept equal to incidents.version by every
   * write that bumps it) lets the partial index outbox_stale answer instead of every sent row.
   */
  private staleQuery() {
    return this.db
      .selectFrom("outbox")
      .innerJoin("incidents", "incidents.id", "outbox.incident_id")
      .innerJoin("chats", "chats.id", "outbox.chat_id")
      .where("outbox.state", "=", "sent")
      .where("outbox.via", "=", "single")
      .where("outbox.message_id", "is not", null)
      .whereRef("outbox.rendered_version", "<", "incidents.version")
      .where("chats.state", "=", "allowed")
      .whereRef("outbox.rendered_version", "<", "outbox.incident_version")
      .where("chats.active", "=", 1);
  }

  private async staleRows(chatId: number | null, limit: number): Promise<StaleCopy[]> {
    let query = this.staleQuery().select([
      "outbox.id as id",
      "outbox.incident_id as incidentId",
      "outbox.chat_id as chatId",
      "outbox.message_id as messageId",
      "outbox.via as via",
      "outbox.rendered_version as renderedVersion",
      "incidents.version as version",
      "chats.kind as chatKind",
    ]);
    if (chatId !== null) query = query.where("outbox.chat_id", "=", chatId);
    const rows = await query.orderBy("outbox.id").limit(limit).execute();
    return rows.map((r) => ({ ...r, messageId: r.messageId!, via: r.via ?? "single" }));
  }

  /** Single-message copies that show an older version of their incident than the store has. */
  async staleCopies(limit = 500): Promise<StaleCopy[]> {
    return this.staleRows(null, limit);
  }

  /** Chats (receiving now) that hold at least one stale single-message copy. */
  async staleChatIds(): Promise<number[]> {
    const rows = await this.staleQuery().select("outbox.chat_id as chatId").distinct().execute();
    return rows.map((r) => r.chatId);
  }

  /** The same as staleCopies, for one chat (delivery edits each chat's copies in its own lane). */
  async staleCopiesForChat(chatId: number, limit = 100): Promise<StaleCopy[]> {
    return this.staleRows(chatId, limit);
  }

  /**
   * Gives up on these undelivered rows (Telegram refuses the message for good, e.g. a 400 even as
   * plain text): they leave the queue with the reason, so a bad row can never block its chat.
   */
  async cancel(ids: number[], reason: string): Promise<number> {
    if (ids.length === 0) return 0;
    const res = await this.fence.run((db) =>
      db
        .updateTable("outbox")
        .set({ state: "cancelled", last_error: reason.slice(0, 500) })
        .where("id", "in", ids)
        .where("state", "=", "pending")
        .executeTakeFirst(),
    );
    return Number(res.numUpdatedRows);
  }

  async setRenderedVersion(id: number, version: number): Promise<void> {
    await this.fence.run((db) =>
      db.updateTable("outbox").set({ rendered_version: version }).where("id", "=", id).execute(),
    );
  }

  /**
   * Telegram messages sent since `sinceMs`, oldest first: one entry per message (a digest's rows count
   * once). After a restart the pacer learns from these what Telegram still counts in its windows.
   */
  async sentSince(sinceMs: number): Promise<Array<{ chatId: number; sentAt: number }>> {
    const rows = await this.db
      .selectFrom("outbox")
      .select(["chat_id as chatId", (eb) => eb.fn.max("sent_at").as("sentAt")])
      .where("state", "=", "sent")
      .where("sent_at", ">=", sinceMs)
      .groupBy(["chat_id", "message_id"])
      .execute();
    return rows
      .map((r) => ({ chatId: r.chatId, sentAt: Number(r.sentAt) }))
      .sort((a, b) => a.sentAt - b.sentAt);
  }

  /** Totals by state, for /debug and metrics. */
  async totals(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom("outbox")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("state")
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }
}
