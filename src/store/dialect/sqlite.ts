// SQLite (the default): one file, folder created, file 0600, WAL, and a process lock so that a second
// service on the same file refuses to start.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Database } from "../schema.js";
import type { OpenedDatabase, SchemaTypes } from "./types.js";

export const sqliteTypes: SchemaTypes = {
  dialect: "sqlite",
  int: "integer",
  autoId: (table) => table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement()),
};

export class StoreLockedError extends Error {
  override readonly name = "StoreLockedError";
  constructor(readonly dbPath: string) {
    super(
      `BOT_DB_PATH: another mpsiem-telegram process is already using ${dbPath} ` +
        `(lock ${dbPath}.lock is held). Stop it first, or give this one its own BOT_DB_PATH — ` +
        "two services on one database would send every incident twice.",
    );
  }
}

/** Creates the file with mode 0600 before SQLite opens it, so it is never readable by others. */
function createPrivateFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
}

/**
 * The lock is a second tiny SQLite file held in EXCLUSIVE locking mode for the life of the process.
 * The kernel releases it when the process dies (even on kill -9), so there is no stale lock to clean up,
 * and the main database stays readable by other tools.
 */
function acquireLock(dbPath: string): SQLite.Database {
  const lockPath = `${dbPath}.lock`;
  createPrivateFile(lockPath);
  const lock = new SQLite(lockPath, { timeout: 0 });
  try {
    lock.pragma("journal_mode = DELETE");
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.exec("CREATE TABLE IF NOT EXISTS owner (pid INTEGER, host TEXT, started_at INTEGER)");
    lock.prepare("DELETE FROM owner").run();
    lock
      .prepare("INSERT INTO owner (pid, host, started_at) VALUES (?, ?, ?)")
      .run(process.pid, hostname(), Date.now());
  } catch (error) {
    lock.close();
    if (error instanceof Error && /locked|busy/i.test(error.message)) throw new StoreLockedError(dbPath);
    throw error;
  }
  return lock;
}

function privateSideFiles(path: string): void {
  for (const side of ["-wal", "-shm"]) if (existsSync(path + side)) chmodSync(path + side, 0o600);
}

/** Opens the file under the process lock; `migrate` runs before the database is handed out. */
export async function openSqlite(
  dbPath: string,
  migrate: (db: Kysely<Database>, types: SchemaTypes) => Promise<void>,
): Promise<OpenedDatabase> {
  const path = resolve(dbPath);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const lock = acquireLock(path);
  try {
    createPrivateFile(path);
    const sqlite = new SQLite(path, { timeout: 5000 });
    sqlite.pragma("journal_mode = WAL");
    // NORMAL is durable across a process crash in WAL mode; only an OS crash may lose the last commit.
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    privateSideFiles(path);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    try {
      await migrate(db, sqliteTypes);
    } catch (error) {
      await db.destroy();
      throw new Error(`BOT_DB_PATH: could not prepare the database ${path}: ${String(error)}`);
    }
    privateSideFiles(path);
    let closed = false;
    return {
      db,
      types: sqliteTypes,
      location: path,
      async close() {
        if (closed) return;
        closed = true;
        await db.destroy();
        lock.close();
      },
    };
  } catch (error) {
    lock.close();
    throw error;
  }
}
