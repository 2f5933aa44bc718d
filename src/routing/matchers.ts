// Matchers (design.md §3): `FIELD OP VALUE`, separated by spaces, all of which must hold.
//
//   matchers := ws* ( matcher ( ws+ matcher )* )? ws*
//   matcher  := field op value
//   field    := severity | type | category | name | rule          (any case)
//   op       := "=" | "!=" | "=~" | "!~" | ">=" | "<=" | ">" | "<"  (the longest that fits; no spaces around)
//   value    := quoted | bare
//   quoted   := '"' ( '\"' | '\\' | any other character )* '"'      (followed by a space or the end)
//   bare     := one or more characters other than whitespace and '"'
//
// Inside quotes `\"` is a quote and `\\` a backslash; any other backslash stays as written, so a regular
// expression can be typed naturally (`name=~"^Web_\d+"`). `>=`, `<=`, `>`, `<` only for severity.
// Severity values: low, medium, high, any case, Russian names too (severity.ts); they are stored in the
// canonical lower-case English form, so formatting and parsing again gives the same matchers.
//
// `=` and `!=` compare without case; `=~` and `!~` are anchored, case-insensitive regular expressions
// (regex.ts). `rule` holds when ANY of the incident's correlation rule names matches (`=`, `=~`), and
// `!=` / `!~` are the negations of those. When the rule names are not known (the incident's details were
// not read before it was queued: a burst), a `rule` matcher is UNKNOWN, and the caller decides what an
// unknown verdict means (routing: a filter admits, a mute or silent rule does not apply — in doubt, the
// incident arrives, with sound).
//
// Pure: the parser never throws on any input; it returns the first problem, naming the matcher.

import { compileRegex, type RegexProblem, regexProblem, regexSubject } from "./regex.js";
import {
  SEVERITY_RANK,
  SEVERITY_WORDS_HINT,
  type SeverityLevel,
  severityOfWord,
  severityRank,
} from "./severity.js";

export const MATCHER_FIELDS = ["severity", "type", "category", "name", "rule"] as const;
export type MatcherField = (typeof MATCHER_FIELDS)[number];
/** Longest first, so `>=` is never read as `>` followed by a value "=…". */
export const MATCHER_OPS = ["!=", "=~", "!~", ">=", "<=", "=", ">", "<"] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];
const ORDERING_OPS: ReadonlySet<MatcherOp> = new Set<MatcherOp>([">=", "<=", ">", "<"]);
const REGEX_OPS: ReadonlySet<MatcherOp> = new Set<MatcherOp>(["=~", "!~"]);

/** At most this many matchers in one list; a value at most this long. */
export const MAX_MATCHERS = 16;
export const MAX_VALUE_LENGTH = 500;

export interface Matcher {
  field: MatcherField;
  op: MatcherOp;
  /** As typed, except severity with a comparison operator: the canonical "low" | "medium" | "high". */
  value: string;
}

export type MatcherProblem =
  | { kind: "not-a-matcher" }
  | { kind: "unknown-field"; field: string }
  | { kind: "no-operator"; field: string }
  | { kind: "no-value" }
  | { kind: "unterminated-quote" }
  | { kind: "text-after-quote" }
  | { kind: "stray-quote" }
  | { kind: "ordering-not-severity"; field: MatcherField; op: MatcherOp }
  | { kind: "bad-severity"; value: string }
  | { kind: "bad-regex"; problem: RegexProblem }
  | { kind: "too-many"; max: number }
  | { kind: "value-too-long"; max: number };

export interface MatcherError {
  /** The offending matcher as it was written (clipped), to name it in the answer. */
  matcher: string;
  problem: MatcherProblem;
}

export type ParseResult = { ok: true; matchers: Matcher[] } | { ok: false; error: MatcherError };

const SHOWN_MATCHER_MAX = 80;
const OPERATOR_CHARS = new Set(["=", "!", "~", "<", ">"]);
const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

function clip(text: string): string {
  return text.length > SHOWN_MATCHER_MAX ? `${text.slice(0, SHOWN_MATCHER_MAX - 1)}…` : text;
}

/** The piece of `src` from `start` up to the next whitespace outside quotes (what the user sees as one matcher). */
function pieceAt(src: string, start: number): string {
  let i = start;
  let quoted = false;
  while (i < src.length) {
    const c = src[i]!;
    if (quoted && c === "\\") {
      i += 2;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && isSpace(c)) break;
    i++;
  }
  return src.slice(start, Math.min(i, src.length));
}

/** Parses a list of matchers. Never throws; an empty or blank text is an empty list. */
export function parseMatchers(src: string): ParseResult {
  const matchers: Matcher[] = [];
  let i = 0;
  const fail = (start: number, problem: MatcherProblem): ParseResult => ({
    ok: false,
    error: { matcher: clip(pieceAt(src, start)), problem },
  });
  for (;;) {
    while (isSpace(src[i])) i++;
    if (i >= src.length) break;
    const start = i;
    if (matchers.length >= MAX_MATCHERS) return fail(start, { kind: "too-many", max: MAX_MATCHERS });

    // FIELD: everything up to an operator character, a quote or a space.
    let j = i;
    while (j < src.length && !OPERATOR_CHARS.has(src[j]!) && src[j] !== '"' && !isSpace(src[j])) j++;
    const fieldText = src.slice(i, j);
    if (j >= src.length || isSpace(src[j]) || src[j] === '"') {
      // "severity >= high" lacks an operator where it should be; "high" alone is not a matcher at all.
      const known = (MATCHER_FIELDS as readonly string[]).includes(fieldText.toLowerCase());
      return fail(start, known ? { kind: "no-operator", field: fieldText } : { kind: "not-a-matcher" });
    }
    const op = MATCHER_OPS.find((o) => src.startsWith(o, j));
    if (op === undefined) return fail(start, { kind: "not-a-matcher" });
    if (fieldText === "") return fail(start, { kind: "not-a-matcher" });
    const field = fieldText.toLowerCase();
    if (!(MATCHER_FIELDS as readonly string[]).includes(field))
      return fail(start, { kind: "unknown-field", field: fieldText });
    j += op.length;

    // VALUE
    let value: string;
    if (src[j] === '"') {
      let k = j + 1;
      let out = "";
      let closed = false;
      while (k < src.length) {
        const c = src[k]!;
        if (c === "\\" && (src[k + 1] === '"' || src[k + 1] === "\\")) {
          out += src[k + 1];
          k += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          k++;
          break;
        }
        out += c;
        k++;
      }
      if (!closed) return fail(start, { kind: "unterminated-quote" });
      if (k < src.length && !isSpace(src[k])) return fail(start, { kind: "text-after-quote" });
      value = out;
      i = k;
    } else {
      let k = j;
      while (k < src.length && !isSpace(src[k])) k++;
      value = src.slice(j, k);
      if (value === "") return fail(start, { kind: "no-value" });
      if (value.includes('"')) return fail(start, { kind: "stray-quote" });
      i = k;
    }
    if (value.length > MAX_VALUE_LENGTH)
      return fail(start, { kind: "value-too-long", max: MAX_VALUE_LENGTH });

    const typedField = field as MatcherField;
    if (ORDERING_OPS.has(op) && typedField !== "severity")
      return fail(start, { kind: "ordering-not-severity", field: typedField, op });
    if (REGEX_OPS.has(op)) {
      const problem = regexProblem(value);
      if (problem) return fail(start, { kind: "bad-regex", problem });
    } else if (typedField === "severity") {
      const level = severityOfWord(value);
      if (level === null) return fail(start, { kind: "bad-severity", value: clip(value) });
      value = level;
    }
    matchers.push({ field: typedField, op, value });
  }
  return { ok: true, matchers };
}

/** A value as it is written back: bare when it can be, else quoted with `\"` and `\\` escaped. */
function formatValue(value: string): string {
  // A leading operator character would join the operator: {name, "=", "~x"} must not read as name=~x.
  if (value !== "" && !/[\s"\\]/.test(value) && !OPERATOR_CHARS.has(value[0]!)) return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The canonical text of a list: parseMatchers(formatMatchers(m)) gives `m` again. */
export function formatMatchers(matchers: readonly Matcher[]): string {
  return matchers.map((m) => `${m.field}${m.op}${formatValue(m.value)}`).join(" ");
}

// ---- evaluation ----

/**
 * What the matchers look at, prepared once per incident (not once per chat): lower-cased for `=`,
 * clipped for regular expressions. `rules` undefined: the correlation rule names are not known.
 */
export interface IncidentFacts {
  severityRaw: string;
  severityRank: number | null;
  type: string;
  typeLower: string;
  category: string;
  categoryLower: string;
  name: string;
  nameLower: string;
  rules: readonly string[] | undefined;
  rulesLower: readonly string[] | undefined;
}

export interface FactsInput {
  severity: string;
  type: string;
  category: string;
  name: string;
}

export function incidentFacts(incident: FactsInput, rules: readonly string[] | undefined): IncidentFacts {
  const severityRaw = typeof incident.severity === "string" ? incident.severity : "";
  const type = typeof incident.type === "string" ? incident.type : "";
  const category = typeof incident.category === "string" ? incident.category : "";
  const name = typeof incident.name === "string" ? incident.name : "";
  return {
    severityRaw,
    severityRank: severityRank(severityRaw),
    type,
    typeLower: type.toLowerCase(),
    category,
    categoryLower: category.toLowerCase(),
    name,
    nameLower: name.toLowerCase(),
    rules,
    rulesLower: rules?.map((r) => r.toLowerCase()),
  };
}

/** true, false, or undefined when it cannot be known (a `rule` matcher without the rule names). */
export type Verdict = boolean | undefined;
export type CompiledMatchers = (facts: IncidentFacts) => Verdict;

function compileOne(m: Matcher): CompiledMatchers {
  const negated = m.op === "!=" || m.op === "!~";
  if (m.field === "severity" && !REGEX_OPS.has(m.op)) {
    const wanted = SEVERITY_RANK[m.value as SeverityLevel];
    switch (m.op) {
      case "=":
        return (f) => f.severityRank === wanted;
      case "!=":
        return (f) => f.severityRank !== wanted;
      case ">=":
        return (f) => f.severityRank !== null && f.severityRank >= wanted;
      case "<=":
        return (f) => f.severityRank !== null && f.severityRank <= wanted;
      case ">":
        return (f) => f.severityRank !== null && f.severityRank > wanted;
      default:
        return (f) => f.severityRank !== null && f.severityRank < wanted;
    }
  }
  if (REGEX_OPS.has(m.op)) {
    const re = compileRegex(m.value);
    const test = (s: string) => re.test(regexSubject(s));
    switch (m.field) {
      case "severity":
        return negated ? (f) => !test(f.severityRaw) : (f) => test(f.severityRaw);
      case "type":
        return negated ? (f) => !test(f.type) : (f) => test(f.type);
      case "category":
        return negated ? (f) => !test(f.category) : (f) => test(f.category);
      case "name":
        return negated ? (f) => !test(f.name) : (f) => test(f.name);
      default:
        return (f) => (f.rules === undefined ? undefined : f.rules.some(test) !== negated);
    }
  }
  const wanted = m.value.toLowerCase();
  switch (m.field) {
    case "type":
      return negated ? (f) => f.typeLower !== wanted : (f) => f.typeLower === wanted;
    case "category":
      return negated ? (f) => f.categoryLower !== wanted : (f) => f.categoryLower === wanted;
    case "name":
      return negated ? (f) => f.nameLower !== wanted : (f) => f.nameLower === wanted;
    default:
      return (f) => (f.rulesLower === undefined ? undefined : f.rulesLower.includes(wanted) !== negated);
  }
}

/**
 * All of them must hold (an empty list holds for everything). Three-valued: false as soon as one is
 * false, else unknown if one is unknown, else true.
 */
export function compileMatchers(matchers: readonly Matcher[]): CompiledMatchers {
  const parts = matchers.map(compileOne);
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0]!;
  return (facts) => {
    let unknown = false;
    for (const part of parts) {
      const v = part(facts);
      if (v === false) return false;
      if (v === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  };
}

// ---- words for problems (English: config errors and logs; the chat texts live in i18n) ----

export function describeRegexProblemEn(p: RegexProblem): string {
  switch (p.kind) {
    case "syntax":
      return `not a valid regular expression (${p.detail})`;
    case "too-long":
      return `a regular expression may be at most ${p.max} characters long`;
    case "backreference":
      return "backreferences (\\1, \\k<name>) are not allowed in a regular expression";
    case "lookaround":
      return "lookarounds ((?=…), (?!…), (?<=…), (?<!…)) are not allowed in a regular expression";
    case "nested-repeat":
      return "a repeated group may not itself contain a repetition, like (a+)+: it can take very long to match";
    case "repeated-alternation":
      return "a group with alternatives may not be repeated, like (a|ab)*: it can take very long to match";
    case "too-many-repeats":
      return p.open
        ? `at most ${p.max} open-ended repetitions (*, +, {n,}) in one regular expression`
        : `at most ${p.max} repetitions (*, +, ?, {n,m}) in one regular expression`;
  }
}

export function describeMatcherProblemEn(p: MatcherProblem): string {
  switch (p.kind) {
    case "not-a-matcher":
      return 'not a matcher: write FIELD OP VALUE, e.g. severity>=high or name=~"^Web_.*"';
    case "unknown-field":
      return `unknown field "${p.field}": use ${MATCHER_FIELDS.join(", ")}`;
    case "no-operator":
      return `no operator after "${p.field}": use =, !=, =~, !~ (and >=, <=, >, < for severity), without spaces around it`;
    case "no-value":
      return 'no value after the operator (an empty value is written "")';
    case "unterminated-quote":
      return "the quoted value has no closing quote";
    case "text-after-quote":
      return "text right after the closing quote: put a space between matchers";
    case "stray-quote":
      return 'a quote inside an unquoted value: quote the whole value, writing a quote inside it as \\"';
    case "ordering-not-severity":
      return `${p.op} compares severities only; use =, !=, =~ or !~ for ${p.field}`;
    case "bad-severity":
      return `"${p.value}" is not a severity: use ${SEVERITY_WORDS_HINT}`;
    case "bad-regex":
      return describeRegexProblemEn(p.problem);
    case "too-many":
      return `at most ${p.max} matchers`;
    case "value-too-long":
      return `a value may be at most ${p.max} characters long`;
  }
}

/** `matcher "severity>=urgent": "urgent" is not a severity: …` */
export function describeMatcherErrorEn(e: MatcherError): string {
  return `matcher ${JSON.stringify(e.matcher)}: ${describeMatcherProblemEn(e.problem)}`;
}

/**
 * Splits `MATCHERS -- comment` at the first `--` that stands alone outside quotes (a mute's comment).
 * Without one, the whole text is matchers and the comment is empty.
 */
export function splitComment(src: string): { matchers: string; comment: string } {
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted && c === "\\") {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (
      !quoted &&
      c === "-" &&
      src[i + 1] === "-" &&
      (i === 0 || isSpace(src[i - 1])) &&
      (i + 2 >= src.length || isSpace(src[i + 2]))
    ) {
      return { matchers: src.slice(0, i).trim(), comment: src.slice(i + 2).trim() };
    }
  }
  return { matchers: src.trim(), comment: "" };
}
