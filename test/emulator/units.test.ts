import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareInstants, formatInstant, nextTick, parseTimeValue } from "../../src/emulator/instant.js";
import { Random } from "../../src/emulator/random.js";
import { compileWhere } from "../../src/emulator/where.js";
import { SEVEN_DIGITS } from "./helpers.js";

describe("instants", () => {
  it("formats with exactly 7 fraction digits and Z", () => {
    expect(formatInstant({ ms: Date.parse("2024-03-12T06:12:00.457Z"), sub: 1234 })).toBe(
      "2024-03-12T06:12:00.4571234Z",
    );
    expect(formatInstant({ ms: Date.parse("2024-03-12T06:12:00Z"), sub: 0 })).toBe(
      "2024-03-12T06:12:00.0000000Z",
    );
    expect(formatInstant({ ms: Date.parse("2024-03-12T06:12:00.999Z"), sub: 9999 })).toBe(
      "2024-03-12T06:12:00.9999999Z",
    );
  });

  it("round-trips any instant through format and parse", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Date.parse("2099-12-31T00:00:00Z") }),
        fc.integer({ min: 0, max: 9999 }),
        (ms, sub) => {
          const text = formatInstant({ ms, sub });
          expect(text).toMatch(SEVEN_DIGITS);
          expect(parseTimeValue(text, "t")).toEqual({ ms, sub });
        },
      ),
    );
  });

  it("nextTick carries into the next millisecond", () => {
    expect(nextTick({ ms: 5, sub: 9999 })).toEqual({ ms: 6, sub: 0 });
    expect(compareInstants(nextTick({ ms: 5, sub: 3 }), { ms: 5, sub: 3 })).toBeGreaterThan(0);
  });

  it("parses naive times as UTC, offsets, dates, and unix seconds", () => {
    const at = (text: unknown) => parseTimeValue(text, "timeFrom");
    expect(at("2024-03-11T11:12:00.123456")).toEqual({
      ms: Date.parse("2024-03-11T11:12:00.123Z"),
      sub: 4560,
    });
    expect(at("2024-03-11 11:12:00")).toEqual({ ms: Date.parse("2024-03-11T11:12:00Z"), sub: 0 });
    expect(at("2024-03-11T14:12:00.5+03:00")).toEqual({ ms: Date.parse("2024-03-11T11:12:00.500Z"), sub: 0 });
    expect(at("2024-03-11T06:12:00-0500")).toEqual({ ms: Date.parse("2024-03-11T11:12:00Z"), sub: 0 });
    expect(at("2024-03-11")).toEqual({ ms: Date.parse("2024-03-11T00:00:00Z"), sub: 0 });
    expect(at(1710155520.25)).toEqual({ ms: 1710155520250, sub: 0 });
    expect(at(null)).toBeNull();
    expect(at(undefined)).toBeNull();
    expect(at("  ")).toBeNull();
  });

  it("rejects non-dates with a message naming the field", () => {
    for (const bad of ["soon", "2024-13-01T00:00:00Z", "2024-03-11T25:00:00Z", true, {}, Number.NaN]) {
      expect(() => parseTimeValue(bad, "timeFrom"), String(bad)).toThrow(/timeFrom/);
    }
  });
});

describe("where", () => {
  const incident = {
    status: "New",
    name: "soc_Password_brute",
    key: "INC-7",
    severity: "High",
    isconfirmed: "false",
  };
  const matches = (where: string, fields: Record<string, string> = incident) =>
    compileWhere(where)((field) => fields[field] ?? "");

  it("evaluates the operators and precedence (AND binds tighter than OR)", () => {
    expect(matches("status = 'New' OR status = 'Closed' AND severity = 'Low'")).toBe(true);
    expect(matches("(status = 'New' OR status = 'Closed') AND severity = 'Low'")).toBe(false);
    expect(matches("NOT status = 'Closed'")).toBe(true);
    expect(matches("status <> 'new'")).toBe(false);
    expect(matches("status == 'NEW'")).toBe(true);
    expect(matches("match(name, 'SOC_%brute')")).toBe(true);
    expect(matches("match(name, 'soc_')")).toBe(false); // no wildcard: whole-string match
    expect(matches("match(name, 'socX%')")).toBe(false); // '_' is literal
    expect(matches("key in ('INC-1', \"INC-7\")")).toBe(true);
    expect(matches("key not in ['INC-7']")).toBe(false);
    expect(matches("name contains 'PASSWORD'")).toBe(true);
    expect(matches("key = inc-7 and status = new")).toBe(true); // unquoted values
    expect(matches('name = "it\'s"', { name: "it's" })).toBe(true);
    expect(matches("name = 'it''s'", { name: "it's" })).toBe(true);
  });

  it("reports syntax errors with a position or the unknown name", () => {
    expect(() => compileWhere("status = ")).toThrow(/value/);
    expect(() => compileWhere("status = 'New")).toThrow(/unterminated/);
    expect(() => compileWhere("(status = 'New'")).toThrow(/'\)'/);
    expect(() => compileWhere("owner = 'me'")).toThrow(/unknown field 'owner'/);
    expect(() => compileWhere("status > 'New'")).toThrow(/not supported/);
    expect(() => compileWhere("status = 'New' garbage")).toThrow(/unexpected 'garbage'/);
  });
});

describe("Random", () => {
  it("is reproducible per seed and spreads uniformly enough", () => {
    const a = new Random(5);
    const b = new Random(5);
    const seqA = Array.from({ length: 10 }, () => a.nextUint32());
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(seqA);
    expect(new Set(seqA).size).toBe(10);
    const r = new Random(6);
    const buckets = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) buckets[r.int(0, 3)]! += 1;
    for (const n of buckets) expect(n).toBeGreaterThan(800);
    expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
