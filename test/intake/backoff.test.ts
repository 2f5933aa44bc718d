import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "../../src/intake/index.js";

const policy = { baseMs: 3_000, capMs: 60_000 };
const lowest = () => 0;
const highest = () => 0.999_999;

describe("backoffDelayMs", () => {
  it("doubles per failure between half and all of the step, up to the cap", () => {
    const ceilings = [3_000, 6_000, 12_000, 24_000, 48_000, 60_000, 60_000];
    ceilings.forEach((ceiling, i) => {
      expect(backoffDelayMs(i + 1, "server", policy, lowest)).toBe(ceiling / 2);
      expect(backoffDelayMs(i + 1, "server", policy, highest)).toBe(ceiling);
    });
  });

  it("goes to the cap at once for failures that need a person", () => {
    for (const kind of ["credentials", "tls", "forbidden"] as const) {
      expect(backoffDelayMs(1, kind, policy, lowest)).toBe(30_000);
      expect(backoffDelayMs(1, kind, policy, highest)).toBe(60_000);
    }
  });

  it("stays finite and capped for absurd failure counts", () => {
    expect(backoffDelayMs(10_000, "timeout", policy, highest)).toBe(60_000);
    expect(backoffDelayMs(0, "network", policy, highest)).toBe(3_000);
  });
});
