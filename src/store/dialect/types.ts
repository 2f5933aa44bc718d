// What a SQL dialect must provide to the store. Each dialect (sqlite.ts, postgres.ts) is the ONE place
// where it differs from the other; migrations and repositories are the same code for both.
import type { CreateTableBuilder, Kysely } from "kysely";
import type { Database } from "../schema.js";

export type DialectName = "sqlite" | "postgres";

/** The column types migrations take from the dialect instead of writing them out. */
export interface SchemaTypes {
  readonly dialect: DialectName;
  /**
   * Every integer column. SQLite: `integer` (always 64-bit; the released schema says so);
   * PostgreSQL: `bigint`, because Telegram ids and millisecond timestamps do not fit in 32 bits.
   */
  readonly int: "integer" | "bigint";
  /** Adds `id`: an auto-increment integer primary key. Use as `createTable("x").$call(t.autoId)`. */
  autoId<TB extends string, C extends string>(
    table: CreateTableBuilder<TB, C>,
  ): CreateTableBuilder<TB, C | "id">;
}

export interface OpenedDatabase {
  readonly db: Kysely<Database>;
  readonly types: SchemaTypes;
  /** Where the data lives, safe to print: the SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  close(): Promise<void>;
}
