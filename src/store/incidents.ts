// Incidents the service has seen, what their messages show, and the intake watermark.
// `ingest` is the one place where new incidents enter: atomically with their outbox rows and the watermark,
// so a crash can never advance the watermark past an incident that was not queued.

import type { Kysely, Selectable, Transaction } from "kysely";
import type { IncidentDetails, IncidentEvent, IncidentSummary } from "../siem/types.js";
import type { Chat } from "./chats.js";
import type { Fence } from "./fence.js";
import { severityRank } from "./outbox.js";
import { type ReminderNote, readNote } from "./reminders.js";
import type { Database, IncidentsTable } from "./schema.js";

/** The last status change of an incident and who made it ("SIEM" when made in the SIEM UI). */
export interface ActionLine {
  status: string;
  by: string;
  at: Date;
  /**
   * A change made through the bot that the SIEM's read model has not shown yet: until it does, a read
   * that still shows the earlier status is the read model lagging, not news.
   */
  pending?: boolean;
  /** The SIEM's own clock when the change was made (its Date header), to tell later changes from lag. */
  siemAt?: Date | null;
}

/** What the card shows from the details beyond the list item (issue 14). */
export interface IncidentExtras {
  assignee: { id: string; name: string } | null;
  rules: string[];
  targets: string[];
  attackers: string[];
}

/** One action taken through the bot, for the card's short history. */
export interface BotAction {
  action: "approve" | "take" | "resolve" | "close";
  /** The close reason ("false_positive", "duplicate", …); null for other actions. */
  reason: string | null;
  by: string;
  at: Date;
}

/** How many bot actions an incident keeps (the card shows them all). */
export const BOT_ACTIONS_KEPT = 5;

/** The extras of a details read; undefined for a list item (which has none). */
export function extrasOf(details: IncidentSummary | Partial<IncidentDetails>): IncidentExtras | undefined {
  const d = details as Partial<IncidentDetails>;
  if (!Array.isArray(d.correlationRules)) return undefined;
  return {
    assignee: d.assignee ? { id: d.assignee.id, name: d.assignee.name } : null,
    rules: d.correlationRules,
    targets: d.targets ?? [],
    attackers: d.attackers ?? [],
  };
}

function extrasJson(extras: IncidentExtras | undefined): string | null {
  return extras ? JSON.stringify(extras) : null;
}

function readJsonColumn<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** What a read from the SIEM should leave as the stored status and last action. */
export interface StatusDecision {
  status: string;
  /** undefined: keep the stored one. */
  lastAction?: ActionLine | null;
}

/** Decides, inside the write's transaction, how a fresh read and the stored state combine. */
export type Reconcile = (
  current: StoredIncident,
  read: { status: string; modified: Date | null },
) => StatusDecision;

/** Details and first events read for an incident before it is stored. */
export interface IncidentRead {
  details: IncidentDetails;
  events: { events: IncidentEvent[]; total: number };
}

export interface StoredIncident {
  id: string;
  key: string;
  name: string;
  severity: string;
  status: string;
  type: string;
  category: string;
  description: string | null;
  created: Date;
  modified: Date | null;
  firstSeenAt: number;
  events: IncidentEvent[];
  totalEvents: number;
  lastAction: ActionLine | null;
  enrichedAt: number | null;
  version: number;
  /** From the last details read; null before one (always set by the store; optional for hand-built values). */
  extras?: IncidentExtras | null;
  /** The last BOT_ACTIONS_KEPT actions taken through the bot, oldest first (always set by the store). */
  botActions?: BotAction[];
  /** The card's reminder line (issue 15): how long without a reaction, where it was escalated. */
  reminderNote?: ReminderNote;
}

export interface IngestResult {
  /** Ids of incidents never seen before, now queued for their recipients. */
  added: string[];
  /** How many outbox rows were created. */
  queued: number;
  /**
   * Incidents for which `route` threw (absent when none did): they were queued as without it (every
   * recipient, with sound), so that a broken rule can neither lose an incident nor stop the intake.
   * The caller logs them.
   */
  routeFailures?: Array<{ incidentId: string; error: unknown }>;
}

/** One chat's copy of an incident, as routing decides it at queue time. */
export interface RoutedDelivery {
  chatId: number;
  /** The forum topic it goes to; null: the chat's own thread_id. */
  threadId: number | null;
  /** Delivered with disable_notification and shown with 🔕. */
  silent: boolean;
  /** The mute that made it silent, if one did. */
  muteId: number | null;
}

/**
 * Which of the chats receiving now (`recipients`: allowed and active) get a new incident, into which
 * topic, and how loudly. Called once per new incident inside ingest's transaction; at most one
 * delivery per chat counts (the first), and chats not among the recipients are ignored. `incident` is
 * the list item, or the details when they were read before queueing (IncidentDetails, with the rules).
 */
export type Route = (incident: IncidentSummary, recipients: Chat[]) => RoutedDelivery[];

/** Today's behaviour, and ingest's without a route: every recipient, in its own topic, with sound. */
export function everyRecipient(_incident: IncidentSummary, recipients: Chat[]): RoutedDelivery[] {
  return recipients.map((chat) => ({ chatId: chat.id, threadId: null, silent: false, muteId: null }));
}

const WATERMARK_KEY = "intake.watermark";
/** Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters (17 columns each at most). */
const INSERT_CHUNK = 500;

function toStored(row: Selectable<IncidentsTable>): StoredIncident {
  const events = (
    JSON.parse(row.events_json) as Array<{ id: string; date: string | null; description: string }>
  ).map((e) => ({ id: e.id, date: e.date ? new Date(e.date) : null, description: e.description }));
  const action = row.last_action_json
    ? (JSON.parse(row.last_action_json) as {
        status: string;
        by: string;
        at: string;
        pending?: boolean;
        siemAt?: string | null;
      })
    : null;
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    severity: row.severity,
    status: row.status,
    type: row.type,
    category: row.category,
    description: row.description,
    created: new Date(row.created_at),
    modified: row.modified_at === null ? null : new Date(row.modified_at),
    firstSeenAt: row.first_seen_at,
    events,
    totalEvents: row.total_events,
    lastAction: action
      ? {
          status: action.status,
          by: action.by,
          at: new Date(action.at),
          ...(action.pending ? { pending: true } : {}),
          ...(action.siemAt ? { siemAt: new Date(action.siemAt) } : {}),
        }
      : null,
    enrichedAt: row.enriched_at,
    version: row.version,
    extras: readJsonColumn<IncidentExtras | null>(row.extras_json, null),
    botActions: readJsonColumn<Array<Omit<BotAction, "at"> & { at: string }>>(row.bot_actions_json, []).map(
      (a) => ({ ...a, at: new Date(a.at) }),
    ),
    // Only once a reminder wrote one: incidents without keep their old shape.
    ...(row.reminder_json ? { reminderNote: readNote(row.reminder_json) } : {}),
  };
}

function eventsJson(events: IncidentEvent[]): string {
  return JSON.stringify(
    events.map((e) => ({
      id: e.id,
      date: e.date && !Number.isNaN(e.date.getTime()) ? e.date.toISOString() : null,
      description: e.description,
    })),
  );
}

/**
 * The incident is at `version` now: its outbox rows carry the version too, so the stale copies (rendered
 * an older one) are found through a small partial index (migration 0003) instead of every sent row.
 * Every write that bumps an incident's version calls this in the same transaction.
 */
async function copiesShowOlder(
  trx: Transaction<Database>,
  incidentId: string,
  version: number,
): Promise<void> {
  await trx
    .updateTable("outbox")
    .set({ incident_version: version })
    .where("incident_id", "=", incidentId)
    .execute();
}

/** Another write to the same incident came in between a read and its write (PostgreSQL only). */
class ConcurrentWrite extends Error {
  override readonly name = "ConcurrentWrite";
}
const MAX_WRITE_ATTEMPTS = 5;

/** Columns a message shows: a change in any of them makes delivery edit every copy. */
const SHOWN_COLUMNS: Array<keyof IncidentsTable> = [
  "key",
  "name",
  "severity",
  "status",
  "type",
  "description",
  "events_json",
  "total_events",
  "extras_json",
  "bot_actions_json",
];

/** The part of a stored action a message shows (not whether the SIEM has confirmed it yet). */
function shownAction(json: string | null | undefined): string {
  if (!json) return "";
  const a = JSON.parse(json) as { status: string; by: string; at: string };
  return `${a.status}|${a.by}|${a.at}`;
}

function actionJson(action: ActionLine | null): string | null {
  if (!action) return null;
  return JSON.stringify({
    status: action.status,
    by: action.by,
    at: action.at.toISOString(),
    ...(action.pending ? { pending: true } : {}),
    ...(action.siemAt ? { siemAt: action.siemAt.toISOString() } : {}),
  });
}

function timeOrZero(d: Date): number {
  const t = d.getTime();
  return Number.isFinite(t) ? t : 0;
}

export class IncidentsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    /** ingest() (new incidents, their outbox rows and the watermark) is the leader's: fenced. */
    private readonly fence: Fence,
  ) {}

  async get(id: string): Promise<StoredIncident | undefined> {
    const row = await this.db.selectFrom("incidents").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toStored(row) : undefined;
  }

  /** Several incidents in one read (delivery's digests); unknown ids are simply absent. */
  async getMany(ids: string[]): Promise<Map<string, StoredIncident>> {
    const out = new Map<string, StoredIncident>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await this.db.selectFrom("incidents").selectAll().where("id", "in", chunk).execute();
      for (const row of rows) out.set(row.id, toStored(row));
    }
    return out;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom("incidents")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async watermark(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom("settings")
      .select("value")
      .where("key", "=", WATERMARK_KEY)
      .executeTakeFirst();
    if (!row) return undefined;
    const n = Number(row.value);
    return Number.isFinite(n) ? n : undefined;
  }

  /**
   * Stores incidents not seen before and queues outbox rows for them — by default one per (new
   * incident, chat receiving now); with `route`, the ones it returns (at most one per chat) — then moves
   * the watermark forward (never back), all in one transaction. Each row's rank comes from the severity.
   * `queue: false` records them as seen without queuing anything: the first start with
   * BOT_INITIAL_LOOKBACK=0, where what existed before the service must not be sent.
   * `reads` holds details and events already read for some of them: those are stored complete.
   */
  async ingest(
    incidents: IncidentSummary[],
    watermark: number | null,
    opts: { queue?: boolean; reads?: ReadonlyMap<string, IncidentRead>; route?: Route } = {},
  ): Promise<IngestResult> {
    const now = this.now();
    const route = opts.route ?? everyRecipient;
    return this.fence.transaction(async (trx) => {
      const added: string[] = [];
      const routeFailures: NonNullable<IngestResult["routeFailures"]> = [];
      let queued = 0;
      const recipients =
        opts.queue === false
          ? []
          : await trx
              .selectFrom("chats")
              .selectAll()
              .where("state", "=", "allowed")
              .where("active", "=", 1)
              .orderBy("id")
              .execute();
      const receiving = new Set(recipients.map((chat) => chat.id));
      // Oldest first, so the outbox (drained by id) sends in creation order.
      const ordered = [...incidents].sort((a, b) => timeOrZero(a.created) - timeOrZero(b.created));
      // Multi-row inserts in chunks: a burst of thousands costs a few statements, not one per row.
      const known = new Set<string>();
      for (let i = 0; i < ordered.length; i += INSERT_CHUNK) {
        const ids = ordered.slice(i, i + INSERT_CHUNK).map((inc) => inc.id);
        const rows = await trx.selectFrom("incidents").select("id").where("id", "in", ids).execute();
        for (const r of rows) known.add(r.id);
      }
      const fresh: IncidentSummary[] = [];
      for (const inc of ordered) {
        if (known.has(inc.id)) continue;
        known.add(inc.id); // the same id twice in one batch is one incident
        fresh.push(inc);
      }
      for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
        const chunk = fresh.slice(i, i + INSERT_CHUNK);
        await trx
          .insertInto("incidents")
          .values(
            chunk.map((inc) => {
              const read = opts.reads?.get(inc.id);
              const d = read?.details ?? inc;
              return {
                id: inc.id,
                key: d.key || inc.key,
                name: d.name,
                severity: d.severity,
                status: d.status,
                type: d.type,
                category: d.category,
                description: read?.details.description ?? null,
                created_at: timeOrZero(inc.created),
                modified_at: read?.details.modified ? timeOrZero(read.details.modified) : null,
                first_seen_at: now,
                events_json: read ? eventsJson(read.events.events) : "[]",
                total_events: read?.events.total ?? 0,
                last_action_json: null,
                extras_json: extrasJson(read ? extrasOf(read.details) : undefined),
                enriched_at: read ? now : null,
                version: 1,
                updated_at: now,
              };
            }),
          )
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        for (const inc of chunk) added.push(inc.id);
      }
      const deliveriesOf = (inc: IncidentSummary): RoutedDelivery[] => {
        if (recipients.length === 0) return [];
        try {
          return route(inc, recipients);
        } catch (error) {
          routeFailures.push({ incidentId: inc.id, error });
          return everyRecipient(inc, recipients);
        }
      };
      const rows = fresh.flatMap((inc) => {
        const shown = opts.reads?.get(inc.id)?.details ?? inc;
        const rank = severityRank(shown.severity);
        const chats = new Set<number>();
        // One row per chat (the outbox key): the first delivery for a chat wins; others are ignored.
        const deliveries = deliveriesOf(shown).filter((d) => {
          if (!receiving.has(d.chatId) || chats.has(d.chatId)) return false;
          chats.add(d.chatId);
          return true;
        });
        return deliveries.map((d) => ({
          incident_id: inc.id,
          chat_id: d.chatId,
          thread_id: d.threadId,
          silent: d.silent ? 1 : 0,
          mute_id: d.muteId,
          rank,
          state: "pending" as const,
          message_id: null,
          via: null,
          rendered_version: 0,
          // A new incident is at version 1 (see the insert above).
          incident_version: 1,
          attempts: 0,
          next_attempt_at: 0,
          last_error: null,
          created_at: now,
          sent_at: null,
        }));
      });
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto("outbox")
          .values(rows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) => oc.columns(["incident_id", "chat_id"]).doNothing())
          .execute();
      }
      queued = rows.length;
      if (watermark !== null) {
        const current = await trx
          .selectFrom("settings")
          .select("value")
          .where("key", "=", WATERMARK_KEY)
          .executeTakeFirst();
        if (!current || Number(current.value) < watermark) {
          await trx
            .insertInto("settings")
            .values({ key: WATERMARK_KEY, value: String(watermark) })
            .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(watermark) }))
            .execute();
        }
      }
      return routeFailures.length > 0 ? { added, queued, routeFailures } : { added, queued };
    });
  }

  /** Which of these ids are already known. */
  async known(ids: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await this.db.selectFrom("incidents").select("id").where("id", "in", chunk).execute();
      for (const r of rows) out.add(r.id);
    }
    return out;
  }

  /**
   * Stores what the SIEM says now (details, and events when given). Bumps `version` when anything a
   * message shows has changed, which makes delivery edit every copy. Returns the stored incident and
   * whether it changed. A read never takes the stored incident back: the modification time and the
   * number of events only grow. `reconcile` decides the status and last action from the stored state
   * and the read, inside the same transaction (a button may be writing at the same moment).
   */
  async refresh(
    details: IncidentSummary & Partial<IncidentDetails>,
    events?: { events: IncidentEvent[]; total: number },
    lastAction?: ActionLine | null,
    reconcile?: Reconcile,
  ): Promise<{ incident: StoredIncident; changed: boolean } | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.refreshOnce(details, events, lastAction, reconcile);
      } catch (error) {
        if (!(error instanceof ConcurrentWrite) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
      }
    }
  }

  private refreshOnce(
    details: IncidentSummary & Partial<IncidentDetails>,
    events: { events: IncidentEvent[]; total: number } | undefined,
    lastAction: ActionLine | null | undefined,
    reconcile: Reconcile | undefined,
  ): Promise<{ incident: StoredIncident; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("incidents")
        .selectAll()
        .where("id", "=", details.id)
        .executeTakeFirst();
      if (!row) return undefined;
      const decision = reconcile
        ? reconcile(toStored(row), { status: details.status, modified: details.modified ?? null })
        : { status: details.status, lastAction };
      const next: Partial<Selectable<IncidentsTable>> = {
        key: details.key || row.key,
        name: details.name,
        severity: details.severity,
        status: decision.status,
        type: details.type,
        category: details.category,
        updated_at: this.now(),
      };
      if (details.description !== undefined) next.description = details.description;
      const extras = extrasOf(details);
      if (extras) next.extras_json = extrasJson(extras);
      if (details.modified) next.modified_at = Math.max(timeOrZero(details.modified), row.modified_at ?? 0);
      // A lagging read may show fewer events than one before it: keep the fuller picture.
      if (events && (row.enriched_at === null || events.total >= row.total_events)) {
        next.events_json = eventsJson(events.events);
        next.total_events = events.total;
      }
      if (events) next.enriched_at = this.now();
      if (decision.lastAction !== undefined) next.last_action_json = actionJson(decision.lastAction);
      const changed =
        SHOWN_COLUMNS.some((k) => k in next && next[k as keyof typeof next] !== row[k]) ||
        ("last_action_json" in next &&
          shownAction(next.last_action_json) !== shownAction(row.last_action_json));
      if (changed) next.version = row.version + 1;
      // Only over the row as it was read: on PostgreSQL another write may have come in between (the
      // decision above depends on it), and then the whole read-decide-write is done again.
      const written = await trx
        .updateTable("incidents")
        .set(next)
        .where("id", "=", details.id)
        .where("version", "=", row.version)
        .where("updated_at", "=", row.updated_at)
        .executeTakeFirst();
      if (Number(written.numUpdatedRows) === 0) throw new ConcurrentWrite();
      if (changed) await copiesShowOlder(trx, details.id, row.version + 1);
      const updated = await trx
        .selectFrom("incidents")
        .selectAll()
        .where("id", "=", details.id)
        .executeTakeFirstOrThrow();
      return { incident: toStored(updated), changed };
    });
  }

  /**
   * A status change made through the bot, shown at once: the status and who made it are stored
   * before the SIEM's read model shows them (it may lag), marked pending until a read confirms them.
   */
  async recordAction(
    id: string,
    action: ActionLine,
    botAction?: BotAction,
  ): Promise<StoredIncident | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom("incidents").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return undefined;
      const history = botAction
        ? [...(toStored(row).botActions ?? []), botAction]
            .slice(-BOT_ACTIONS_KEPT)
            .map((a) => ({ ...a, at: a.at.toISOString() }))
        : null;
      await trx
        .updateTable("incidents")
        .set((eb) => ({
          status: action.status,
          last_action_json: actionJson(action),
          ...(history ? { bot_actions_json: JSON.stringify(history) } : {}),
          version: eb("version", "+", 1),
          updated_at: this.now(),
        }))
        .where("id", "=", id)
        .execute();
      const updated = await trx
        .selectFrom("incidents")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      await copiesShowOlder(trx, id, updated.version);
      return toStored(updated);
    });
  }

  /**
   * Incidents first seen since `since` whose details were never read and that have (or will have) a
   * message of their own — queued, or sent as a single message; digest lines show no details. Newest first.
   */
  async unenriched(since: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("incidents")
      .select("id")
      .where("enriched_at", "is", null)
      .where("first_seen_at", ">=", since)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("outbox")
            .select("outbox.id")
            .whereRef("outbox.incident_id", "=", "incidents.id")
            .where((o) => o.or([o("outbox.state", "=", "pending"), o("outbox.via", "=", "single")])),
        ),
      )
      .orderBy("first_seen_at", "desc")
      .orderBy("created_at", "desc")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Incidents still open (not Closed) first seen since `since` that have a message of their own (a
   * digest line shows no events), in id order after `afterId`: the ones whose event count is worth
   * checking, a page at a time (the caller goes round them).
   */
  async openAfter(
    since: number,
    afterId: string,
    limit: number,
  ): Promise<Array<{ id: string; totalEvents: number; enriched: boolean }>> {
    const rows = await this.db
      .selectFrom("incidents")
      .select(["id", "total_events", "enriched_at"])
      .where("first_seen_at", ">=", since)
      .where("status", "!=", "Closed")
      .where("id", ">", afterId)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("outbox")
            .select("outbox.id")
            .whereRef("outbox.incident_id", "=", "incidents.id")
            .where("outbox.via", "=", "single"),
        ),
      )
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, totalEvents: r.total_events, enriched: r.enriched_at !== null }));
  }
}
