// When a step held outside a policy's active hours may go (schedule/policies.ts activeFrom).
import { describe, expect, it } from "vitest";
import { parseActiveHours } from "../../src/routing/index.js";
import { activeFrom } from "../../src/schedule/policies.js";

function hours(...specs: string[]) {
  return specs.map((text) => {
    const parsed = parseActiveHours(text);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.spec;
  });
}

describe("activeFrom", () => {
  it("is now within the hours", () => {
    const at = Date.UTC(2026, 11, 7, 10, 17, 30); // Monday 10:17:30 UTC
    expect(activeFrom(hours("monday-friday 09:00-18:00"), at, "UTC")).toBe(at);
  });

  it("is the next start, across the night and the weekend", () => {
    expect(activeFrom(hours("09:00-18:00"), Date.UTC(2026, 11, 7, 2, 0), "UTC")).toBe(
      Date.UTC(2026, 11, 7, 9, 0),
    );
    // Friday 19:30 → Monday 09:00.
    expect(activeFrom(hours("monday-friday 09:00-18:00"), Date.UTC(2026, 11, 11, 19, 30), "UTC")).toBe(
      Date.UTC(2026, 11, 14, 9, 0),
    );
  });

  it("counts in the time zone given", () => {
    // 02:00 in Moscow (UTC+3) is 23:00 UTC the day before; 09:00 there is 06:00 UTC.
    expect(activeFrom(hours("09:00-18:00"), Date.UTC(2026, 11, 6, 23, 0), "Europe/Moscow")).toBe(
      Date.UTC(2026, 11, 7, 6, 0),
    );
  });

  it("finds the start across a change of UTC offset", () => {
    // Berlin moves from UTC+1 to UTC+2 at 02:00 local on 29 March 2026: 09:00 local that day is 07:00 UTC,
    // and 03:00 local (the first minute after the jump) is 01:00 UTC.
    const night = Date.UTC(2026, 2, 28, 23, 30); // 00:30 local
    expect(activeFrom(hours("09:00-18:00"), night, "Europe/Berlin")).toBe(Date.UTC(2026, 2, 29, 7, 0));
    expect(activeFrom(hours("03:00-04:00"), night, "Europe/Berlin")).toBe(Date.UTC(2026, 2, 29, 1, 0));
    // And back to UTC+1 on 25 October 2026: 09:00 local is 08:00 UTC.
    expect(activeFrom(hours("09:00-18:00"), Date.UTC(2026, 9, 24, 23, 0), "Europe/Berlin")).toBe(
      Date.UTC(2026, 9, 25, 8, 0),
    );
  });
});
