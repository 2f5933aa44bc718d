// The store's tests run once per dialect, as Kysely's own suite does:
//   describe.each(DIALECTS)("%s: …", (dialect) => { const database = databasePerTest(dialect); … })
// Every test gets an empty database: SQLite, a new file in a temp folder; PostgreSQL, the suite's own
// database (CREATE DATABASE once per suite, dropped after it) with its schema emptied before each test,
// which is as empty as a new database and 20 times quicker to make.
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { createPostgresDatabase, type TestPostgresDatabase } from "./postgres.js";
import { tempDir } from "./tmp.js";

export const DIALECTS = ["sqlite", "postgres"] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface TestDatabase {
  readonly dialect: Dialect;
  /** What openStore takes: this test's SQLite file path, or the postgres:// URL. */
  readonly target: string;
}

async function emptySchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
  } finally {
    await client.end();
  }
}

/**
 * Call inside a describe: an empty database for each of its tests. `file` is the SQLite file's path
 * inside its temp folder. Close the test's stores in an afterEach registered after this call (vitest
 * runs afterEach hooks last-registered first), so the folder is removed after they are closed.
 */
export function databasePerTest(dialect: Dialect, file = "bot.db"): TestDatabase {
  let target = "";
  if (dialect === "sqlite") {
    let tmp: ReturnType<typeof tempDir> | undefined;
    beforeEach(() => {
      tmp = tempDir();
      target = join(tmp.dir, file);
    });
    afterEach(() => {
      tmp?.cleanup();
      tmp = undefined;
    });
  } else {
    let database: TestPostgresDatabase | undefined;
    beforeAll(async () => {
      database = await createPostgresDatabase();
    });
    afterAll(async () => {
      await database?.drop();
    });
    beforeEach(async () => {
      target = database!.url;
      await emptySchema(target);
    });
  }
  return {
    dialect,
    get target() {
      if (!target) throw new Error("databasePerTest: the target exists inside a test only");
      return target;
    },
  };
}
