// A failing chaos run is replayed from its seed: the plan must be a pure function of seed and length.
import { describe, expect, it } from "vitest";
import { makePlan } from "./plan.js";

describe("chaos plan", () => {
  it("is the same for the same seed and length, and differs for another seed", () => {
    expect(makePlan(42, 180_000)).toEqual(makePlan(42, 180_000));
    expect(makePlan(43, 180_000).actions).not.toEqual(makePlan(42, 180_000).actions);
  });

  it("spreads every kind of fault, kills of both kinds, a block with its unblock and a migration over a run", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = makePlan(seed, 180_000);
      const kinds = new Set(plan.actions.map((a) => a.action.kind));
      for (const kind of ["incident", "siemStatus", "kill", "block", "unblock", "migrate"]) {
        expect(kinds, `seed ${seed}: ${kind}`).toContain(kind);
      }
      expect(
        [...kinds].filter((k) => k.startsWith("siem") && k !== "siemStatus").length,
      ).toBeGreaterThanOrEqual(2);
      expect([...kinds].filter((k) => k.startsWith("tg")).length).toBeGreaterThanOrEqual(2);
      const signals = plan.actions.flatMap((a) => (a.action.kind === "kill" ? [a.action.signal] : []));
      expect(signals).toContain("SIGKILL");
      expect(signals).toContain("SIGTERM");
      expect(signals.length).toBeGreaterThanOrEqual(5);
      const times = plan.actions.map((a) => a.atMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(Math.max(...times)).toBeLessThan(180_000);
      const at = (kind: string) => plan.actions.find((a) => a.action.kind === kind)!.atMs;
      expect(at("unblock")).toBeGreaterThan(at("block"));
      expect(plan.pollIntervalSec).toBeGreaterThanOrEqual(0.5);
      expect(plan.pollIntervalSec).toBeLessThanOrEqual(1);
    }
  });
});
