// The short chaos run inside `npm test`: the same engine as `npm run chaos`, a fixed seed, about
// half a minute of incidents, faults in both fakes and kills, then every invariant checked.

import { describe, expect, it } from "vitest";
import { ensureBuilt } from "./build.js";
import { formatReport, runChaos } from "./scenario.js";

const SEED = 20_240_611;

describe("chaos (short run)", () => {
  it("loses nothing, repeats only what kills explain, honours retry_after and never exits by itself", async () => {
    await ensureBuilt();
    const progress: string[] = [];
    const report = await runChaos({
      seed: SEED,
      durationMs: 30_000,
      settleTimeoutMs: 90_000,
      log: (line) => progress.push(line),
    });
    const summary = formatReport(report);
    // The run did real work: incidents, kills, deliveries, faults of several kinds.
    expect(report.incidents, summary).toBeGreaterThan(20);
    expect(report.kills.SIGKILL + report.kills.SIGTERM, summary).toBeGreaterThanOrEqual(2);
    expect(report.verdict.delivered, summary).toBeGreaterThanOrEqual(report.incidents * 2);
    expect(Object.keys(report.faults).length, summary).toBeGreaterThanOrEqual(4);
    expect(report.verdict.violations, `${summary}\n${progress.join("\n")}`).toEqual([]);
  }, 180_000);
});
