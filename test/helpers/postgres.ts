// Databases in the test run's PostgreSQL cluster (started by postgres-global-setup.ts): each caller gets
// a new, empty database and drops it when done.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin URL of the run's cluster (database `postgres`). */
    postgresUrl: string;
    /** How long the cluster took to start, for the report. */
    postgresStartupMs: number;
  }
}

/** The cluster's admin URL; the globalSetup in vitest.config.ts provides it. */
export function postgresAdminUrl(): string {
  const url = inject("postgresUrl");
  if (!url)
    throw new Error("no PostgreSQL for the tests: vitest.config.ts must list postgres-global-setup.ts");
  return url;
}

async function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestPostgresDatabase {
  /** postgres://… of the new database. */
  url: string;
  name: string;
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

export async function createPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = `t_${randomBytes(8).toString("hex")}`;
  await asAdmin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await asAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}
