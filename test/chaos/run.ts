// `npm run chaos [-- --minutes N] [-- --seed S] [-- --instances 2 --db postgres]`: one chaos run against
// the built service (dist/cli.js). Prints the seed first, progress while it runs, and a summary at the
// end; exits 1 on any violation (2 on bad arguments). The same seed replays the same plan of actions.
// By default one instance runs on SQLite; `--instances 2 --db postgres` runs two on one PostgreSQL
// database (a throw-away cluster the run starts and always stops) and adds faults of leadership.

import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { formatReport, runChaos } from "./scenario.js";

function usage(problem: string): never {
  process.stderr.write(
    `chaos: ${problem}\nusage: npm run chaos -- [--minutes N] [--seed S] [--instances 1|2] [--db sqlite|postgres]\n`,
  );
  process.exit(2);
}

interface Options {
  minutes: number;
  seed: number;
  instances: number;
  db: "sqlite" | "postgres";
}

function readOptions(): Options {
  let values: { minutes?: string; seed?: string; instances?: string; db?: string };
  try {
    ({ values } = parseArgs({
      options: {
        minutes: { type: "string" },
        seed: { type: "string" },
        instances: { type: "string" },
        db: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  const minutes = values.minutes === undefined ? 3 : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 120) {
    usage(`--minutes must be a number of minutes above 0 (fractions allowed), got ${values.minutes}`);
  }
  const seed = values.seed === undefined ? randomInt(1, 2 ** 31 - 1) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    usage(`--seed must be a whole number from 0 to 4294967295, got ${values.seed}`);
  }
  const instances = values.instances === undefined ? 1 : Number(values.instances);
  if (instances !== 1 && instances !== 2) usage(`--instances must be 1 or 2, got ${values.instances}`);
  const db = values.db ?? "sqlite";
  if (db !== "sqlite" && db !== "postgres") usage(`--db must be sqlite or postgres, got ${values.db}`);
  if (instances > 1 && db !== "postgres") {
    usage("several instances share one PostgreSQL database: --instances 2 needs --db postgres");
  }
  return { minutes, seed, instances, db };
}

const { minutes, seed, instances, db } = readOptions();
// Interrupted: exit hooks end the service processes and the PostgreSQL cluster this run started.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    process.stderr.write(`chaos: ${signal}: stopping what the run started\n`);
    process.exit(130);
  });
}
const started = Date.now();
const shapeArgs = instances === 1 && db === "sqlite" ? "" : ` --instances ${instances} --db ${db}`;
process.stdout.write(
  `chaos seed ${seed} (replay: npm run chaos -- --seed ${seed} --minutes ${minutes}${shapeArgs})\n`,
);
try {
  const report = await runChaos({
    seed,
    durationMs: Math.round(minutes * 60_000),
    keepOnFailure: true,
    instances,
    db,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\n=== chaos summary (${((Date.now() - started) / 1000).toFixed(0)} s in all) ===\n`);
  process.stdout.write(`${formatReport(report)}\n`);
  process.exit(report.verdict.violations.length === 0 ? 0 : 1);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
