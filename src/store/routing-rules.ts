// Routing rules as stored (routing's tables, migration 0006): each chat's destinations with their filters,
// silent rules and active hours, written from Telegram (/filter) or the config file (routes:), and the mutes.
// Matchers are kept as the canonical text src/routing wrote; this repository never parses them.
//
// Every change also writes a new generation token (settings "routing.generation") in the same
// transaction: intake reloads the rules only when the token changed, so it reads them once per change,
// not once per poll or per incident. Not fenced: any instance may handle an admin's command (webhook mode).
// Only the mute-end summary's claim is the leader's write (delivery sends the line), fenced like its others.

import { randomUUID } from "node:crypto";
import type { Kysely, Selectable, Transaction } from "kysely";
import type { Fence } from "./fence.js";
import type { ChatFiltersTable, ChatState, Database, MutesTable } from "./schema.js";

export const ROUTING_GENERATION_KEY = "routing.generation";
/** thread_id 0: the chat's own thread (a chat's or a whole-chat mute's). */
const OWN_THREAD = 0;

export interface StoredDestination {
  chatId: number;
  /** null: the chat's own thread. */
  threadId: number | null;
  position: number;
  /** Canonical matchers; "" everything, "none" nothing. */
  filter: string;
  silent: string;
  activeHours: string[];
  managedByConfig: boolean;
  updatedAt: number;
  updatedBy: number | null;
}

export interface StoredMute {
  id: number;
  chatId: number;
  /** null: the whole chat. */
  threadId: number | null;
  matchers: string;
  startsAt: number;
  endsAt: number;
  createdBy: number | null;
  createdByName: string | null;
  comment: string | null;
  createdAt: number;
  endedAt: number | null;
  endedBy: number | null;
  summarySentAt: number | null;
}

/** A mute over whose summary line has not gone out, with the chat it goes to as the store knows it. */
export interface DueMuteSummary extends StoredMute {
  /** null: the chat is not in the store (nowhere to send). */
  chatState: ChatState | null;
  /** The chat's own thread (its topic), where a whole-chat mute's line goes. */
  chatThreadId: number | null;
}

/** A route of the config file, as the store keeps it. */
export interface ConfigRoute {
  chatId: number;
  threadId: number | null;
  filter: string;
  silent: string;
  activeHours: string[];
}

export interface ConfigSync {
  /** Chats the file names that the store did not know or that did not receive: now allowed. */
  allowed: number[];
  /** Chats the file names that an admin banned: they stay banned (the file does not override a ban). */
  banned: number[];
  /** Chats the file no longer names: their routes are gone and they stop receiving (denied). */
  removed: number[];
}

export interface NewMute {
  chatId: number;
  threadId: number | null;
  matchers: string;
  startsAt: number;
  endsAt: number;
  createdBy: number | null;
  createdByName: string | null;
  comment: string | null;
}

export interface RowRouting {
  incidentId: string;
  chatId: number;
  threadId: number | null;
  silent: boolean;
  muteId: number | null;
  state: string;
  createdAt: number;
}

const toThread = (stored: number): number | null => (stored === OWN_THREAD ? null : stored);
const fromThread = (threadId: number | null): number => threadId ?? OWN_THREAD;

function parseHours(json: string): string[] {
  try {
    const value = JSON.parse(json) as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

function toDestination(r: Selectable<ChatFiltersTable>): StoredDestination {
  return {
    chatId: r.chat_id,
    threadId: toThread(r.thread_id),
    position: r.position,
    filter: r.matchers,
    silent: r.silent_matchers,
    activeHours: parseHours(r.active_hours),
    managedByConfig: r.managed_by_config === 1,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

function toMute(r: Selectable<MutesTable>): StoredMute {
  return {
    id: r.id,
    chatId: r.chat_id,
    threadId: toThread(r.thread_id),
    matchers: r.matchers,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    createdBy: r.created_by,
    createdByName: r.created_by_name,
    comment: r.comment,
    createdAt: r.created_at,
    endedAt: r.ended_at,
    endedBy: r.ended_by,
    summarySentAt: r.summary_sent_at,
  };
}

export class RoutingRulesRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    /** Fences the summary claims (the leader's); the rest of the rules are anyone's to write. */
    private readonly fence: Fence,
  ) {}

  private async touch(trx: Transaction<Database>): Promise<void> {
    const value = randomUUID();
    await trx
      .insertInto("settings")
      .values({ key: ROUTING_GENERATION_KEY, value })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
      .execute();
  }

  /** Changes whenever a filter, route or mute changes; null before the first change. */
  async generation(): Promise<string | null> {
    const row = await this.db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", ROUTING_GENERATION_KEY)
      .executeTakeFirst();
    return row?.value ?? null;
  }

  /**
   * Everything the decision needs, read in one transaction with its generation: every destination, and
   * the mutes not over at `now` (a mute that ends later is left out by the decision itself).
   */
  async load(now: number): Promise<{
    generation: string | null;
    destinations: StoredDestination[];
    mutes: StoredMute[];
  }> {
    return this.db.transaction().execute(async (trx) => {
      const gen = await trx
        .selectFrom("settings")
        .select("value")
        .where("key", "=", ROUTING_GENERATION_KEY)
        .executeTakeFirst();
      const destinations = await trx
        .selectFrom("chat_filters")
        .selectAll()
        .orderBy("chat_id")
        .orderBy("position")
        .orderBy("thread_id")
        .execute();
      const mutes = await trx
        .selectFrom("mutes")
        .selectAll()
        .where("ended_at", "is", null)
        .where("ends_at", ">", now)
        .orderBy("id")
        .execute();
      return {
        generation: gen?.value ?? null,
        destinations: destinations.map(toDestination),
        mutes: mutes.map(toMute),
      };
    });
  }

  /** A chat's destinations in the order they are tried (its own thread is tried last by routing). */
  async destinationsOf(chatId: number): Promise<StoredDestination[]> {
    const rows = await this.db
      .selectFrom("chat_filters")
      .selectAll()
      .where("chat_id", "=", chatId)
      .orderBy("position")
      .orderBy("thread_id")
      .execute();
    return rows.map(toDestination);
  }

  /** Every chat's destinations (for /accepted). */
  async allDestinations(): Promise<Map<number, StoredDestination[]>> {
    const rows = await this.db
      .selectFrom("chat_filters")
      .selectAll()
      .orderBy("chat_id")
      .orderBy("position")
      .orderBy("thread_id")
      .execute();
    const out = new Map<number, StoredDestination[]>();
    for (const row of rows) {
      const list = out.get(row.chat_id) ?? [];
      list.push(toDestination(row));
      out.set(row.chat_id, list);
    }
    return out;
  }

  async isManagedByConfig(chatId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom("chat_filters")
      .select("chat_id")
      .where("chat_id", "=", chatId)
      .where("managed_by_config", "=", 1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Sets the filter of one destination of a chat managed from Telegram (a new topic is tried after the
   * chat's other topics). "managed": the config file owns the chat's routes; nothing changed.
   */
  async setFilter(
    chatId: number,
    threadId: number | null,
    matchers: string,
    by: number | null,
  ): Promise<"created" | "updated" | "managed"> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom("chat_filters")
        .select(["thread_id", "position", "managed_by_config"])
        .where("chat_id", "=", chatId)
        .execute();
      if (rows.some((r) => r.managed_by_config === 1)) return "managed";
      const thread = fromThread(threadId);
      const existing = rows.find((r) => r.thread_id === thread);
      if (existing) {
        await trx
          .updateTable("chat_filters")
          .set({ matchers, updated_at: now, updated_by: by })
          .where("chat_id", "=", chatId)
          .where("thread_id", "=", thread)
          .execute();
      } else {
        const position = rows.reduce((max, r) => Math.max(max, r.position + 1), 0);
        await trx
          .insertInto("chat_filters")
          .values({
            chat_id: chatId,
            thread_id: thread,
            position,
            matchers,
            silent_matchers: "",
            active_hours: "[]",
            managed_by_config: 0,
            updated_at: now,
            updated_by: by,
          })
          .execute();
      }
      await this.touch(trx);
      return existing ? "updated" : "created";
    });
  }

  /**
   * `/filter off`: the chat's own thread gets everything again; a topic stops being a destination.
   * "none": there was nothing to clear; "managed": the config file owns the chat's routes.
   */
  async clearFilter(chatId: number, threadId: number | null): Promise<"cleared" | "none" | "managed"> {
    return this.db.transaction().execute(async (trx) => {
      const managed = await trx
        .selectFrom("chat_filters")
        .select("chat_id")
        .where("chat_id", "=", chatId)
        .where("managed_by_config", "=", 1)
        .executeTakeFirst();
      if (managed) return "managed";
      const res = await trx
        .deleteFrom("chat_filters")
        .where("chat_id", "=", chatId)
        .where("thread_id", "=", fromThread(threadId))
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) return "none";
      await this.touch(trx);
      return "cleared";
    });
  }

  /**
   * Makes the store hold exactly the config file's routes: every route row is replaced, the chats named
   * are allowed (except a banned one), and a chat the file no longer names stops receiving. A chat's
   * filters set from Telegram give way to the file's routes for it.
   */
  async syncConfigRoutes(routes: readonly ConfigRoute[]): Promise<ConfigSync> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom("chat_filters")
        .select("chat_id")
        .where("managed_by_config", "=", 1)
        .distinct()
        .execute();
      const named = [...new Set(routes.map((r) => r.chatId))];
      const removed = before
        .map((r) => r.chat_id)
        .filter((id) => !named.includes(id))
        .sort((a, b) => a - b);
      const current = await trx
        .selectFrom("chat_filters")
        .select(["chat_id", "thread_id", "position", "matchers", "silent_matchers", "active_hours"])
        .where("managed_by_config", "=", 1)
        .orderBy("chat_id")
        .orderBy("position")
        .execute();
      await trx.deleteFrom("chat_filters").where("managed_by_config", "=", 1).execute();
      // Filters set from Telegram for a chat the file now names give way to the file's routes.
      const tookOver =
        named.length === 0
          ? 0
          : Number(
              (await trx.deleteFrom("chat_filters").where("chat_id", "in", named).executeTakeFirst())
                .numDeletedRows,
            );
      const positions = new Map<number, number>();
      const rows = routes.map((r) => {
        const position = positions.get(r.chatId) ?? 0;
        positions.set(r.chatId, position + 1);
        return {
          chat_id: r.chatId,
          thread_id: fromThread(r.threadId),
          position,
          matchers: r.filter,
          silent_matchers: r.silent,
          active_hours: JSON.stringify(r.activeHours),
          managed_by_config: 1,
          updated_at: now,
          updated_by: null,
        };
      });
      if (rows.length > 0) await trx.insertInto("chat_filters").values(rows).execute();

      const allowed: number[] = [];
      const banned: number[] = [];
      for (const chatId of named) {
        const chat = await trx
          .selectFrom("chats")
          .select("state")
          .where("id", "=", chatId)
          .executeTakeFirst();
        if (chat?.state === "banned") {
          banned.push(chatId);
          continue;
        }
        if (chat?.state === "allowed") continue;
        allowed.push(chatId);
        if (chat) {
          await trx
            .updateTable("chats")
            .set({
              state: "allowed",
              active: 1,
              inactive_reason: null,
              state_changed_at: now,
              state_changed_by: null,
            })
            .where("id", "=", chatId)
            .execute();
        } else {
          await trx
            .insertInto("chats")
            .values({
              id: chatId,
              kind: chatId > 0 ? "private" : "supergroup",
              title: null,
              username: null,
              first_name: null,
              last_name: null,
              thread_id: null,
              state: "allowed",
              active: 1,
              inactive_reason: null,
              created_at: now,
              state_changed_at: now,
              state_changed_by: null,
            })
            .execute();
        }
      }
      for (const chatId of removed) {
        await trx
          .updateTable("chats")
          .set({ state: "denied", state_changed_at: now, state_changed_by: null })
          .where("id", "=", chatId)
          .where("state", "=", "allowed")
          .execute();
      }
      const key = (r: { chat_id: number; thread_id: number; position: number } & Record<string, unknown>) =>
        [r.chat_id, r.thread_id, r.position, r.matchers, r.silent_matchers, r.active_hours].join("|");
      const same =
        removed.length === 0 &&
        allowed.length === 0 &&
        tookOver === 0 &&
        current.map(key).sort().join("\n") === rows.map(key).sort().join("\n");
      if (!same) await this.touch(trx);
      return { allowed, banned, removed };
    });
  }

  // ---- mutes ----

  /**
   * Adds a mute unless the chat already has `maxActive` ones running at `now` (the caller's clock, the one
   * its start and end come from); then null.
   */
  async addMute(mute: NewMute, maxActive: number, now: number = this.now()): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const running = await trx
        .selectFrom("mutes")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("chat_id", "=", mute.chatId)
        .where("ended_at", "is", null)
        .where("ends_at", ">", now)
        .executeTakeFirstOrThrow();
      if (Number(running.n) >= maxActive) return null;
      const row = await trx
        .insertInto("mutes")
        .values({
          chat_id: mute.chatId,
          thread_id: fromThread(mute.threadId),
          matchers: mute.matchers,
          starts_at: mute.startsAt,
          ends_at: mute.endsAt,
          created_by: mute.createdBy,
          created_by_name: mute.createdByName,
          comment: mute.comment,
          created_at: now,
          ended_at: null,
          ended_by: null,
          summary_sent_at: null,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await this.touch(trx);
      return row.id;
    });
  }

  /** A chat's mutes running at `now` (every topic's too), oldest first. */
  async activeMutes(chatId: number, now: number): Promise<StoredMute[]> {
    const rows = await this.db
      .selectFrom("mutes")
      .selectAll()
      .where("chat_id", "=", chatId)
      .where("ended_at", "is", null)
      .where("ends_at", ">", now)
      .orderBy("id")
      .execute();
    return rows.map(toMute);
  }

  /** Every mute running at `now`, by chat (for /accepted). */
  async allActiveMutes(now: number): Promise<Map<number, StoredMute[]>> {
    const rows = await this.db
      .selectFrom("mutes")
      .selectAll()
      .where("ended_at", "is", null)
      .where("ends_at", ">", now)
      .orderBy("id")
      .execute();
    const out = new Map<number, StoredMute[]>();
    for (const row of rows) {
      const list = out.get(row.chat_id) ?? [];
      list.push(toMute(row));
      out.set(row.chat_id, list);
    }
    return out;
  }

  /** /unmute: ends every mute of the chat running at `now` (the caller's clock). Returns the ones it ended. */
  async endMutes(chatId: number, by: number | null, now: number = this.now()): Promise<number[]> {
    return this.db.transaction().execute(async (trx) => {
      const ended = await trx
        .updateTable("mutes")
        .set({ ended_at: now, ended_by: by })
        .where("chat_id", "=", chatId)
        .where("ended_at", "is", null)
        .where("ends_at", ">", now)
        .returning("id")
        .execute();
      if (ended.length > 0) await this.touch(trx);
      return ended.map((r) => r.id).sort((a, b) => a - b);
    });
  }

  /**
   * Mutes over at `now` (their end time passed, or /unmute ended them by then) whose summary has not been
   * claimed yet, oldest first. A chat that is allowed but paused (the bot may not post there, or it is out
   * of reach) keeps its summaries for when it receives again: they are left out until then.
   */
  async dueSummaries(now: number, limit = 50): Promise<DueMuteSummary[]> {
    const rows = await this.db
      .selectFrom("mutes")
      .leftJoin("chats", "chats.id", "mutes.chat_id")
      .selectAll("mutes")
      .select(["chats.state as chat_state", "chats.active as chat_active", "chats.thread_id as chat_thread"])
      .where("mutes.summary_sent_at", "is", null)
      .where((eb) => eb.or([eb("mutes.ends_at", "<=", now), eb("mutes.ended_at", "<=", now)]))
      .where((eb) =>
        eb.or([eb("chats.id", "is", null), eb("chats.state", "!=", "allowed"), eb("chats.active", "=", 1)]),
      )
      .orderBy("mutes.id")
      .limit(limit)
      .execute();
    return rows.map((r) => {
      const { chat_state, chat_active: _active, chat_thread, ...mute } = r;
      return { ...toMute(mute), chatState: chat_state, chatThreadId: chat_thread };
    });
  }

  /**
   * Claims the summaries of these mutes for sending: only one caller gets each (the summary goes out at
   * most once, across restarts and instances). The leader's write: fenced on its epoch, so a leader that
   * lost its lease claims nothing. Returns the ids this caller claimed.
   */
  async claimSummaries(ids: readonly number[], at: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.fence.run((db) =>
      db
        .updateTable("mutes")
        .set({ summary_sent_at: at })
        .where("id", "in", [...ids])
        .where("summary_sent_at", "is", null)
        .returning("id")
        .execute(),
    );
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  /** Gives a claim back (the line was not sent, for a reason that may pass): it is tried again later. */
  async releaseSummaries(ids: readonly number[], claimedAt: number): Promise<void> {
    if (ids.length === 0) return;
    await this.fence.run((db) =>
      db
        .updateTable("mutes")
        .set({ summary_sent_at: null })
        .where("id", "in", [...ids])
        .where("summary_sent_at", "=", claimedAt)
        .execute(),
    );
  }

  /** How many outbox rows each mute made silent. */
  async mutedCounts(ids: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>(ids.map((id) => [id, 0]));
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectFrom("outbox")
      .select(["mute_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("mute_id", "in", [...ids])
      .groupBy("mute_id")
      .execute();
    for (const r of rows) if (r.mute_id !== null) out.set(r.mute_id, Number(r.n));
    return out;
  }

  /** How each of these incidents was queued, per chat (tests, and the chaos run's checker). */
  async rowsOf(incidentIds: readonly string[]): Promise<RowRouting[]> {
    const out: RowRouting[] = [];
    for (let i = 0; i < incidentIds.length; i += 500) {
      const chunk = incidentIds.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await this.db
        .selectFrom("outbox")
        .select(["incident_id", "chat_id", "thread_id", "silent", "mute_id", "state", "created_at", "id"])
        .where("incident_id", "in", chunk)
        .orderBy("id")
        .execute();
      for (const r of rows) {
        out.push({
          incidentId: r.incident_id,
          chatId: r.chat_id,
          threadId: r.thread_id,
          silent: r.silent === 1,
          muteId: r.mute_id,
          state: r.state,
          createdAt: r.created_at,
        });
      }
    }
    return out;
  }
}
