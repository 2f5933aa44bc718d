// Migration 0003 on a database that already holds a history: the stale copies found afterwards are
// exactly those found before (the outbox's copy of each incident's version is filled in, and kept equal
// by the store's writes afterwards), so no edit is lost or invented by the upgrade.
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type Migration, Migrator, SqliteDialect, sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { sqliteTypes } from "../../src/store/dialect/sqlite.js";
import { openStore, type Store } from "../../src/store/index.js";
import { migrationProvider } from "../../src/store/migrations.js";
import { incidentSummary } from "../helpers/incidents.js";
import { tempDir } from "../helpers/tmp.js";

let tmp: ReturnType<typeof tempDir>;
let store: Store | undefined;
const now = () => 1_700_000_000_000;

beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  tmp.cleanup();
});

/** A database as the release before 0003 left it: only the migrations before it applied. */
async function openBefore0003(path: string): Promise<Kysely<unknown>> {
  const all = await migrationProvider(sqliteTypes).getMigrations();
  const before: Record<string, Migration> = Object.fromEntries(
    Object.entries(all).filter(([name]) => name < "0003"),
  );
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(path) }) });
  const { error } = await new Migrator({
    db,
    provider: { getMigrations: async () => before },
  }).migrateToLatest();
  if (error) throw error;
  return db;
}

it("finds the same stale copies after the upgrade, and new changes afterwards", async () => {
  const path = join(tmp.dir, "bot.db");
  const old = await openBefore0003(path);
  // The history as the release before 0003 wrote it (its own statements: today's repositories write
  // the new column): two chats, three incidents sent to both, incident 2 changed after it was sent.
  for (const id of [11, -22]) {
    await sql`INSERT INTO chats (id, kind, state, active, created_at, state_changed_at)
      VALUES (${id}, ${id > 0 ? "private" : "supergroup"}, 'allowed', 1, 0, 0)`.execute(old);
  }
  let message = 1;
  for (const n of [1, 2, 3]) {
    const inc = incidentSummary(n);
    await sql`INSERT INTO incidents (id, key, name, severity, status, type, category, created_at,
      first_seen_at, events_json, total_events, version, updated_at)
      VALUES (${inc.id}, ${inc.key}, ${inc.name}, ${inc.severity}, 'New', ${inc.type}, ${inc.category},
        ${inc.created.getTime()}, 0, '[]', 0, ${n === 2 ? 2 : 1}, 0)`.execute(old);
    for (const chat of [11, -22]) {
      await sql`INSERT INTO outbox (incident_id, chat_id, state, message_id, via, rendered_version, attempts,
        next_attempt_at, created_at, sent_at)
        VALUES (${inc.id}, ${chat}, 'sent', ${message++}, 'single', 1, 0, 0, 0, 0)`.execute(old);
    }
  }
  await old.destroy();

  store = await openStore(path, { now });
  const stale = await store.outbox.staleCopies();
  expect(stale.map((c) => [c.incidentId, c.chatId, c.renderedVersion, c.version]).sort()).toEqual(
    [
      [incidentSummary(2).id, -22, 1, 2],
      [incidentSummary(2).id, 11, 1, 2],
    ].sort(),
  );
  expect((await store.outbox.staleChatIds()).sort()).toEqual([-22, 11]);

  // Edited: no longer stale. A later change makes incident 3 stale.
  for (const c of stale) await store.outbox.setRenderedVersion(c.id, c.version);
  expect(await store.outbox.staleCopies()).toEqual([]);
  await store.incidents.refresh({ ...incidentSummary(3), status: "Closed" });
  expect((await store.outbox.staleCopiesForChat(11)).map((c) => c.incidentId)).toEqual([
    incidentSummary(3).id,
  ]);

  // A row queued after the upgrade carries its incident's version: a copy sent
  // showing that version is not stale, and a change after the send makes it stale.
  await store.incidents.ingest([incidentSummary(4)], null);
  await store.incidents.refresh({ ...incidentSummary(4), name: "renamed before the send" });
  const fresh = (await store.outbox.pendingForChat(11))[0]!;
  await store.outbox.markSent(
    [fresh.id],
    99,
    "single",
    (await store.incidents.get(fresh.incidentId))!.version,
  );
  expect((await store.outbox.staleCopiesForChat(11)).map((c) => c.incidentId)).toEqual([
    incidentSummary(3).id,
  ]);
  await store.incidents.refresh({ ...incidentSummary(4), name: "renamed after the send" });
  expect((await store.outbox.staleCopiesForChat(11)).map((c) => c.incidentId).sort()).toEqual(
    [incidentSummary(3).id, incidentSummary(4).id].sort(),
  );
});
