// vitest globalSetup: one PostgreSQL cluster per `vitest run`, kept by a child process
// (postgres-cluster.ts, started by postgres-keeper.ts). Tests get its admin URL through
// inject("postgresUrl") and make their own databases in it (test/helpers/postgres.ts). The cluster
// stops in the teardown; if the run ends without one (a crash, an interrupt), the keeper sees its stdin
// close and stops it, and an exit hook signals the server by its pid as well.
import type { TestProject } from "vitest/node";
import { startPostgresCluster } from "./postgres-keeper.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: Awaited<ReturnType<typeof startPostgresCluster>>;
  try {
    cluster = await startPostgresCluster();
  } catch (error) {
    throw new Error(`PostgreSQL for the tests: ${(error as Error).message}`);
  }
  project.provide("postgresUrl", cluster.url);
  project.provide("postgresStartupMs", cluster.startupMs);
  return () => cluster.stop();
}
