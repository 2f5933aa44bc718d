// The notification latency (poll intervals 1 s and 3 s) and the 2,500-incident burst with the service
// on PostgreSQL (BOT_DB_URL, one instance, an empty database of a throw-away cluster per world), each
// beside the same world on SQLite measured in the same run: the same seeds, the same machine load.
// The four latency worlds run together (each mostly waits on its own clock, as in the full run); the
// two bursts run one after the other.
import pg from "pg";
import { startPostgresCluster } from "../../test/helpers/postgres-keeper.js";
import type { Outcome } from "../lib/report.js";
import { type BurstResult, runBurst } from "./burst.js";
import { type LatencyResult, runLatency } from "./latency.js";

export interface PostgresComparison {
  latency: Array<{
    intervalSec: number;
    sqlite: Outcome<LatencyResult>;
    postgres: Outcome<LatencyResult>;
  }>;
  burst: { size: number; sqlite: Outcome<BurstResult>; postgres: Outcome<BurstResult> };
  clusterStartupSec: number;
  /** PostgreSQL's server version. */
  server: string;
}

async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export async function runPostgresComparison(opts: {
  latencyIncidents: number;
  burstSize: number;
  burstTimeoutSec: number;
  /** The full run's seeds, so each world gets the same incidents as there. */
  latencySeeds: { 1: number; 3: number };
  burstSeed: number;
  log: (line: string) => void;
}): Promise<PostgresComparison> {
  const cluster = await startPostgresCluster();
  try {
    const database = (name: string) => cluster.createDatabase(name);
    const latencyRuns = ([1, 3] as const).map(async (intervalSec) => {
      const seed = opts.latencySeeds[intervalSec];
      const [sqlite, postgres] = await Promise.all([
        outcome(() => runLatency({ intervalSec, incidents: opts.latencyIncidents, seed })),
        outcome(async () =>
          runLatency({
            intervalSec,
            incidents: opts.latencyIncidents,
            seed,
            dbUrl: await database(`latency_${intervalSec}s`),
          }),
        ),
      ]);
      opts.log(`latency ${intervalSec} s on SQLite and PostgreSQL: done`);
      return { intervalSec, sqlite, postgres };
    });
    const latency = await Promise.all(latencyRuns);
    const burstOptions = { size: opts.burstSize, seed: opts.burstSeed, timeoutSec: opts.burstTimeoutSec };
    const postgres = await outcome(async () =>
      runBurst({ ...burstOptions, dbUrl: await database(`burst_${opts.burstSize}`) }),
    );
    opts.log(`burst ${opts.burstSize} on PostgreSQL: done`);
    const sqlite = await outcome(() => runBurst(burstOptions));
    opts.log(`burst ${opts.burstSize} on SQLite: done`);
    return {
      latency,
      burst: { size: opts.burstSize, sqlite, postgres },
      clusterStartupSec: cluster.startupMs / 1000,
      server: await serverVersion(cluster.url),
    };
  } finally {
    await cluster.stop();
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>("show server_version");
    return rows[0]?.server_version ?? "unknown";
  } catch {
    return "unknown";
  } finally {
    await client.end().catch(() => undefined);
  }
}
