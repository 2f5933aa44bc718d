// Opens the store: SQLite at a file path (the default), or PostgreSQL when given a postgres:// URL
// (BOT_DB_URL). The dialect does the opening; the migrations are the same for both.
import { type Kysely, Migrator } from "kysely";
import { openPostgres, type PostgresOptions } from "./dialect/postgres.js";
import { openSqlite } from "./dialect/sqlite.js";
import type { OpenedDatabase, SchemaTypes } from "./dialect/types.js";
import { migrationProvider } from "./migrations.js";
import type { Database } from "./schema.js";

export { StoreLockedError } from "./dialect/sqlite.js";
export type { OpenedDatabase };

export type OpenOptions = PostgresOptions;

/** `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is a SQLite file path. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

async function migrateToLatest(db: Kysely<Database>, types: SchemaTypes): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(types) });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

export async function openDatabase(target: string, opts: OpenOptions = {}): Promise<OpenedDatabase> {
  return isPostgresUrl(target)
    ? openPostgres(target, migrateToLatest, opts)
    : openSqlite(target, migrateToLatest);
}
