import { describe, expect, it } from "vitest";
import {
  type ActiveHoursSpec,
  localClock,
  parseActiveHours,
  withinActiveHours,
} from "../../src/routing/index.js";

function spec(text: string): ActiveHoursSpec {
  const r = parseActiveHours(text);
  if (!r.ok) throw new Error(`${text}: ${r.problem}`);
  return r.spec;
}

/** 2024-03-04 is a Monday. */
const at = (isoLocal: string, zone = "Europe/Moscow") => {
  const ms = Date.parse(isoLocal);
  return localClock(ms, zone);
};

describe("active hours", () => {
  it("reads days, spans (also wrapping) and time ranges", () => {
    expect([...spec("monday-friday 09:00-18:00").days].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(spec("monday-friday 09:00-18:00").ranges).toEqual([[540, 1080]]);
    expect([...spec("Fri-Mon").days].sort()).toEqual([0, 1, 5, 6]);
    expect([...spec("saturday, sunday 10:00-14:00").days].sort()).toEqual([0, 6]);
    expect([...spec("monday:wednesday").days].sort()).toEqual([1, 2, 3]);
    expect(spec("mon-fri").ranges).toEqual([[0, 1440]]);
    expect(spec("22:00-24:00, 00:00-06:00").ranges).toEqual([
      [1320, 1440],
      [0, 360],
    ]);
    expect(spec("08:00-22:00").days.size).toBe(7);
  });

  it("refuses what it cannot read, saying why", () => {
    for (const bad of [
      "",
      "funday 09:00-10:00",
      "monday 9-18",
      "22:00-06:00",
      "monday 09:00-09:00",
      "25:00-26:00",
      "mon-tue-wed",
    ]) {
      const r = parseActiveHours(bad);
      expect(r.ok, bad).toBe(false);
    }
    const overnight = parseActiveHours("22:00-06:00");
    expect(!overnight.ok && overnight.problem).toContain("22:00-24:00, 00:00-06:00");
  });

  it("holds inside a range (start included, end excluded), on its days, in the configured zone", () => {
    const work = [spec("monday-friday 09:00-18:00")];
    // Moscow is UTC+3.
    expect(withinActiveHours(work, at("2024-03-04T06:00:00Z"))).toBe(true); // Mon 09:00 MSK
    expect(withinActiveHours(work, at("2024-03-04T05:59:00Z"))).toBe(false); // Mon 08:59
    expect(withinActiveHours(work, at("2024-03-04T15:00:00Z"))).toBe(false); // Mon 18:00
    expect(withinActiveHours(work, at("2024-03-04T14:59:00Z"))).toBe(true);
    expect(withinActiveHours(work, at("2024-03-09T10:00:00Z"))).toBe(false); // Saturday
    // Sunday 23:30 UTC is already Monday 02:30 in Moscow.
    expect(at("2024-03-03T23:30:00Z")).toEqual({ weekday: 1, minute: 150 });
    expect(at("2024-03-03T23:30:00Z", "UTC")).toEqual({ weekday: 0, minute: 1410 });
  });

  it("holds when any spec holds, and always without specs", () => {
    const specs = [spec("monday-friday 09:00-18:00"), spec("saturday 10:00-14:00")];
    expect(withinActiveHours(specs, at("2024-03-09T08:00:00Z"))).toBe(true); // Sat 11:00 MSK
    expect(withinActiveHours(specs, at("2024-03-10T08:00:00Z"))).toBe(false); // Sun
    expect(withinActiveHours([], at("2024-03-10T08:00:00Z"))).toBe(true);
    expect(withinActiveHours([spec("00:00-24:00")], at("2024-03-10T20:59:00Z"))).toBe(true);
  });
});
