// vitest globalSetup: one PostgreSQL cluster per `vitest run`, kept by a child process
// (postgres-cluster.ts). Tests get its admin URL through inject("postgresUrl") and make their own
// databases in it (test/helpers/postgres.ts). The cluster stops in the teardown; if the run ends
// without one (a crash, an interrupt), the keeper sees its stdin close and stops it, and an exit hook
// here signals the server by its pid as well.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TestProject } from "vitest/node";

const KEEPER = join(import.meta.dirname, "postgres-cluster.ts");
const READY_WITHIN_MS = 90_000;
const STOP_WITHIN_MS = 20_000;

interface Ready {
  url: string;
  pid: number;
  startupMs: number;
}

function waitForReady(keeper: ChildProcess): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: keeper.stdout! });
    const timer = setTimeout(
      () => reject(new Error("PostgreSQL for the tests did not start in time")),
      READY_WITHIN_MS,
    );
    lines.once("line", (line) => {
      clearTimeout(timer);
      lines.close();
      try {
        const message = JSON.parse(line) as Ready | { error: string };
        if ("error" in message) reject(new Error(`PostgreSQL for the tests did not start: ${message.error}`));
        else resolve(message);
      } catch {
        reject(new Error(`PostgreSQL for the tests: unexpected output ${JSON.stringify(line)}`));
      }
    });
    keeper.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`PostgreSQL for the tests: its keeper exited (code ${code}) before the cluster was ready`),
      );
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

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
  project.provide("postgresUrl", ready.url);
  project.provide("postgresStartupMs", ready.startupMs);

  return async () => {
    keeper.stdin?.end();
    if (!(await exited(keeper, STOP_WITHIN_MS))) {
      signal(serverPid, "SIGKILL");
      signal(keeper.pid, "SIGKILL");
    }
    process.off("exit", onExit);
  };
}
