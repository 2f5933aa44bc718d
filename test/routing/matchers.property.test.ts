// Property tests of the matcher grammar: formatting and parsing again gives the same matchers; any text
// at all is either parsed or refused with the offending matcher named (never a throw); a bad regular
// expression is refused with its matcher named; an accepted one stays fast on crafted values.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileMatchers,
  formatMatchers,
  incidentFacts,
  MATCHER_FIELDS,
  MAX_SUBJECT_LENGTH,
  type Matcher,
  parseMatchers,
  regexProblem,
} from "../../src/routing/index.js";

const NUM_RUNS = 400;

/** Characters that stress the grammar: quotes, backslashes, operators, every kind of space, Cyrillic. */
const trickyChar = fc.constantFrom(
  '"',
  "\\",
  "=",
  "!",
  "~",
  "<",
  ">",
  " ",
  "\t",
  "\n",
  "\u00a0",
  "\u2003",
  "a",
  "Z",
  "я",
  "-",
  "*",
  "(",
  ")",
  "😀",
  "\u0000",
);
const trickyText = fc
  .array(fc.oneof(trickyChar, fc.string({ maxLength: 3 })), { maxLength: 40 })
  .map((a) => a.join(""));

/** A value any `=`/`!=` matcher may hold (anything up to the length cap). */
const textValue = fc.oneof(trickyText, fc.string({ maxLength: 60 }), fc.constant(""));
/** A regular expression the safety check accepts. */
const safeRegex = fc
  .array(
    fc.constantFrom("Web_", "a", ".*", "\\d+", "[a-z]", "(?:x|y)", "é", "\\.", "-", "_", "\\s?", "\\\\", '"'),
    {
      maxLength: 6,
    },
  )
  .map((parts) => parts.join(""))
  .filter((src) => regexProblem(src) === null);

const matcher: fc.Arbitrary<Matcher> = fc.oneof(
  fc.record({
    field: fc.constant("severity" as const),
    op: fc.constantFrom(">=", "<=", ">", "<", "=", "!=" as const),
    value: fc.constantFrom("low", "medium", "high"),
  }),
  fc.record({
    field: fc.constantFrom(...MATCHER_FIELDS.filter((f) => f !== "severity")),
    op: fc.constantFrom("=", "!=" as const),
    value: textValue,
  }),
  fc.record({
    field: fc.constantFrom(...MATCHER_FIELDS),
    op: fc.constantFrom("=~", "!~" as const),
    value: safeRegex,
  }),
) as fc.Arbitrary<Matcher>;

describe("matcher grammar properties", () => {
  it("formatting then parsing gives the same matchers", () => {
    fc.assert(
      fc.property(fc.array(matcher, { maxLength: 16 }), (list) => {
        const parsed = parseMatchers(formatMatchers(list));
        expect(parsed).toEqual({ ok: true, matchers: list });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("format(parse(x)) parses to the same matchers as x, for any text that parses", () => {
    // Texts built from matcher-like pieces, so that a good share of them parse.
    const piece = fc.oneof(
      matcher.map((m) => formatMatchers([m])),
      fc.constantFrom("severity>=High", "severity=высокая", 'name="a \\" b"', "type=x\\y", "rule=~a.*"),
      trickyText,
    );
    const text = fc.array(piece, { maxLength: 6 }).chain((pieces) =>
      fc
        .array(fc.constantFrom(" ", "  ", "\n", "\t"), {
          minLength: pieces.length,
          maxLength: pieces.length,
        })
        .map((spaces) => pieces.map((p, i) => p + spaces[i]).join("")),
    );
    let parsedSome = 0;
    fc.assert(
      fc.property(text, (x) => {
        const first = parseMatchers(x);
        if (!first.ok) return;
        parsedSome++;
        expect(parseMatchers(formatMatchers(first.matchers))).toEqual(first);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(parsedSome).toBeGreaterThan(NUM_RUNS / 10);
  });

  it("never throws on garbage; a refusal names a matcher that is in the text", () => {
    fc.assert(
      fc.property(
        fc.oneof(trickyText, fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 100 })),
        (x) => {
          const result = parseMatchers(x);
          if (result.ok) return;
          const named = result.error.matcher.replace(/…$/, "");
          expect(named.length).toBeGreaterThan(0);
          expect(x).toContain(named);
          expect(/\s/.test(named[0]!)).toBe(false);
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it("refuses a broken regular expression, naming its matcher", () => {
    const broken = fc.constantFrom("(a", "a)", "[a", "*a", "a{2,1}", "(?<n>a)(?<n>b)", "\\");
    fc.assert(
      fc.property(
        fc.array(matcher, { maxLength: 3 }),
        fc.constantFrom(...MATCHER_FIELDS),
        fc.constantFrom("=~", "!~"),
        broken,
        (before, field, op, pattern) => {
          const bad = `${field}${op}"${pattern.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
          const result = parseMatchers(`${formatMatchers(before)} ${bad} type=x`);
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.error.matcher).toBe(bad);
          expect(result.error.problem.kind).toBe("bad-regex");
        },
      ),
      { numRuns: 100 },
    );
  });

  it("refuses the shapes that backtrack without bound", () => {
    for (const src of [
      "(a+)+b",
      "(a*)*",
      "(.*a){3}",
      "(a|aa)*",
      "(x|y)+z",
      "(a)\\1",
      "(?=a)a",
      "(?<!a)b",
      ".*a.*b.*c",
      "a*a*a*b",
      ".*a.*b.*c.*",
      "a?a?a?a?a?a?a?",
      "x".repeat(201),
    ]) {
      expect(regexProblem(src), src).not.toBeNull();
    }
    for (const src of [
      "^Web_.*",
      ".*(?:ssh|rdp).*",
      "[a-z]+_\\d{1,4}",
      "Brute.*",
      "(?:Web|Net)_.*Access",
      ".*ssh.*rdp.*",
    ]) {
      expect(regexProblem(src), src).toBeNull();
    }
  });

  it("an accepted regular expression matches a crafted value quickly (the value is cut to 512 characters)", () => {
    // The worst shapes accepted: two open-ended repetitions around literals (and a free trailing .*), on
    // values built to make them backtrack. Measured under 1 ms; three would take 40-80 ms, four seconds.
    const worst = [".*a.*b", "a*a*b", "(?:ab)*(?:ab)*c", "\\s*\\s*x", ".*a.*b.*", "^.*a.*b.+$"];
    const values = ["ab".repeat(2_000), "a".repeat(5_000), " ".repeat(5_000), "ababab".repeat(700)];
    for (const src of worst) {
      expect(regexProblem(src), src).toBeNull();
      const test = compileMatchers([{ field: "name", op: "=~", value: src }]);
      for (const name of values) {
        const facts = incidentFacts({ severity: "High", type: "", category: "", name }, undefined);
        const started = performance.now();
        test(facts);
        expect(performance.now() - started, `${src} on ${name.slice(0, 6)}…`).toBeLessThan(100);
      }
    }
    expect(MAX_SUBJECT_LENGTH).toBe(512);
  });
});
