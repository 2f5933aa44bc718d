// Chats the bot knows: who receives incidents, who is waiting for an admin, who is banned.
import { randomUUID } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import { ROUTING_GENERATION_KEY } from "./routing-rules.js";
import type { ChatKind, ChatState, ChatsTable, Database } from "./schema.js";

export type Chat = Selectable<ChatsTable>;

export interface ChatIdentity {
  id: number;
  kind: ChatKind;
  title?: string | null;
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

export class ChatsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async get(id: number): Promise<Chat | undefined> {
    return this.db.selectFrom("chats").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Records what Telegram told us about a chat; a new chat starts as `pending`, a known one keeps its state. */
  async remember(identity: ChatIdentity): Promise<Chat> {
    const now = this.now();
    await this.db
      .insertInto("chats")
      .values({
        id: identity.id,
        kind: identity.kind,
        title: identity.title ?? null,
        username: identity.username ?? null,
        first_name: identity.firstName ?? null,
        last_name: identity.lastName ?? null,
        thread_id: null,
        state: "pending",
        active: 1,
        inactive_reason: null,
        created_at: now,
        state_changed_at: now,
        state_changed_by: null,
      })
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({
          kind: identity.kind,
          title: identity.title ?? null,
          username: identity.username ?? null,
          first_name: identity.firstName ?? null,
          last_name: identity.lastName ?? null,
        }),
      )
      .execute();
    return (await this.get(identity.id))!;
  }

  /** Changes the state; returns the chat before the change (undefined if unknown). */
  async setState(id: number, state: ChatState, by: number | null): Promise<Chat | undefined> {
    const before = await this.get(id);
    if (!before) return undefined;
    const values: Partial<ChatsTable> = { state, state_changed_at: this.now(), state_changed_by: by };
    // Allowing a chat means the admin wants it to receive: it is active again.
    if (state === "allowed") Object.assign(values, { active: 1, inactive_reason: null });
    await this.db.updateTable("chats").set(values).where("id", "=", id).execute();
    return before;
  }

  /** Creates an unknown chat in the given state (admin commands may name a chat the bot never saw). */
  async ensure(id: number, state: ChatState, by: number | null): Promise<Chat> {
    const existing = await this.get(id);
    if (existing) {
      await this.setState(id, state, by);
      return (await this.get(id))!;
    }
    const now = this.now();
    await this.db
      .insertInto("chats")
      .values({
        id,
        kind: id > 0 ? "private" : "supergroup",
        title: null,
        username: null,
        first_name: null,
        last_name: null,
        thread_id: null,
        state,
        active: 1,
        inactive_reason: null,
        created_at: now,
        state_changed_at: now,
        state_changed_by: by,
      })
      .execute();
    return (await this.get(id))!;
  }

  async setActive(id: number, active: boolean, reason: string | null): Promise<Chat | undefined> {
    const before = await this.get(id);
    if (!before) return undefined;
    await this.db
      .updateTable("chats")
      .set({ active: active ? 1 : 0, inactive_reason: active ? null : reason })
      .where("id", "=", id)
      .execute();
    return before;
  }

  /**
   * The chat stops receiving for `reason` (active = 0), in one transaction with what happens to its
   * undelivered rows: dropped (`keepUndelivered` false: the bot was removed, blocked, or the chat is
   * gone) or kept for when it receives again (true: the bot may not post there for now). Returns the
   * chat as it was before — whoever sees it change from receiving tells the admins, so they hear once
   * even when the bot's update and a failed send report the same change at the same moment.
   */
  async stopReceiving(
    id: number,
    reason: string,
    opts: { keepUndelivered: boolean },
  ): Promise<{ before: Chat | undefined; cancelled: number }> {
    return this.db.transaction().execute(async (trx) => {
      const read = await trx.selectFrom("chats").selectAll().where("id", "=", id).executeTakeFirst();
      if (!read) return { before: undefined, cancelled: 0 };
      // Only one of several simultaneous reports may see the chat change: the update is conditional, and on
      // PostgreSQL a second one waits for the first's row lock and then finds it inactive already (the read
      // above, without a lock, may have seen it active in both).
      const changed = await trx
        .updateTable("chats")
        .set({ active: 0, inactive_reason: reason.slice(0, 500) })
        .where("id", "=", id)
        .where("active", "=", 1)
        .executeTakeFirst();
      const madeInactive = Number(changed.numUpdatedRows) > 0;
      if (!madeInactive) {
        await trx
          .updateTable("chats")
          .set({ inactive_reason: reason.slice(0, 500) })
          .where("id", "=", id)
          .execute();
      }
      const before: Chat = madeInactive ? read : { ...read, active: 0 };
      if (opts.keepUndelivered) return { before, cancelled: 0 };
      const res = await trx
        .updateTable("outbox")
        .set({ state: "cancelled", last_error: reason.slice(0, 500) })
        .where("chat_id", "=", id)
        .where("state", "=", "pending")
        .executeTakeFirst();
      return { before, cancelled: Number(res.numUpdatedRows) };
    });
  }

  async setThread(id: number, threadId: number | null): Promise<void> {
    await this.db.updateTable("chats").set({ thread_id: threadId }).where("id", "=", id).execute();
  }

  /**
   * A group became a supergroup: its record (state, topic), its undelivered outbox rows, its filters and
   * its mutes move to the new id. Returns false when the old chat is unknown.
   */
  async migrate(oldId: number, newId: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const old = await trx.selectFrom("chats").selectAll().where("id", "=", oldId).executeTakeFirst();
      if (!old) return false;
      const existing = await trx.selectFrom("chats").select("id").where("id", "=", newId).executeTakeFirst();
      if (existing) {
        await trx
          .updateTable("chats")
          .set({ state: old.state, active: old.active, thread_id: old.thread_id, kind: "supergroup" })
          .where("id", "=", newId)
          .execute();
      } else {
        await trx
          .insertInto("chats")
          .values({ ...old, id: newId, kind: "supergroup" })
          .execute();
      }
      // Only undelivered rows move (unless the new chat already has the incident). Delivered ones stay with
      // the old id, where nothing edits them: the old group's messages cannot be edited any more, and the
      // same message ids in the supergroup belong to other messages.
      await trx
        .updateTable("outbox")
        .set({ chat_id: newId })
        .where("chat_id", "=", oldId)
        .where("state", "=", "pending")
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("outbox as o2")
                .select("o2.id")
                .whereRef("o2.incident_id", "=", "outbox.incident_id")
                .where("o2.chat_id", "=", newId),
            ),
          ),
        )
        .execute();
      // Its routing goes with it: filters and topics (unless the new id has its own), and mutes.
      const ownFilters = await trx
        .selectFrom("chat_filters")
        .select("chat_id")
        .where("chat_id", "=", newId)
        .executeTakeFirst();
      if (!ownFilters) {
        await trx.updateTable("chat_filters").set({ chat_id: newId }).where("chat_id", "=", oldId).execute();
      }
      await trx.updateTable("mutes").set({ chat_id: newId }).where("chat_id", "=", oldId).execute();
      // Cards /inc (and escalations) sent to the old group cannot be edited any more either.
      await trx.deleteFrom("lookup_copies").where("chat_id", "=", oldId).execute();
      const generation = randomUUID();
      await trx
        .insertInto("settings")
        .values({ key: ROUTING_GENERATION_KEY, value: generation })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value: generation }))
        .execute();
      await trx.deleteFrom("chats").where("id", "=", oldId).execute();
      return true;
    });
  }

  async list(states?: ChatState[]): Promise<Chat[]> {
    let q = this.db.selectFrom("chats").selectAll();
    if (states && states.length > 0) q = q.where("state", "in", states);
    return q.orderBy("state_changed_at").orderBy("id").execute();
  }

  /** Chats that receive incidents now. */
  async recipients(): Promise<Chat[]> {
    return this.db
      .selectFrom("chats")
      .selectAll()
      .where("state", "=", "allowed")
      .where("active", "=", 1)
      .orderBy("id")
      .execute();
  }
}
