// PostgreSQL (BOT_DB_URL): a pg pool behind Kysely's PostgresDialect. Several processes may open the same
// database, so there is no process lock here; two of them migrating at once are serialised by the
// migrator's advisory lock (Kysely's PostgresAdapter).
import {
  Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresDialect,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
  type ValueNode,
} from "kysely";
import pg from "pg";
import { urlPasswordForms } from "../../config/types.js";
import { redactSecrets } from "../../log/logger.js";
import type { Database } from "../schema.js";
import type { OpenedDatabase, SchemaTypes } from "./types.js";

export const postgresTypes: SchemaTypes = {
  dialect: "postgres",
  int: "bigint",
  autoId: (table) => table.addColumn("id", "bigint", (c) => c.primaryKey().generatedByDefaultAsIdentity()),
};

export interface PostgresOptions {
  /** How long opening keeps retrying a server that cannot be reached (yet). Default 30 s. */
  connectTimeoutMs?: number;
  /**
   * An idle pooled connection failed (the server restarted, the network dropped). The pool drops it and
   * opens a new one for the next query; without this handler the error would be ignored, never thrown.
   */
  onConnectionError?: (error: Error) => void;
}

const INT8_OID = 20;

/**
 * pg returns int8 (bigint columns, count(*), max() of a bigint) as strings by default. Every integer
 * here is a bigint, and all of them fit in a double exactly (ids and ms timestamps are below 2^53), so
 * they come back as numbers, as on SQLite; a value that would lose precision fails the query instead.
 */
function parseInt64(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${text} is beyond the safe integer range`);
  return n;
}

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? parseInt64
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

const withoutNul = (value: unknown): unknown =>
  typeof value === "string" && value.includes("\u0000") ? value.replaceAll("\u0000", "") : value;

class NulStripper extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value = withoutNul(node.value);
    return value === node.value ? node : { ...node, value };
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return node.values.some((v) => withoutNul(v) !== v)
      ? { ...node, values: node.values.map(withoutNul) }
      : node;
  }
}

/**
 * PostgreSQL text cannot hold U+0000 ("invalid byte sequence for encoding UTF8: 0x00"); SQLite can.
 * Text from the SIEM and Telegram is untrusted, so the character is dropped from every string parameter
 * rather than failing the write. (JSON.stringify escapes it, so JSON text keeps it.)
 */
const dropNulCharacters: KyselyPlugin = {
  transformQuery: (args: PluginTransformQueryArgs): RootOperationNode =>
    new NulStripper().transformNode(args.node),
  transformResult: async (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => args.result,
};

/** The URL as it may be printed: scheme, user, host, port and database; no password, no parameters. */
export function printableUrl(url: string): string {
  const u = new URL(url);
  const user = u.username ? `${u.username}${u.password ? ":***" : ""}@` : "";
  return `${u.protocol}//${user}${u.host}${u.pathname}`;
}

/** SQLSTATEs that mean "the server is there but cannot take us yet": retried while opening. */
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  // A SQLSTATE (five characters) is the server's answer: final unless it says "not now". Anything
  // else (ECONNREFUSED, ENOTFOUND while DNS catches up, a connect timeout) may pass.
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    return !TRANSIENT_SQLSTATES.has(code) && !code.startsWith("08");
  }
  return false;
}

function describeFailure(error: unknown, url: string): string {
  const u = new URL(url);
  const where = `${u.host}`;
  const database = decodeURIComponent(u.pathname.slice(1));
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "28P01" || code === "28000") {
    return `PostgreSQL at ${where} refused the login (${message}); check the user and password in BOT_DB_URL`;
  }
  if (code === "3D000") {
    return `database "${database}" does not exist on ${where}; create it first (CREATE DATABASE ...), or fix the name in BOT_DB_URL`;
  }
  return `cannot use PostgreSQL at ${where}: ${message || String(code ?? "unknown error")}`;
}

async function waitUntilReachable(
  db: Kysely<Database>,
  url: string,
  timeoutMs: number,
  secrets: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pause = 250;
  for (;;) {
    try {
      await sql`select 1`.execute(db);
      return;
    } catch (error) {
      if (isPermanent(error) || Date.now() + pause > deadline) {
        throw new Error(`BOT_DB_URL: ${redactSecrets(describeFailure(error, url), secrets)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 5_000);
    }
  }
}

export async function openPostgres(
  url: string,
  migrate: (db: Kysely<Database>, types: SchemaTypes) => Promise<void>,
  opts: PostgresOptions = {},
): Promise<OpenedDatabase> {
  const secrets = urlPasswordForms(url);
  const location = printableUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    types: typeParsers,
    application_name: "mpsiem-telegram",
    max: 10,
    // A server that never answers must not hang a query forever (the URL may override these).
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // Required: an idle client's error is emitted on the pool, and an unhandled 'error' ends the process.
  pool.on("error", (error) => opts.onConnectionError?.(error));
  // A checked-out client is no longer heard by the pool: its connection ending between two statements
  // (pg_terminate_backend, a server restart) would throw out of the process. Its next statement fails
  // and that failure is handled where it happens; the pool drops the broken client when it comes back.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [dropNulCharacters] });
  try {
    await waitUntilReachable(db, url, opts.connectTimeoutMs ?? 30_000, secrets);
    try {
      await migrate(db, postgresTypes);
    } catch (error) {
      throw new Error(
        `BOT_DB_URL: could not prepare the database ${location}: ${redactSecrets(String(error), secrets)}`,
      );
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let closed = false;
  return {
    db,
    types: postgresTypes,
    location,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
