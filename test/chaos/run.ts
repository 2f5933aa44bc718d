// `npm run chaos [-- --minutes N] [-- --seed S]`: one chaos run against the built service
// (dist/cli.js). Prints the seed first, progress while it runs, and a summary at the end; exits 1
// on any violation (2 on bad arguments). The same seed replays the same plan of actions.

import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { formatReport, runChaos } from "./scenario.js";

function usage(problem: string): never {
  process.stderr.write(`chaos: ${problem}\nusage: npm run chaos -- [--minutes N] [--seed S]\n`);
  process.exit(2);
}

function readOptions(): { minutes: number; seed: number } {
  let values: { minutes?: string; seed?: string };
  try {
    ({ values } = parseArgs({
      options: { minutes: { type: "string" }, seed: { type: "string" } },
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
  return { minutes, seed };
}

const { minutes, seed } = readOptions();
const started = Date.now();
process.stdout.write(`chaos seed ${seed} (replay: npm run chaos -- --seed ${seed} --minutes ${minutes})\n`);
try {
  const report = await runChaos({
    seed,
    durationMs: Math.round(minutes * 60_000),
    keepOnFailure: true,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\n=== chaos summary (${((Date.now() - started) / 1000).toFixed(0)} s in all) ===\n`);
  process.stdout.write(`${formatReport(report)}\n`);
  process.exit(report.verdict.violations.length === 0 ? 0 : 1);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
