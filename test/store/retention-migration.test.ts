// Migration 0003 on a database that already holds a history: the stale copies found afterwards are
// exactly those found before (the outbox's copy of each incident's version is filled in and kept equal
// by the triggers), so no edit is lost or invented by the upgrade.
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type Migration, Migrator, SqliteDialect } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ChatsRepository } from "../../src/store/chats.js";
import { IncidentsRepository } from "../../src/store/incidents.js";
import { openStore, type Store } from "../../src/store/index.js";
import { migrationProvider } from "../../src/store/migrations.js";
import { OutboxRepository } from "../../src/store/outbox.js";
import type { Database } from "../../src/store/schema.js";
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
async function openBefore0003(path: string): Promise<Kysely<Database>> {
  const all = await migrationProvider.getMigrations();
  const before: Record<string, Migration> = Object.fromEntries(
    Object.entries(all).filter(([name]) => name < "0003"),
  );
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(path) }) });
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
  const chats = new ChatsRepository(old, now);
  const incidents = new IncidentsRepository(old, now);
  const outbox = new OutboxRepository(old, now);
  for (const id of [11, -22]) {
    await chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
    await chats.setState(id, "allowed", null);
  }
  await incidents.ingest(
    [1, 2, 3].map((n) => incidentSummary(n)),
    null,
  );
  let message = 1;
  for (const row of await outbox.pending()) await outbox.markSent([row.id], message++, "single", 1);
  // Incident 2 changed in the SIEM after it was sent: both copies are stale before the upgrade.
  await incidents.refresh({ ...incidentSummary(2), status: "Approved" });
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

  // Edited: no longer stale. A later change (trigger on incidents) makes incident 3 stale.
  for (const c of stale) await store.outbox.setRenderedVersion(c.id, c.version);
  expect(await store.outbox.staleCopies()).toEqual([]);
  await store.incidents.refresh({ ...incidentSummary(3), status: "Closed" });
  expect((await store.outbox.staleCopiesForChat(11)).map((c) => c.incidentId)).toEqual([
    incidentSummary(3).id,
  ]);

  // A row queued after the upgrade (trigger on insert) carries its incident's version: a copy sent
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
