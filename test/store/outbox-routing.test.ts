// Issue 13's data model (migration 0005): each outbox row carries its severity rank, its loudness, the
// mute that made it silent and its forum topic. `ingest` fills them, through the optional `route`
// (which chats, which topic, how loudly), and a chat's lane reads its rows by rank, then id.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type Migration, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { IncidentSummary } from "../../src/siem/types.js";
import { postgresTypes } from "../../src/store/dialect/postgres.js";
import { sqliteTypes } from "../../src/store/dialect/sqlite.js";
import {
  type Chat,
  openStore,
  type Route,
  type RoutedDelivery,
  type Store,
  severityRank,
} from "../../src/store/index.js";
import { migrationProvider } from "../../src/store/migrations.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const PRIVATE = 11;
const GROUP = -22;
const PAUSED = -33;

describe("severityRank", () => {
  it("ranks High 0, Medium 1, Low 2 in any case and with spaces around, anything else 3", () => {
    expect(
      ["High", "high", " HIGH ", "Medium", "medium", "Low", "low", "", "Critical"].map(severityRank),
    ).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 3]);
  });
});

describe.each(DIALECTS)("%s: routing fields of the outbox", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function open(): Promise<Store> {
    store = await openStore(database.target, { now: () => 1_700_000_000_000 });
    for (const id of [PRIVATE, GROUP, PAUSED]) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", 1);
    }
    await store.chats.setThread(GROUP, 55);
    await store.chats.setActive(PAUSED, false, "the bot may not post");
    return store;
  }

  const loud = (chatId: number, threadId: number | null = null): RoutedDelivery => ({
    chatId,
    threadId,
    silent: false,
    muteId: null,
  });

  it("without a route queues every chat receiving now, with sound, in the chat's topic, ranked by severity", async () => {
    const s = await open();
    const incidents = [
      incidentSummary(1, 1_000, "Low"),
      incidentSummary(2, 2_000, "High"),
      incidentSummary(3, 3_000, "Medium"),
      incidentSummary(4, 4_000, "Informational"),
    ];
    const result = await s.incidents.ingest(incidents, null);
    expect(result).toEqual({ added: incidents.map((i) => i.id), queued: 8 });

    const group = await s.outbox.pendingForChat(GROUP);
    // Lane order: rank, then id.
    expect(group.map((r) => [r.incidentId, r.rank])).toEqual([
      [incidents[1]!.id, 0],
      [incidents[2]!.id, 1],
      [incidents[0]!.id, 2],
      [incidents[3]!.id, 3],
    ]);
    for (const row of group) expect(row).toMatchObject({ silent: false, muteId: null, threadId: 55 });
    expect((await s.outbox.pendingForChat(PRIVATE)).map((r) => r.threadId)).toEqual([null, null, null, null]);
    expect(await s.outbox.pendingForChat(PAUSED)).toEqual([]);
  });

  it("queues what the route returns: its chats, topics, loudness and mutes, one row per chat", async () => {
    const s = await open();
    const calls: Array<{ incident: IncidentSummary; recipients: Chat[] }> = [];
    const route: Route = (incident, recipients) => {
      calls.push({ incident, recipients });
      if (incident.key === "INC-1") {
        return [
          { chatId: GROUP, threadId: 77, silent: true, muteId: 5 },
          loud(GROUP, 88), // a second row for the same chat: the first wins
          loud(PRIVATE),
          loud(999), // not a chat receiving now: ignored
          loud(PAUSED), // paused: not receiving now, ignored
        ];
      }
      return [loud(GROUP)]; // INC-2: the group only, in the chat's own topic
    };
    const incidents = [incidentSummary(1, 1_000, "Medium"), incidentSummary(2, 2_000, "Low")];
    const result = await s.incidents.ingest(incidents, null, { route });
    expect(result).toEqual({ added: incidents.map((i) => i.id), queued: 3 });

    // Once per new incident, with the chats receiving now (allowed and active) as stored.
    expect(calls.map((c) => c.incident.key)).toEqual(["INC-1", "INC-2"]);
    for (const call of calls) {
      expect(call.recipients.map((c) => c.id).sort()).toEqual([GROUP, PRIVATE].sort());
      expect(call.recipients.find((c) => c.id === GROUP)).toMatchObject({
        kind: "supergroup",
        thread_id: 55,
      });
    }
    expect(await s.outbox.pendingForChat(GROUP)).toMatchObject([
      { incidentId: incidents[0]!.id, threadId: 77, silent: true, muteId: 5, rank: 1 },
      { incidentId: incidents[1]!.id, threadId: 55, silent: false, muteId: null, rank: 2 },
    ]);
    expect(await s.outbox.pendingForChat(PRIVATE)).toMatchObject([
      { incidentId: incidents[0]!.id, threadId: null, silent: false, muteId: null },
    ]);

    // A known incident is not routed again; an incident no chat admits is stored, not queued.
    const later = await s.incidents.ingest([incidents[0]!, incidentSummary(3, 3_000)], null, {
      route: () => [],
    });
    expect(later).toEqual({ added: [incidentSummary(3).id], queued: 0 });
    expect(await s.incidents.get(incidentSummary(3).id)).toBeDefined();
  });

  it("routes on the details when they were read before queueing, and ranks by them", async () => {
    const s = await open();
    const seen: IncidentSummary[] = [];
    const listed = incidentSummary(1, 1_000, "Low");
    const details = {
      ...listed,
      severity: "High",
      description: "d",
      detected: null,
      modified: null,
      correlationRules: ["R_1"],
    };
    await s.incidents.ingest([listed], null, {
      reads: new Map([[listed.id, { details, events: { events: [], total: 0 } }]]),
      route: (incident, recipients) => {
        seen.push(incident);
        return recipients.map((c) => loud(c.id));
      },
    });
    expect(seen[0]).toMatchObject({ severity: "High", correlationRules: ["R_1"] });
    expect((await s.outbox.pendingForChat(PRIVATE))[0]!.rank).toBe(0);
  });

  it("queues every recipient with sound for an incident whose route throws, and says so", async () => {
    const s = await open();
    const boom = new Error("bad matcher");
    const result = await s.incidents.ingest([incidentSummary(1), incidentSummary(2)], 5_000, {
      route: (incident) => {
        if (incident.key === "INC-1") throw boom;
        return [loud(GROUP)];
      },
    });
    expect(result).toEqual({
      added: [incidentSummary(1).id, incidentSummary(2).id],
      queued: 3,
      routeFailures: [{ incidentId: incidentSummary(1).id, error: boom }],
    });
    expect((await s.outbox.pendingForChat(PRIVATE)).map((r) => r.incidentId)).toEqual([
      incidentSummary(1).id,
    ]);
    expect(await s.incidents.watermark()).toBe(5_000);
  });

  it("keeps a silent delivery's mark on its copy and on its stale copy", async () => {
    const s = await open();
    await s.incidents.ingest([incidentSummary(1)], null, {
      route: () => [{ chatId: PRIVATE, threadId: null, silent: true, muteId: null }, loud(GROUP)],
    });
    const rows = [...(await s.outbox.pendingForChat(PRIVATE)), ...(await s.outbox.pendingForChat(GROUP))];
    for (const [i, row] of rows.entries()) await s.outbox.markSent([row.id], 100 + i, "single", 1);
    const copies = await s.outbox.copies(incidentSummary(1).id);
    expect(copies.map((c) => [c.chatId, c.silent]).sort()).toEqual(
      [
        [PRIVATE, true],
        [GROUP, false],
      ].sort(),
    );
    await s.incidents.refresh({ ...incidentSummary(1), status: "Closed" });
    expect((await s.outbox.staleCopiesForChat(PRIVATE)).map((c) => c.silent)).toEqual([true]);
    expect((await s.outbox.staleCopiesForChat(GROUP)).map((c) => c.silent)).toEqual([false]);
  });
});

describe.each(DIALECTS)("%s: migration 0005 on a database with a queue", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store | undefined;
  let old: Kysely<unknown> | undefined;
  afterEach(async () => {
    await old?.destroy();
    old = undefined;
    await store?.close();
    store = undefined;
  });

  /** The database as the release before 0005 left it: only the migrations before it applied. */
  async function openBefore0005(): Promise<Kysely<unknown>> {
    const types = dialect === "sqlite" ? sqliteTypes : postgresTypes;
    const all = await migrationProvider(types).getMigrations();
    const before: Record<string, Migration> = Object.fromEntries(
      Object.entries(all).filter(([name]) => name < "0005"),
    );
    const db = new Kysely<unknown>({
      dialect:
        dialect === "sqlite"
          ? new SqliteDialect({ database: new SQLite(database.target) })
          : new PostgresDialect({ pool: new pg.Pool({ connectionString: database.target, max: 1 }) }),
    });
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: async () => before },
    }).migrateToLatest();
    if (error) throw error;
    return db;
  }

  it("ranks the rows still waiting by their incident's severity; they go with sound, in the chat's topic", async () => {
    if (dialect === "sqlite") mkdirSync(dirname(database.target), { recursive: true });
    old = await openBefore0005();
    await sql`INSERT INTO chats (id, kind, state, active, created_at, state_changed_at, thread_id)
      VALUES (${GROUP}, 'supergroup', 'allowed', 1, 0, 0, 55)`.execute(old);
    const severities = ["Low", "high", "Medium", "Unknown"];
    for (const [i, severity] of severities.entries()) {
      const inc = incidentSummary(i + 1, 1_000 + i, severity);
      await sql`INSERT INTO incidents (id, key, name, severity, status, type, category, created_at,
        first_seen_at, events_json, total_events, version, updated_at)
        VALUES (${inc.id}, ${inc.key}, ${inc.name}, ${severity}, 'New', 'x', 'x', ${1_000 + i}, 0, '[]', 0, 1, 0)`.execute(
        old,
      );
      await sql`INSERT INTO outbox (incident_id, chat_id, state, rendered_version, attempts, next_attempt_at, created_at)
        VALUES (${inc.id}, ${GROUP}, 'pending', 0, 0, 0, 0)`.execute(old);
    }
    await old.destroy();
    old = undefined;

    store = await openStore(database.target);
    const rows = await store.outbox.pendingForChat(GROUP);
    expect(rows.map((r) => [r.incidentId, r.rank])).toEqual([
      [incidentSummary(2).id, 0],
      [incidentSummary(3).id, 1],
      [incidentSummary(1).id, 2],
      [incidentSummary(4).id, 3],
    ]);
    for (const row of rows) expect(row).toMatchObject({ silent: false, muteId: null, threadId: 55 });
  });
});
