// The matcher grammar by example: what parses to what, what is refused and with which matcher named, and
// what an incident makes of the compiled matchers.

import { describe, expect, it } from "vitest";
import {
  compileMatchers,
  describeMatcherErrorEn,
  formatMatchers,
  incidentFacts,
  type Matcher,
  parseMatchers,
  splitComment,
} from "../../src/routing/index.js";

function ok(src: string): Matcher[] {
  const r = parseMatchers(src);
  if (!r.ok) throw new Error(`expected ${src} to parse: ${describeMatcherErrorEn(r.error)}`);
  return r.matchers;
}

function refused(src: string) {
  const r = parseMatchers(src);
  if (r.ok) throw new Error(`expected ${src} to be refused, got ${JSON.stringify(r.matchers)}`);
  return r.error;
}

const incident = (
  over: Partial<{ severity: string; type: string; category: string; name: string }> = {},
) => ({
  severity: "High",
  type: "Network",
  category: "Attack",
  name: "Web_Bulk_Failed_URL_Access on srv-01",
  ...over,
});

describe("parsing", () => {
  it("reads FIELD OP VALUE lists separated by any whitespace", () => {
    expect(ok("severity>=high type=Network")).toEqual([
      { field: "severity", op: ">=", value: "high" },
      { field: "type", op: "=", value: "Network" },
    ]);
    expect(ok('  name!=x \n\t rule=~"^Brute.*"  ')).toEqual([
      { field: "name", op: "!=", value: "x" },
      { field: "rule", op: "=~", value: "^Brute.*" },
    ]);
    expect(ok("")).toEqual([]);
    expect(ok("   ")).toEqual([]);
  });

  it("takes every operator, the longest that fits", () => {
    for (const op of ["=", "!=", "=~", "!~"]) expect(ok(`name${op}a`)[0]!.op).toBe(op);
    for (const op of [">=", "<=", ">", "<"])
      expect(ok(`severity${op}medium`)[0]).toEqual({ field: "severity", op, value: "medium" });
    // The rest after the operator is the value, whatever it holds.
    expect(ok("name==x")[0]).toEqual({ field: "name", op: "=", value: "=x" });
  });

  it("accepts severities in any case and in Russian, stored canonically", () => {
    for (const word of ["High", "HIGH", "high", "высокая", "Высокая", "ВЫСОКИЙ"]) {
      expect(ok(`severity=${word}`)[0]!.value).toBe("high");
    }
    expect(ok("severity<=Средняя")[0]!.value).toBe("medium");
    expect(ok("Severity>низкая")[0]).toEqual({ field: "severity", op: ">", value: "low" });
  });

  it('reads quoted values with spaces and \\" escapes; other backslashes stay', () => {
    expect(ok('name="Port scan from \\"outside\\""')[0]!.value).toBe('Port scan from "outside"');
    expect(ok('name=~"^Web_\\d+ .*"')[0]!.value).toBe("^Web_\\d+ .*");
    expect(ok('name="a\\\\b"')[0]!.value).toBe("a\\b");
    expect(ok('type=""')[0]!.value).toBe("");
  });

  it("names the offending matcher when refusing", () => {
    expect(refused("severity>=high sev=low")).toMatchObject({
      matcher: "sev=low",
      problem: { kind: "unknown-field" },
    });
    expect(refused("severity>=urgent")).toMatchObject({
      matcher: "severity>=urgent",
      problem: { kind: "bad-severity" },
    });
    expect(refused("type=x name>=abc")).toMatchObject({
      matcher: "name>=abc",
      problem: { kind: "ordering-not-severity" },
    });
    expect(refused("severity >= high")).toMatchObject({
      matcher: "severity",
      problem: { kind: "no-operator" },
    });
    expect(refused("high")).toMatchObject({ matcher: "high", problem: { kind: "not-a-matcher" } });
    expect(refused('name="open')).toMatchObject({
      matcher: 'name="open',
      problem: { kind: "unterminated-quote" },
    });
    expect(refused('name="a"b')).toMatchObject({
      matcher: 'name="a"b',
      problem: { kind: "text-after-quote" },
    });
    expect(refused("name=")).toMatchObject({ matcher: "name=", problem: { kind: "no-value" } });
    expect(refused('name=a"b')).toMatchObject({ problem: { kind: "stray-quote" } });
    expect(refused("name=~(a")).toMatchObject({
      matcher: "name=~(a",
      problem: { kind: "bad-regex", problem: { kind: "syntax" } },
    });
    expect(refused("name=~(a+)+")).toMatchObject({
      problem: { kind: "bad-regex", problem: { kind: "nested-repeat" } },
    });
    expect(describeMatcherErrorEn(refused("severity=urgent"))).toBe(
      'matcher "severity=urgent": "urgent" is not a severity: use low, medium, high (any case; also низкая, средняя, высокая)',
    );
  });

  it("bounds the number of matchers and the length of a value", () => {
    expect(refused(Array.from({ length: 17 }, (_, i) => `name=a${i}`).join(" ")).problem.kind).toBe(
      "too-many",
    );
    expect(refused(`name=${"x".repeat(501)}`).problem.kind).toBe("value-too-long");
  });

  it("formats canonically, quoting only what needs it", () => {
    expect(formatMatchers(ok("Severity>=HIGH  TYPE=Network"))).toBe("severity>=high type=Network");
    expect(formatMatchers(ok('name="a b"'))).toBe('name="a b"');
    expect(formatMatchers(ok('name="~x"'))).toBe('name="~x"');
    expect(formatMatchers(ok('type=""'))).toBe('type=""');
    expect(formatMatchers(ok('name="q\\"uote"'))).toBe('name="q\\"uote"');
  });

  it("splits a mute's comment after a lone --", () => {
    expect(splitComment("severity<=medium -- night works")).toEqual({
      matchers: "severity<=medium",
      comment: "night works",
    });
    expect(splitComment('name="a -- b" -- c')).toEqual({ matchers: 'name="a -- b"', comment: "c" });
    expect(splitComment("-- all of it")).toEqual({ matchers: "", comment: "all of it" });
    expect(splitComment("name=a--b")).toEqual({ matchers: "name=a--b", comment: "" });
  });
});

describe("matching", () => {
  const holds = (src: string, inc = incident(), rules?: string[]) =>
    compileMatchers(ok(src))(incidentFacts(inc, rules));

  it("compares severities by rank: Low < Medium < High", () => {
    expect(holds("severity>=high")).toBe(true);
    expect(holds("severity>=high", incident({ severity: "Medium" }))).toBe(false);
    expect(holds("severity<medium", incident({ severity: "Low" }))).toBe(true);
    expect(holds("severity>low", incident({ severity: "Medium" }))).toBe(true);
    expect(holds("severity<=medium", incident({ severity: "High" }))).toBe(false);
    expect(holds("severity=medium", incident({ severity: "medium" }))).toBe(true);
    // An unknown severity satisfies no comparison, and differs from every level.
    expect(holds("severity>=low", incident({ severity: "" }))).toBe(false);
    expect(holds("severity<high", incident({ severity: "Critical" }))).toBe(false);
    expect(holds("severity!=high", incident({ severity: "" }))).toBe(true);
  });

  it("compares text without case; regular expressions are anchored and without case", () => {
    expect(holds("type=network")).toBe(true);
    expect(holds("type!=NETWORK")).toBe(false);
    expect(holds("name=~web_.*")).toBe(true);
    expect(holds("name=~Web_")).toBe(false); // anchored: the whole value must match
    expect(holds("name!~.*srv-02")).toBe(true);
    expect(holds("category=~att.ck")).toBe(true);
    expect(holds('name=~"привет.*"', incident({ name: "ПРИВЕТ мир" }))).toBe(true);
  });

  it("needs every matcher; an empty list holds for everything", () => {
    expect(holds("severity>=high type=Network")).toBe(true);
    expect(holds("severity>=high type=Host")).toBe(false);
    expect(holds("")).toBe(true);
  });

  it("reads rule names as any-of, and is unknown without them", () => {
    const rules = ["Brute_Force_SSH", "Port_Scan"];
    expect(holds("rule=port_scan", incident(), rules)).toBe(true);
    expect(holds("rule!=port_scan", incident(), rules)).toBe(false);
    expect(holds("rule=~brute.*", incident(), rules)).toBe(true);
    expect(holds("rule!~brute.*", incident(), rules)).toBe(false);
    expect(holds("rule=x", incident(), [])).toBe(false);
    expect(holds("rule!=x", incident(), [])).toBe(true);
    expect(holds("rule=x")).toBeUndefined();
    expect(holds("rule!=x severity>=high")).toBeUndefined();
    // A false matcher decides even when another is unknown.
    expect(holds("rule=x severity<high")).toBe(false);
  });
});
