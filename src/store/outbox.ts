// The outbox: one row per (incident, chat). A row is `pending` until Telegram returns a message id,
// which is recorded at once and makes the row `sent` for good — it is never sent again.
import type { Kysely } from "kysely";
import type { Fence } from "./fence.js";
import type { ChatKind, CopyVia, Database, OutboxVia } from "./schema.js";

/** Severity ranks: a lane sends lower rank first (High before Medium before Low before anything else). */
export const SEVERITY_RANK = { High: 0, Medium: 1, Low: 2, other: 3 } as const;

/** The outbox rank of a severity as the SIEM writes it (any case, spaces around ignored). */
export function severityRank(severity: string): number {
  switch (typeof severity === "string" ? severity.trim().toLowerCase() : "") {
    case "high":
      return SEVERITY_RANK.High;
    case "medium":
      return SEVERITY_RANK.Medium;
    case "low":
      return SEVERITY_RANK.Low;
    default:
      return SEVERITY_RANK.other;
  }
}

export interface PendingDelivery {
  id: number;
  incidentId: string;
  chatId: number;
  chatKind: ChatKind;
  /** The forum topic to send into: the row's own, else the chat's (null: no topic). */
  threadId: number | null;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  /** Send with disable_notification and show 🔕. */
  silent: boolean;
  /** The mute that made it silent, if one did. */
  muteId: number | null;
  /** 0 High, 1 Medium, 2 Low, 3 other: the lane's order is rank, then id. */
  rank: number;
}

export interface DeliveredCopy {
  /** The outbox row's id, or for `via: "lookup"` the lookup copy's (another table: ids may coincide). */
  id: number;
  incidentId: string;
  chatId: number;
  messageId: number;
  via: CopyVia;
  renderedVersion: number;
  /** Delivered silently: every edit keeps showing 🔕. */
  silent: boolean;
}

/** A copy in the outbox (one row per incident and chat), with the forum topic it went to. */
export interface OutboxCopy extends DeliveredCopy {
  threadId: number | null;
}

export interface StaleCopy extends DeliveredCopy {
  version: number;
  chatKind: ChatKind;
}

/** A digest message with a line whose incident changed since it was rendered. */
export interface StaleDigest {
  chatId: number;
  messageId: number;
  chatKind: ChatKind;
  /** Its rows in line order, each with its incident's current version. */
  rows: Array<{ id: number; incidentId: string; version: number }>;
  /** Sent without sound: its edits keep 🔕 in the header. */
  silent: boolean;
  /** Hash of the text last shown; null for a digest sent before it was recorded. */
  shownHash: string | null;
}

function lookupCopyOf(row: {
  id: number;
  incident_id: string;
  chat_id: number;
  message_id: number;
  rendered_version: number;
}): DeliveredCopy {
  return {
    id: row.id,
    incidentId: row.incident_id,
    chatId: row.chat_id,
    messageId: row.message_id,
    via: "lookup",
    renderedVersion: row.rendered_version,
    silent: false,
  };
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
        "outbox.thread_id as rowThreadId",
        "chats.thread_id as chatThreadId",
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

  private static toPending(row: {
    id: number;
    incidentId: string;
    chatId: number;
    chatKind: ChatKind;
    rowThreadId: number | null;
    chatThreadId: number | null;
    attempts: number;
    nextAttemptAt: number;
    createdAt: number;
    silent: number;
    muteId: number | null;
    rank: number;
  }): PendingDelivery {
    const { rowThreadId, chatThreadId, silent, ...rest } = row;
    return { ...rest, threadId: rowThreadId ?? chatThreadId, silent: silent === 1 };
  }

  /** Pending deliveries for chats that receive now, oldest first. */
  async pending(limit = 1000): Promise<PendingDelivery[]> {
    const rows = await this.pendingQuery().orderBy("outbox.id").limit(limit).execute();
    return rows.map(OutboxRepository.toPending);
  }

  /**
   * A chat's pending rows in the order its lane sends them: lower rank first (High ahead of the rest),
   * then oldest first. The index outbox_pending_rank (state, chat_id, rank, id) gives this order without
   * a sort.
   */
  async pendingForChat(chatId: number, limit = 1000): Promise<PendingDelivery[]> {
    const rows = await this.pendingQuery()
      .where("outbox.chat_id", "=", chatId)
      .orderBy("outbox.rank")
      .orderBy("outbox.id")
      .limit(limit)
      .execute();
    return rows.map(OutboxRepository.toPending);
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
    return (await this.deliveredRows([incidentId])).map(({ threadId: _, ...copy }) => copy);
  }

  /** The delivered copies of several incidents (the reminder scheduler's tick), with each row's topic. */
  async copiesOfMany(incidentIds: string[]): Promise<Map<string, OutboxCopy[]>> {
    const out = new Map<string, OutboxCopy[]>();
    for (const copy of await this.deliveredRows(incidentIds)) {
      const list = out.get(copy.incidentId) ?? [];
      list.push(copy);
      out.set(copy.incidentId, list);
    }
    return out;
  }

  /**
   * The sent rows of some incidents, found by incident alone: with `state = 'sent'` in the query, SQLite
   * prefers the partial index on sent rows and walks every one of them (milliseconds per incident once the
   * history is long); an incident has one row per chat, so the rest is filtered here.
   */
  private async deliveredRows(incidentIds: string[]): Promise<OutboxCopy[]> {
    const out: OutboxCopy[] = [];
    for (let i = 0; i < incidentIds.length; i += 500) {
      const chunk = incidentIds.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await this.db
        .selectFrom("outbox")
        .select([
          "id",
          "incident_id as incidentId",
          "chat_id as chatId",
          "message_id as messageId",
          "via",
          "rendered_version as renderedVersion",
          "silent",
          "state",
          "thread_id as threadId",
        ])
        .where("incident_id", "in", chunk)
        .orderBy("id")
        .execute();
      for (const { state, messageId, via, silent, ...r } of rows) {
        if (state !== "sent" || messageId === null) continue;
        out.push({ ...r, messageId, via: via ?? "single", silent: silent === 1 });
      }
    }
    return out;
  }

  /**
   * The delivered copy of an incident in one chat, if any (used to check a button press is genuine). With
   * `messageId`, the copy that is that message. Without, the one that has buttons: its single-message
   * copy, else the latest card /inc sent there (a digest line has no buttons; after a digest, /inc_N is how
   * the card comes), else its digest copy.
   */
  async copyIn(incidentId: string, chatId: number, messageId?: number): Promise<DeliveredCopy | undefined> {
    const own = (await this.copies(incidentId)).find(
      (c) => c.chatId === chatId && (messageId === undefined || c.messageId === messageId),
    );
    if (own && own.via !== "digest") return own;
    let query = this.db
      .selectFrom("lookup_copies")
      .select(["id", "incident_id", "chat_id", "message_id", "rendered_version"])
      .where("incident_id", "=", incidentId)
      .where("chat_id", "=", chatId);
    if (messageId !== undefined) query = query.where("message_id", "=", messageId);
    const row = await query.orderBy("id", "desc").limit(1).executeTakeFirst();
    return row ? lookupCopyOf(row) : own;
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
      "outbox.silent as silent",
    ]);
    if (chatId !== null) query = query.where("outbox.chat_id", "=", chatId);
    const rows = await query.orderBy("outbox.id").limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      messageId: r.messageId!,
      via: r.via ?? "single",
      silent: r.silent === 1,
    }));
  }

  /**
   * Cards /inc sent (and escalations) that show an older version than the store has: in a chat the bot
   * still serves, or one it never stored (an admin's private chat, an escalation chat set by id alone). A
   * chat that was banned is not edited; one that moved took its cards with it (chats.migrate drops them).
   */
  private staleLookupQuery() {
    return this.db
      .selectFrom("lookup_copies")
      .innerJoin("incidents", "incidents.id", "lookup_copies.incident_id")
      .leftJoin("chats", "chats.id", "lookup_copies.chat_id")
      .whereRef("lookup_copies.rendered_version", "<", "incidents.version")
      .where((eb) =>
        eb.or([
          eb("chats.id", "is", null),
          eb.and([eb("chats.state", "!=", "banned"), eb("chats.active", "=", 1)]),
        ]),
      );
  }

  private async staleLookups(chatId: number | null, limit: number): Promise<StaleCopy[]> {
    let query = this.staleLookupQuery().select([
      "lookup_copies.id as id",
      "lookup_copies.incident_id as incidentId",
      "lookup_copies.chat_id as chatId",
      "lookup_copies.message_id as messageId",
      "lookup_copies.rendered_version as renderedVersion",
      "incidents.version as version",
      "chats.kind as chatKind",
    ]);
    if (chatId !== null) query = query.where("lookup_copies.chat_id", "=", chatId);
    const rows = await query.orderBy("lookup_copies.id").limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      via: "lookup" as const,
      silent: false,
      chatKind: r.chatKind ?? (r.chatId > 0 ? "private" : "supergroup"),
    }));
  }

  /** Copies (single messages, and cards /inc sent) that show an older version of their incident than the store has. */
  async staleCopies(limit = 500): Promise<StaleCopy[]> {
    const single = await this.staleRows(null, limit);
    return [...single, ...(await this.staleLookups(null, limit - single.length))];
  }

  /** Chats (receiving now) that hold at least one stale copy: a single message, a card /inc sent, a digest. */
  async staleChatIds(): Promise<number[]> {
    const single = await this.staleQuery().select("outbox.chat_id as chatId").distinct().execute();
    const lookup = await this.staleLookupQuery()
      .select("lookup_copies.chat_id as chatId")
      .distinct()
      .execute();
    const digest = await this.staleDigestQuery().select("outbox.chat_id as chatId").distinct().execute();
    return [...new Set([...single, ...lookup, ...digest].map((r) => r.chatId))];
  }

  /** The same as staleCopies, for one chat (delivery edits each chat's copies in its own lane). */
  async staleCopiesForChat(chatId: number, limit = 100): Promise<StaleCopy[]> {
    const single = await this.staleRows(chatId, limit);
    if (single.length >= limit) return single;
    return [...single, ...(await this.staleLookups(chatId, limit - single.length))];
  }

  /** A card /inc sent into a chat: from now on it is edited like any other copy. */
  async addLookupCopy(copy: {
    incidentId: string;
    chatId: number;
    threadId: number | null;
    messageId: number;
    renderedVersion: number;
    askedBy: number | null;
  }): Promise<void> {
    await this.fence.run((db) =>
      db
        .insertInto("lookup_copies")
        .values({
          incident_id: copy.incidentId,
          chat_id: copy.chatId,
          thread_id: copy.threadId,
          message_id: copy.messageId,
          rendered_version: copy.renderedVersion,
          asked_by: copy.askedBy,
          created_at: this.now(),
        })
        .execute(),
    );
  }

  /** The cards /inc sent, for tests and /debug. */
  async lookupCopies(incidentId: string): Promise<DeliveredCopy[]> {
    const rows = await this.db
      .selectFrom("lookup_copies")
      .select(["id", "incident_id", "chat_id", "message_id", "rendered_version"])
      .where("incident_id", "=", incidentId)
      .orderBy("id")
      .execute();
    return rows.map(lookupCopyOf);
  }

  // ---- digests: which incidents a message holds, and editing it when one of them changes ----------

  /** Digest rows whose incident changed since the message was last rendered, in chats that receive now. */
  private staleDigestQuery() {
    return this.db
      .selectFrom("outbox")
      .innerJoin("chats", "chats.id", "outbox.chat_id")
      .where("outbox.state", "=", "sent")
      .where("outbox.via", "=", "digest")
      .whereRef("outbox.rendered_version", "<", "outbox.incident_version")
      .where("chats.state", "=", "allowed")
      .where("chats.active", "=", 1);
  }

  /** The chat's digest messages with at least one line to bring up to date, oldest first. */
  async staleDigestsForChat(chatId: number, limit = 20): Promise<StaleDigest[]> {
    const messages = await this.staleDigestQuery()
      .select(["outbox.message_id as messageId", "chats.kind as chatKind"])
      .where("outbox.chat_id", "=", chatId)
      .groupBy(["outbox.message_id", "chats.kind"])
      .orderBy("outbox.message_id")
      .limit(limit)
      .execute();
    const out: StaleDigest[] = [];
    for (const m of messages) {
      if (m.messageId === null) continue;
      out.push(await this.digestMessage(chatId, m.messageId, m.chatKind));
    }
    return out;
  }

  /** Everything about one digest message: its rows in line order, and what it last showed. */
  private async digestMessage(chatId: number, messageId: number, chatKind: ChatKind): Promise<StaleDigest> {
    const record = await this.db
      .selectFrom("digest_messages")
      .selectAll()
      .where("chat_id", "=", chatId)
      .where("message_id", "=", messageId)
      .executeTakeFirst();
    let order: string[] | null = null;
    if (record) {
      try {
        const stored = JSON.parse(record.incident_ids) as unknown;
        if (Array.isArray(stored)) order = stored.filter((id): id is string => typeof id === "string");
      } catch {
        // A broken record: the rows' own order is as good.
      }
    }
    let query = this.db
      .selectFrom("outbox")
      .select(["id", "incident_id as incidentId", "silent", "incident_version as version"])
      .where("chat_id", "=", chatId)
      .where("message_id", "=", messageId)
      .where("state", "=", "sent")
      .where("via", "=", "digest");
    // By (incident, chat), the outbox's own key, when the message's lines are known: no walk over the
    // chat's delivered rows. Lane order (rank, then id) is the order a digest took its rows in.
    if (order !== null && order.length > 0) query = query.where("incident_id", "in", order);
    const rows = await query.orderBy("rank").orderBy("id").execute();
    const byIncident = new Map(rows.map((r) => [r.incidentId, r]));
    const lines = order === null ? rows.map((r) => r.incidentId) : order.filter((id) => byIncident.has(id));
    return {
      chatId,
      messageId,
      chatKind,
      rows: lines.map((id) => {
        const r = byIncident.get(id)!;
        return { id: r.id, incidentId: r.incidentId, version: r.version };
      }),
      silent: record ? record.silent === 1 : rows.length > 0 && rows.every((r) => r.silent === 1),
      shownHash: record?.shown_hash ?? null,
    };
  }

  /**
   * A digest went out: its rows are sent (each showing the version it was rendered at), and the message
   * remembers its lines in order and what it showed. One transaction: a crash records all or nothing.
   */
  async markDigestSent(digest: {
    chatId: number;
    messageId: number;
    rows: ReadonlyArray<{ id: number; incidentId: string; version: number }>;
    silent: boolean;
    shownHash: string;
  }): Promise<void> {
    const now = this.now();
    await this.fence.transaction(async (trx) => {
      const byVersion = new Map<number, number[]>();
      for (const r of digest.rows) byVersion.set(r.version, [...(byVersion.get(r.version) ?? []), r.id]);
      for (const [version, ids] of byVersion) {
        await trx
          .updateTable("outbox")
          .set({
            state: "sent",
            message_id: digest.messageId,
            via: "digest",
            rendered_version: version,
            sent_at: now,
            last_error: null,
          })
          .where("id", "in", ids)
          .where("state", "=", "pending")
          .execute();
      }
      const values = {
        incident_ids: JSON.stringify(digest.rows.map((r) => r.incidentId)),
        silent: digest.silent ? 1 : 0,
        shown_hash: digest.shownHash,
      };
      await trx
        .insertInto("digest_messages")
        .values({ chat_id: digest.chatId, message_id: digest.messageId, created_at: now, ...values })
        .onConflict((oc) => oc.columns(["chat_id", "message_id"]).doUpdateSet(values))
        .execute();
    });
  }

  /** A digest message was brought up to date (or found not to need it): its rows show these versions. */
  async digestShown(
    chatId: number,
    messageId: number,
    rows: ReadonlyArray<{ id: number; version: number }>,
    shownHash: string,
  ): Promise<void> {
    await this.fence.transaction(async (trx) => {
      for (const r of rows) {
        await trx.updateTable("outbox").set({ rendered_version: r.version }).where("id", "=", r.id).execute();
      }
      await trx
        .updateTable("digest_messages")
        .set({ shown_hash: shownHash })
        .where("chat_id", "=", chatId)
        .where("message_id", "=", messageId)
        .execute();
    });
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

  /** The copy now shows `version` (`via: "lookup"`: a card /inc sent; else an outbox row). */
  async setRenderedVersion(id: number, version: number, via: CopyVia = "single"): Promise<void> {
    if (via === "lookup") {
      await this.fence.run((db) =>
        db.updateTable("lookup_copies").set({ rendered_version: version }).where("id", "=", id).execute(),
      );
      return;
    }
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
