import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPostgres, postgresTypes } from "../../src/store/dialect/postgres.js";
import { openStore, type Store, StoreLockedError } from "../../src/store/index.js";
import { migrationProvider } from "../../src/store/migrations.js";
import { incidentSummary } from "../helpers/incidents.js";
import { postgresAdminUrl } from "../helpers/postgres.js";
import { DIALECTS, type Dialect, databasePerTest } from "../helpers/store-dialects.js";

const incident = (n: number, createdMs: number) => incidentSummary(n, createdMs);

/** One dialect's database and store, fresh for each test. */
function perTest(dialect: Dialect) {
  const database = databasePerTest(dialect, join("nested", "bot.db"));
  const state: { database: typeof database; store?: Store; clock: number } = {
    database,
    clock: 1_700_000_000_000,
  };
  beforeEach(() => {
    state.clock = 1_700_000_000_000;
  });
  afterEach(async () => {
    await state.store?.close();
    state.store = undefined;
  });
  return {
    state,
    async open(): Promise<Store> {
      state.store = await openStore(database.target, { now: () => state.clock });
      return state.store;
    },
  };
}

/** The released SQLite schema (test/store/fixtures): CREATE TABLE statements first, then the indexes. */
function releasedSqliteSchema(): string[] {
  const text = readFileSync(join(import.meta.dirname, "fixtures", "sqlite-schema-0001.sql"), "utf8");
  const statements = text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("--"))
    .map((line) => line.replace(/;$/, ""));
  return [
    ...statements.filter((s) => s.startsWith("CREATE TABLE")),
    ...statements.filter((s) => !s.startsWith("CREATE TABLE")),
  ];
}

describe("sqlite: opening the database", () => {
  const { state, open } = perTest("sqlite");

  it("creates the folder and a private WAL database", async () => {
    const s = await open();
    expect(s.dialect).toBe("sqlite");
    const mode = statSync(s.path).mode & 0o777;
    expect(mode).toBe(0o600);
    const raw = new SQLite(s.path, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    const tables = raw.prepare("select name from sqlite_master where type='table'").all() as {
      name: string;
    }[];
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["chats", "incidents", "outbox", "audit", "settings", "approval_messages"]),
    );
    raw.close();
  });

  it("creates exactly the schema the released version created (later migrations only add)", async () => {
    const s = await open();
    const raw = new SQLite(s.path, { readonly: true });
    const created = (
      raw
        .prepare("select sql from sqlite_master where sql is not null and name != 'sqlite_sequence'")
        .all() as { sql: string }[]
    ).map((r) => r.sql);
    raw.close();
    // Every table and index of 0001 exactly as released. Later migrations only add tables, indexes and
    // columns; SQLite writes an added column into the stored CREATE TABLE, so those are taken out again.
    const ADDED_COLUMNS = [
      ', "incident_version" integer default 0 not null', // 0003
      ', "silent" integer default 0 not null, "mute_id" integer, "rank" integer default 3 not null, "thread_id" integer', // 0005
      ', "extras_json" text, "bot_actions_json" text', // 0007
      ', "reminder_json" text', // 0009
    ];
    const asReleased = created.map((sql) =>
      ADDED_COLUMNS.reduce((text, column) => text.replace(column, ""), sql),
    );
    for (const statement of releasedSqliteSchema()) expect(asReleased).toContain(statement);
  });

  it("opens a database the released version created, and keeps its data", async () => {
    const path = state.database.target;
    mkdirSync(dirname(path), { recursive: true });
    const old = new SQLite(path);
    for (const statement of releasedSqliteSchema()) old.exec(statement);
    old
      .prepare("insert into kysely_migration (name, timestamp) values (?, ?)")
      .run("0001_initial", "2025-01-01T00:00:00.000Z");
    old.prepare("insert into kysely_migration_lock (id, is_locked) values ('migration_lock', 0)").run();
    old
      .prepare(
        "insert into chats (id, kind, state, active, created_at, state_changed_at) values (?, 'supergroup', 'allowed', 1, ?, ?)",
      )
      .run(-1001234567890, 1_700_000_000_123, 1_700_000_000_123);
    old.close();

    const s = await open();
    expect(await s.chats.get(-1001234567890)).toMatchObject({
      state: "allowed",
      created_at: 1_700_000_000_123,
    });
    await s.incidents.ingest([incident(1, 1000)], 1000);
    expect((await s.outbox.pending()).map((p) => p.chatId)).toEqual([-1001234567890]);
  });

  it("refuses a second opener of the same file in this process", async () => {
    const s = await open();
    await expect(openStore(s.path)).rejects.toBeInstanceOf(StoreLockedError);
    await expect(openStore(s.path)).rejects.toThrow(/BOT_DB_PATH: another mpsiem-telegram process/);
  });

  it("refuses a second process, and lets one in once the first has closed", async () => {
    const s = await open();
    const script = `import { openStore } from ${JSON.stringify(join(process.cwd(), "src/store/index.ts"))};
      try { const s = await openStore(process.argv[1]); console.log("opened"); await s.close(); }
      catch (e) { console.log(e.name + ": " + e.message); process.exitCode = 3; }`;
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "--input-type=module", "-e", script, s.path],
          {
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          out += d;
        });
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`child timed out: ${out}`));
        }, 30_000);
        child.on("exit", (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    const refused = await run();
    expect(refused.code).toBe(3);
    expect(refused.out).toContain("StoreLockedError");
    await s.close();
    state.store = undefined;
    const admitted = await run();
    expect(admitted.out).toContain("opened");
    expect(admitted.code).toBe(0);
  });
});

describe("postgres: opening the database", () => {
  const { state, open } = perTest("postgres");

  async function query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: state.database.target });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it("shows where it is without the password", async () => {
    const s = await open();
    const password = new URL(state.database.target).password;
    expect(s.dialect).toBe("postgres");
    expect(s.path).toMatch(/^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/t_[0-9a-f]+$/);
    expect(s.path).not.toContain(password);
  });

  it("makes every integer column a bigint (Telegram ids and ms timestamps exceed 32 bits)", async () => {
    await open();
    const columns = await query<{ table_name: string; column_name: string; data_type: string }>(
      "select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' and table_name not like 'kysely%'",
    );
    const integers = columns.filter((c) => /int|numeric/.test(c.data_type));
    expect(integers.length).toBeGreaterThan(30);
    expect(integers.filter((c) => c.data_type !== "bigint")).toEqual([]);
  });

  it("lets several processes use one database: there is no process lock", async () => {
    const first = await open();
    const second = await openStore(state.database.target);
    try {
      await first.chats.remember({ id: 7, kind: "private" });
      await second.chats.setState(7, "allowed", 1);
      expect((await first.chats.get(7))?.state).toBe("allowed");
    } finally {
      await second.close();
    }
  });

  it("migrates once when several instances start at once on a fresh database", async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(state.database.target)));
    try {
      const applied = await query<{ name: string }>("select name from kysely_migration order by name");
      const names = Object.keys(await migrationProvider(postgresTypes).getMigrations()).sort();
      expect(names[0]).toBe("0001_initial");
      // Each migration applied exactly once, whoever got there first.
      expect(applied.map((r) => r.name)).toEqual(names);
      await stores[0]!.chats.remember({ id: 1, kind: "private" });
      for (const s of stores) expect((await s.chats.get(1))?.kind).toBe("private");
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("outlives its connection being ended between two statements of a transaction: that transaction fails, the process goes on", async () => {
    // Found by the two-instance chaos run: pg_terminate_backend of a leader's connections while a
    // transaction held one between statements took the process down (the pool stops listening for a
    // connection's errors while it is checked out, and pg throws an unheard one out of the process).
    const opened = await openPostgres(state.database.target, async () => undefined);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const transaction = opened.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await query("select pg_terminate_backend($1)", [rows[0]!.pid]);
        // The server's notice arrives while no statement is running on the connection.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sql`select 1`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
      expect(uncaught).toEqual([]);
      // The pool goes on with a new connection.
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(opened.db);
      expect(rows[0]?.one).toBe(1);
    } finally {
      process.off("uncaughtException", onUncaught);
      await opened.close();
    }
  });

  it("fails a read of an integer beyond 2^53 instead of rounding it", async () => {
    const s = await open();
    await query(
      "insert into chats (id, kind, state, active, created_at, state_changed_at) values ($1, 'private', 'allowed', 1, 0, 0)",
      ["9007199254740993"],
    );
    await expect(s.chats.list()).rejects.toThrow(/9007199254740993 is beyond the safe integer range/);
  });
});

describe("postgres: a URL that does not work", () => {
  const SECRET = "Wr0ng+Pass/S3cr3t@x";

  function withPassword(url: string, password: string): string {
    const u = new URL(url);
    u.password = encodeURIComponent(password);
    return u.toString();
  }

  function expectNoSecret(message: string): void {
    for (const form of [
      SECRET,
      encodeURIComponent(SECRET),
      new URL(withPassword(postgresAdminUrl(), SECRET)).password,
    ]) {
      expect(message).not.toContain(form);
    }
  }

  it("names BOT_DB_URL and the login when the password is wrong, without printing it", async () => {
    const error = await openStore(withPassword(postgresAdminUrl(), SECRET)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^BOT_DB_URL: PostgreSQL at 127\.0\.0\.1:\d+ refused the login/);
    expect(message).toContain("check the user and password in BOT_DB_URL");
    expectNoSecret(message);
  });

  it("names the missing database", async () => {
    const url = new URL(postgresAdminUrl());
    url.pathname = "/no_such_db";
    await expect(openStore(url.toString())).rejects.toThrow(
      /^BOT_DB_URL: database "no_such_db" does not exist on 127\.0\.0\.1:\d+; create it first/,
    );
  });

  it("gives up on an unreachable server after the connect timeout, with a clear message", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const url = `postgres://bot:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/bot`;
    const started = Date.now();
    const error = (await openStore(url, { connectTimeoutMs: 1_500 }).catch((e: Error) => e)) as Error;
    const elapsed = Date.now() - started;
    expect(error.message).toMatch(/^BOT_DB_URL: cannot use PostgreSQL at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expectNoSecret(error.message);
    // It retried (with backoff) for about the timeout, and no longer.
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe.each(DIALECTS)("%s: reopening", (dialect) => {
  const { state, open } = perTest(dialect);

  it("keeps its state across a reopen", async () => {
    let s = await open();
    expect(s.dialect).toBe(dialect);
    await s.chats.remember({ id: 42, kind: "private", firstName: "Ivan" });
    await s.chats.setState(42, "allowed", 1);
    await s.settings.set("k", "v");
    await s.close();
    state.store = undefined;
    s = await open();
    expect((await s.chats.get(42))?.state).toBe("allowed");
    expect(await s.settings.get("k")).toBe("v");
  });
});

describe.each(DIALECTS)("%s: ingest and the outbox", (dialect) => {
  const { state, open } = perTest(dialect);

  it("queues each new incident once per chat receiving at that time, and moves the watermark only forward", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.chats.remember({ id: -100, kind: "supergroup", title: "SOC" });
    await s.chats.setState(-100, "allowed", null);
    await s.chats.remember({ id: 2, kind: "private" }); // pending: receives nothing

    const first = await s.incidents.ingest([incident(2, 2000), incident(1, 1000)], 2000);
    expect(first.added).toEqual([incident(1, 0).id, incident(2, 0).id]); // oldest first
    expect(first.queued).toBe(4);
    expect(await s.incidents.watermark()).toBe(2000);

    // The same incidents again (the overlap window) add nothing; an older watermark is ignored.
    const again = await s.incidents.ingest([incident(1, 1000), incident(2, 2000), incident(3, 1500)], 1500);
    expect(again.added).toEqual([incident(3, 0).id]);
    expect(await s.incidents.watermark()).toBe(2000);

    const pending = await s.outbox.pending();
    expect(pending).toHaveLength(6);
    expect(pending.map((p) => p.chatId).sort()).toEqual([-100, -100, -100, 1, 1, 1]);
    expect((await s.outbox.pendingCounts()).get(1)).toBe(3);
  });

  it("never returns a row again once its message id is recorded", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.incidents.ingest([incident(1, 1000), incident(2, 2000)], null);
    const [row] = await s.outbox.pending(1);
    await s.outbox.markSent([row!.id], 555, "single", 1);
    await s.outbox.markSent([row!.id], 777, "single", 1); // a late duplicate does not overwrite
    const left = await s.outbox.pending();
    expect(left.map((r) => r.id)).not.toContain(row!.id);
    expect(await s.outbox.copies(row!.incidentId)).toEqual([
      expect.objectContaining({ chatId: 1, messageId: 555, via: "single" }),
    ]);
  });

  it("holds a denied chat's rows out of the queue and cancels them on request", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.incidents.ingest([incident(1, 1000)], null);
    await s.chats.setState(1, "denied", 9);
    expect(await s.outbox.pending()).toHaveLength(0);
    expect(await s.outbox.cancelForChat(1, "denied by 9")).toBe(1);
    expect((await s.outbox.totals()).cancelled).toBe(1);
  });

  it("marks copies stale when what they show changes, and not otherwise", async () => {
    const s = await open();
    await s.chats.remember({ id: 1, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    const inc = incident(1, 1000);
    await s.incidents.ingest([inc], null);
    const [row] = await s.outbox.pending();
    await s.outbox.markSent([row!.id], 10, "single", 1);
    const same = await s.incidents.refresh(inc);
    expect(same?.changed).toBe(false);
    expect(await s.outbox.staleCopies()).toHaveLength(0);

    const approved = await s.incidents.refresh({ ...inc, status: "Approved" }, undefined, {
      status: "Approved",
      by: "@ivan",
      at: new Date(5000),
    });
    expect(approved?.changed).toBe(true);
    expect(approved?.incident.lastAction?.by).toBe("@ivan");
    const stale = await s.outbox.staleCopies();
    expect(stale).toEqual([
      expect.objectContaining({ chatId: 1, messageId: 10, renderedVersion: 1, version: 2 }),
    ]);
    await s.outbox.setRenderedVersion(stale[0]!.id, 2);
    expect(await s.outbox.staleCopies()).toHaveLength(0);
  });

  it("stores untrusted text with a NUL character (PostgreSQL text cannot hold one: it is dropped there)", async () => {
    const s = await open();
    const inc = { ...incident(1, 1000), name: "Rule\u0000X" };
    await s.incidents.ingest([inc], null);
    await s.incidents.refresh({ ...inc, description: "a\u0000b" });
    await s.chats.remember({ id: -100, kind: "supergroup", title: "SOC\u0000" });
    const got = await s.incidents.get(inc.id);
    const kept = (text: string) => (dialect === "postgres" ? text.replaceAll("\u0000", "") : text);
    expect(got).toMatchObject({ name: kept("Rule\u0000X"), description: kept("a\u0000b") });
    expect((await s.chats.get(-100))?.title).toBe(kept("SOC\u0000"));
  });

  it("counts every change when two refreshes of one incident run at once", async () => {
    const s = await open();
    const inc = incident(1, 1000);
    await s.incidents.ingest([inc], null);
    for (let round = 0; round < 5; round++) {
      const before = (await s.incidents.get(inc.id))!.version;
      const [a, b] = await Promise.all([
        s.incidents.refresh({ ...inc, status: `A${round}` }),
        s.incidents.refresh({ ...inc, status: `B${round}` }),
      ]);
      expect([a?.changed, b?.changed]).toEqual([true, true]);
      // Two changes, two versions: a copy rendered at the first one is edited again for the second.
      expect((await s.incidents.get(inc.id))!.version).toBe(before + 2);
    }
  });

  it("stores events and reads them back with dates", async () => {
    const s = await open();
    const inc = incident(1, 1000);
    await s.incidents.ingest([inc], null);
    await s.incidents.refresh(
      { ...inc, description: "Описание <b>" },
      {
        events: [{ id: "e1", date: new Date("2024-03-12T06:12:07Z"), description: "Ошибка" }],
        total: 202,
      },
    );
    const got = await s.incidents.get(inc.id);
    expect(got?.events[0]?.date?.toISOString()).toBe("2024-03-12T06:12:07.000Z");
    expect(got?.totalEvents).toBe(202);
    expect(got?.description).toBe("Описание <b>");
    expect(got?.enrichedAt).toBe(state.clock);
  });
});

describe.each(DIALECTS)("%s: chats", (dialect) => {
  const { state, open } = perTest(dialect);

  it("moves a migrated group with its state and its undelivered rows", async () => {
    const s = await open();
    await s.chats.remember({ id: -5, kind: "group", title: "Old" });
    await s.chats.setState(-5, "allowed", 1);
    await s.chats.setThread(-5, null);
    await s.incidents.ingest([incident(1, 1000)], null);
    expect(await s.chats.migrate(-5, -1005)).toBe(true);
    expect(await s.chats.get(-5)).toBeUndefined();
    const moved = await s.chats.get(-1005);
    expect(moved).toMatchObject({ state: "allowed", kind: "supergroup", title: "Old" });
    expect((await s.outbox.pending()).map((p) => p.chatId)).toEqual([-1005]);
    expect(await s.chats.migrate(-77, -1077)).toBe(false);
  });

  it("lists recipients: allowed and active only", async () => {
    const s = await open();
    for (const id of [1, 2, 3]) await s.chats.remember({ id, kind: "private" });
    await s.chats.setState(1, "allowed", null);
    await s.chats.setState(2, "allowed", null);
    await s.chats.setActive(2, false, "blocked the bot");
    await s.chats.setState(3, "banned", null);
    expect((await s.chats.recipients()).map((c) => c.id)).toEqual([1]);
    expect((await s.chats.list(["banned"])).map((c) => c.id)).toEqual([3]);
    // Allowing again reactivates.
    await s.chats.setState(2, "allowed", null);
    expect((await s.chats.recipients()).map((c) => c.id)).toEqual([1, 2]);
  });

  it("writes the audit log", async () => {
    const s = await open();
    await s.audit.record({
      actorId: 7,
      actorName: "@admin",
      chatId: 7,
      action: "chat.allow",
      target: "42",
      result: "ok",
    });
    const [entry] = await s.audit.recent();
    expect(entry).toMatchObject({
      actor_id: 7,
      action: "chat.allow",
      target: "42",
      result: "ok",
      at: state.clock,
    });
  });
});
