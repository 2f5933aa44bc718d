import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatSiemTime, parseSiemTime } from "../../src/siem/time.js";

const iso = (value: unknown) => parseSiemTime(value)?.toISOString() ?? null;

describe("parseSiemTime", () => {
  it("reads the SIEM's 7-digit UTC form, truncating below the millisecond", () => {
    expect(iso("2024-03-12T06:12:00.4571234Z")).toBe("2024-03-12T06:12:00.457Z");
    expect(iso("2024-03-12T06:12:00.9999999Z")).toBe("2024-03-12T06:12:00.999Z");
  });

  it.each([
    ["2024-03-12T06:12:00Z", "2024-03-12T06:12:00.000Z"],
    ["2024-03-12T06:12:00.1Z", "2024-03-12T06:12:00.100Z"],
    ["2024-03-12T06:12:00.12Z", "2024-03-12T06:12:00.120Z"],
    ["2024-03-12T06:12:00.123Z", "2024-03-12T06:12:00.123Z"],
    ["2024-03-12T06:12:00.123456Z", "2024-03-12T06:12:00.123Z"],
    ["2024-03-12T06:12:00.123456789Z", "2024-03-12T06:12:00.123Z"],
    ["2024-03-12t06:12:00.5z", "2024-03-12T06:12:00.500Z"],
    ["2024-03-12 06:12:00.5Z", "2024-03-12T06:12:00.500Z"],
    ["2024-03-12T06:12Z", "2024-03-12T06:12:00.000Z"],
  ])("reads %s with any number of fraction digits", (input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it("reads a naive time as UTC", () => {
    expect(iso("2024-03-11T11:12:00.123456")).toBe("2024-03-11T11:12:00.123Z");
    expect(iso("2024-03-11")).toBe("2024-03-11T00:00:00.000Z");
  });

  it("converts offsets to UTC", () => {
    expect(iso("2024-03-12T09:12:00.5+03:00")).toBe("2024-03-12T06:12:00.500Z");
    expect(iso("2024-03-12T01:12:00-0500")).toBe("2024-03-12T06:12:00.000Z");
    expect(iso("2024-03-12T08:12:00+02")).toBe("2024-03-12T06:12:00.000Z");
    expect(iso("2024-01-01T00:30:00+01:00")).toBe("2023-12-31T23:30:00.000Z");
  });

  it("reads unix seconds as a number or a digit string", () => {
    expect(iso(1710223920)).toBe("2024-03-12T06:12:00.000Z");
    expect(iso(1710223920.25)).toBe("2024-03-12T06:12:00.250Z");
    expect(iso("1710223920")).toBe("2024-03-12T06:12:00.000Z");
    expect(iso(0)).toBe("1970-01-01T00:00:00.000Z");
  });

  it("keeps years below 100 as written (no 19xx shift)", () => {
    expect(iso("0050-06-01T00:00:00Z")).toBe("0050-06-01T00:00:00.000Z");
  });

  it.each([
    null,
    undefined,
    "",
    "   ",
    "garbage",
    "2024-13-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-03-12T24:00:00Z",
    "2024-03-12T06:60:00Z",
    "2024-03-12T06:12:61Z",
    "2024-03-12T06:12:00.1234567890Z",
    "2024-03-12T06:12:00+25:00",
    "2024-03-12T06:12:00Zjunk",
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e20,
    true,
    {},
    [],
  ])("returns null for %j", (input) => {
    expect(parseSiemTime(input)).toBeNull();
  });

  it("accepts 29 February in a leap year", () => {
    expect(iso("2024-02-29T12:00:00Z")).toBe("2024-02-29T12:00:00.000Z");
  });

  it("never throws, whatever it is given", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const result = parseSiemTime(value);
        expect(result === null || !Number.isNaN(result.getTime())).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (value) => {
        const result = parseSiemTime(value);
        expect(result === null || !Number.isNaN(result.getTime())).toBe(true);
      }),
    );
  });
});

describe("formatSiemTime", () => {
  it("writes UTC with exactly 3 fraction digits and Z", () => {
    expect(formatSiemTime(new Date(Date.UTC(2024, 2, 12, 6, 12, 0, 7)))).toBe("2024-03-12T06:12:00.007Z");
  });

  it("round-trips through parseSiemTime at millisecond precision", () => {
    const dates = fc.date({
      min: new Date("1971-01-01T00:00:00Z"),
      max: new Date("2999-12-31T23:59:59Z"),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(dates, (date) => {
        const text = formatSiemTime(date);
        expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(parseSiemTime(text)?.getTime()).toBe(date.getTime());
      }),
    );
  });
});
