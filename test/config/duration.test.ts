import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/config/duration.js";

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["90", 90_000],
    ["1.5", 1_500],
    ["0.2", 200],
    ["30s", 30_000],
    ["30m", 1_800_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
    ["1h30m", 5_400_000],
    ["1h 30m", 5_400_000],
    ["500ms", 500],
    ["1.5h", 5_400_000],
    [" 10m ", 600_000],
    ["10M", 600_000],
  ])("%j is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    "",
    " ",
    "-1",
    "-5m",
    "soon",
    "1x",
    "m",
    "1.5.5",
    "10 minutes",
    "1h30",
    "30s-",
    "Infinity",
    "NaN",
  ])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it("rejects values too large to count in milliseconds", () => {
    expect(parseDuration("99999999999999999999d")).toBeNull();
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0"],
    [500, "500ms"],
    [1_500, "1.5s"],
    [90_000, "1m30s"],
    [86_400_000, "1d"],
    [5_400_000, "1h30m"],
  ])("%d ms is %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("is read back by parseDuration as the same number of milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
