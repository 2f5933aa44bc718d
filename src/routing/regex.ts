// Regular expressions in matchers (`=~`, `!~`). They run at intake, once per incident and chat, on values
// the SIEM sends (an attacker may shape an incident's name), so a pattern must not be able to take
// seconds on a crafted value (ReDoS). JavaScript cannot interrupt a running match, so the bound is
// structural, checked when the pattern is accepted, plus caps on both sides:
//  - a pattern is at most MAX_PATTERN_LENGTH characters;
//  - no backreferences and no lookarounds (they are what makes backtracking exponential or unbounded);
//  - no repetition of a group that itself repeats or has alternatives (`(a+)+`, `(a|ab)*`: exponential);
//  - at most MAX_OPEN_REPEATS open-ended repetitions (`*`, `+`, `{n,}`, `{n,m}` with a wide range) and at
//    most MAX_REPEATS repetitions of any kind (`?` included): backtracking over k open-ended repetitions
//    costs about n^k steps on a crafted value of length n. A `.*` or `.+` that ends the pattern is not
//    counted: it takes the rest of the value at once, so `.*ssh.*rdp.*` is accepted;
//  - a value is matched on its first MAX_SUBJECT_LENGTH characters only.
// With these, the worst case measured on this project's 2-core machine is under a millisecond for one
// match (two `.*` around literals on a crafted 512-character value); three would be 40-80 ms, four
// seconds. Typical patterns take well under a microsecond.
//
// Semantics follow Alertmanager: the pattern is anchored (it must match the whole value: `Web_.*`, not
// `Web_`), and, unlike Alertmanager, case-insensitive, like the `=` operator here.

export const MAX_PATTERN_LENGTH = 200;
export const MAX_SUBJECT_LENGTH = 512;
export const MAX_OPEN_REPEATS = 2;
export const MAX_REPEATS = 6;
/** A bounded repetition whose range is wider than this counts as open-ended. */
const WIDE_RANGE = 10;

export type RegexProblem =
  | { kind: "syntax"; detail: string }
  | { kind: "too-long"; max: number }
  | { kind: "backreference" }
  | { kind: "lookaround" }
  | { kind: "nested-repeat" }
  | { kind: "repeated-alternation" }
  | { kind: "too-many-repeats"; max: number; open: boolean };

interface GroupFrame {
  /** A repetition somewhere inside (at any depth). */
  repeats: boolean;
  /** An alternative `|` directly or at any depth inside. */
  alternation: boolean;
}

/** `{n}`, `{n,}` or `{n,m}` at `i` (in JavaScript without the u flag, any other `{` is a literal). */
function braceQuantifier(src: string, i: number): { end: number; min: number; max: number } | null {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i, i + 24));
  if (!m) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
  return { end: i + m[0].length, min, max };
}

/**
 * Why a pattern is refused, or null when it is accepted. Checks the structure first (cheap, and it
 * gives the clearer reason), then lets the engine confirm the syntax.
 */
export function regexProblem(src: string): RegexProblem | null {
  if (src.length > MAX_PATTERN_LENGTH) return { kind: "too-long", max: MAX_PATTERN_LENGTH };
  const stack: GroupFrame[] = [{ repeats: false, alternation: false }];
  // A final `.*` / `.+` (lazy or not, before an optional `$`) never backtracks: one open repetition more.
  const trailingDotStar = /(?:^|[^\\])(?:\\\\)*\.[*+]\??\$?$/.test(src);
  const openAllowed = MAX_OPEN_REPEATS + (trailingDotStar ? 1 : 0);
  /** The atom a quantifier would apply to: a group (with what it held) or anything else. */
  let lastAtom: { group: GroupFrame | null } | null = null;
  let open = 0;
  let all = 0;
  let i = 0;
  const quantified = (min: number, max: number): RegexProblem | null => {
    if (lastAtom === null) return null; // "nothing to repeat": the engine reports it below
    if (lastAtom.group?.repeats) return { kind: "nested-repeat" };
    if (lastAtom.group?.alternation) return { kind: "repeated-alternation" };
    if (max !== min) {
      all++;
      if (max - min > WIDE_RANGE) open++;
      for (const frame of stack) frame.repeats = true;
    }
    if (open > openAllowed) return { kind: "too-many-repeats", max: MAX_OPEN_REPEATS, open: true };
    if (all > MAX_REPEATS) return { kind: "too-many-repeats", max: MAX_REPEATS, open: false };
    lastAtom = null;
    return null;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\\") {
      const next = src[i + 1] ?? "";
      if (/[1-9]/.test(next) || next === "k") return { kind: "backreference" };
      lastAtom = { group: null };
      i += 2;
      continue;
    }
    if (c === "[") {
      // A character class is one atom; skip to its closing bracket (escapes inside included).
      let j = i + 1;
      if (src[j] === "^") j++;
      while (j < src.length && src[j] !== "]") j += src[j] === "\\" ? 2 : 1;
      lastAtom = { group: null };
      i = j + 1;
      continue;
    }
    if (c === "(") {
      if (/^\(\?(=|!|<=|<!)/.test(src.slice(i, i + 4))) return { kind: "lookaround" };
      stack.push({ repeats: false, alternation: false });
      lastAtom = null;
      const named = /^\(\?<[A-Za-z_$][\w$]*>/.exec(src.slice(i, i + 40));
      i += src.startsWith("(?:", i) ? 3 : named ? named[0].length : 1;
      continue;
    }
    if (c === ")") {
      const frame = stack.length > 1 ? stack.pop()! : null;
      if (frame) {
        const parent = stack[stack.length - 1]!;
        if (frame.alternation) parent.alternation = true;
        if (frame.repeats) parent.repeats = true;
      }
      lastAtom = { group: frame };
      i++;
      continue;
    }
    if (c === "|") {
      stack[stack.length - 1]!.alternation = true;
      lastAtom = null;
      i++;
      continue;
    }
    if (c === "*" || c === "+" || c === "?") {
      const problem = quantified(c === "+" ? 1 : 0, c === "?" ? 1 : Number.POSITIVE_INFINITY);
      if (problem) return problem;
      i++;
      if (src[i] === "?") i++; // lazy
      continue;
    }
    if (c === "{") {
      const q = braceQuantifier(src, i);
      if (q) {
        const problem = quantified(q.min, q.max);
        if (problem) return problem;
        i = q.end;
        if (src[i] === "?") i++;
        continue;
      }
    }
    if (c === "^" || c === "$") lastAtom = null;
    else lastAtom = { group: null };
    i++;
  }
  try {
    new RegExp(src, "i");
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).replace(
      /^Invalid regular expression: /,
      "",
    );
    return { kind: "syntax", detail };
  }
  return null;
}

/** The engine's form of an accepted pattern: anchored, case-insensitive. Call regexProblem first. */
export function compileRegex(src: string): RegExp {
  return new RegExp(`^(?:${src})$`, "i");
}

/** The part of a value a pattern sees. */
export function regexSubject(value: string): string {
  return value.length > MAX_SUBJECT_LENGTH ? value.slice(0, MAX_SUBJECT_LENGTH) : value;
}
