// Incidents the service has seen, what their messages show, and the intake watermark.
// `ingest` is the one place where new incidents enter: atomically with their outbox rows and the watermark,
// so a crash can never advance the watermark past an incident that was not queued.
import type { Kysely, Selectable } from "kysely";
import type { IncidentDetails, IncidentEvent, IncidentSummary } from "../siem/types.js";
import type { Database, IncidentsTable } from "./schema.js";

/** The last status change of an incident and who made it ("SIEM" when made in the SIEM UI). */
export interface ActionLine {
  status: string;
  by: string;
  at: Date;
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
}

export interface IngestResult {
  /** Ids of incidents never seen before, now queued for every recipient. */
  added: string[];
  /** How many outbox rows were created. */
  queued: number;
}

const WATERMARK_KEY = "intake.watermark";
/** Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters (17 columns each). */
const INSERT_CHUNK = 500;

function toStored(row: Selectable<IncidentsTable>): StoredIncident {
  const events = (
    JSON.parse(row.events_json) as Array<{ id: string; date: string | null; description: string }>
  ).map((e) => ({ id: e.id, date: e.date ? new Date(e.date) : null, description: e.description }));
  const action = row.last_action_json
    ? (JSON.parse(row.last_action_json) as { status: string; by: string; at: string })
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
    lastAction: action ? { status: action.status, by: action.by, at: new Date(action.at) } : null,
    enrichedAt: row.enriched_at,
    version: row.version,
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

function timeOrZero(d: Date): number {
  const t = d.getTime();
  return Number.isFinite(t) ? t : 0;
}

export class IncidentsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
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
   * Stores incidents not seen before and queues one outbox row per (new incident, chat receiving now),
   * then moves the watermark forward (never back) — all in one transaction.
   * `queue: false` records them as seen without queuing anything: the first start with
   * BOT_INITIAL_LOOKBACK=0, where what existed before the service must not be sent.
   */
  async ingest(
    incidents: IncidentSummary[],
    watermark: number | null,
    opts: { queue?: boolean } = {},
  ): Promise<IngestResult> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const added: string[] = [];
      let queued = 0;
      const recipients =
        opts.queue === false
          ? []
          : await trx
              .selectFrom("chats")
              .select("id")
              .where("state", "=", "allowed")
              .where("active", "=", 1)
              .execute();
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
            chunk.map((inc) => ({
              id: inc.id,
              key: inc.key,
              name: inc.name,
              severity: inc.severity,
              status: inc.status,
              type: inc.type,
              category: inc.category,
              description: null,
              created_at: timeOrZero(inc.created),
              modified_at: null,
              first_seen_at: now,
              events_json: "[]",
              total_events: 0,
              last_action_json: null,
              enriched_at: null,
              version: 1,
              updated_at: now,
            })),
          )
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        for (const inc of chunk) added.push(inc.id);
      }
      const rows = fresh.flatMap((inc) =>
        recipients.map((chat) => ({
          incident_id: inc.id,
          chat_id: chat.id,
          state: "pending" as const,
          message_id: null,
          via: null,
          rendered_version: 0,
          attempts: 0,
          next_attempt_at: 0,
          last_error: null,
          created_at: now,
          sent_at: null,
        })),
      );
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
      return { added, queued };
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
   * message shows has changed, which makes delivery edit every copy. Returns the stored incident and whether it changed.
   */
  async refresh(
    details: IncidentSummary & Partial<Pick<IncidentDetails, "description" | "modified">>,
    events?: { events: IncidentEvent[]; total: number },
    lastAction?: ActionLine | null,
  ): Promise<{ incident: StoredIncident; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("incidents")
        .selectAll()
        .where("id", "=", details.id)
        .executeTakeFirst();
      if (!row) return undefined;
      const next: Partial<Selectable<IncidentsTable>> = {
        key: details.key || row.key,
        name: details.name,
        severity: details.severity,
        status: details.status,
        type: details.type,
        category: details.category,
        updated_at: this.now(),
      };
      if (details.description !== undefined) next.description = details.description;
      if (details.modified) next.modified_at = timeOrZero(details.modified);
      if (events) {
        next.events_json = eventsJson(events.events);
        next.total_events = events.total;
        next.enriched_at = this.now();
      }
      if (lastAction !== undefined) {
        next.last_action_json = lastAction
          ? JSON.stringify({ status: lastAction.status, by: lastAction.by, at: lastAction.at.toISOString() })
          : null;
      }
      const shown: Array<keyof IncidentsTable> = [
        "key",
        "name",
        "severity",
        "status",
        "type",
        "description",
        "events_json",
        "total_events",
        "last_action_json",
      ];
      const changed = shown.some((k) => k in next && next[k as keyof typeof next] !== row[k]);
      // The bump is counted in SQL, not from the row read above: on PostgreSQL two refreshes of one
      // incident may run side by side, and each change must make a new version (or a copy edited to the
      // first change would never be edited to the second).
      await trx
        .updateTable("incidents")
        .set(next)
        .$if(changed, (q) => q.set((eb) => ({ version: eb("version", "+", 1) })))
        .where("id", "=", details.id)
        .execute();
      const updated = await trx
        .selectFrom("incidents")
        .selectAll()
        .where("id", "=", details.id)
        .executeTakeFirstOrThrow();
      return { incident: toStored(updated), changed };
    });
  }
}
