// The chaos run's own model of routing matchers (design.md §3): how the plan draws them, how they are
// typed as a command, and what they admit. Written from the contract, not from src/routing, so that a
// bug there cannot hide itself by being shared with the checker.
//
// Semantics (design.md §3): every matcher of a list must hold; `=` and `!=` compare without case;
// `=~` and `!~` are regular expressions over the whole value, without case; severity compares by
// rank (low < medium < high), its words in any case, Russian ones too, and an incident whose severity
// is none of the three has no rank (no ordering holds; `!=` does). A missing type or category is "".
// `rule` is left out: a burst is queued before its correlation rules are read, and then a rule matcher
// cannot be known at all (the service admits in doubt), which the checker could not judge.

import type { Prng } from "./prng.js";

export type RuleField = "severity" | "type" | "category" | "name";
export type RuleOp = "=" | "!=" | "=~" | "!~" | ">=" | "<=" | ">" | "<";
export type SeverityWord = "low" | "medium" | "high";

export interface RuleMatcher {
  field: RuleField;
  op: RuleOp;
  /** As typed in the command. */
  value: string;
}

/** What matchers look at, as the SIEM lists the incident. */
export interface IncidentFacts {
  severity: string | null;
  type: string | null;
  category: string | null;
  name: string;
}

const RANK: Readonly<Record<string, number>> = {
  low: 1,
  medium: 2,
  high: 3,
  низкая: 1,
  средняя: 2,
  высокая: 3,
};

/** 1 low, 2 medium, 3 high; null for anything else. */
export function severityRank(word: string | null): number | null {
  return word === null ? null : (RANK[word.trim().toLowerCase()] ?? null);
}

function wholeMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`, "i").test(value);
}

/** Whether one matcher holds for an incident. */
export function holds(m: RuleMatcher, f: IncidentFacts): boolean {
  const raw = m.field === "severity" ? f.severity : m.field === "name" ? f.name : f[m.field];
  const value = raw ?? "";
  if (m.op === "=~") return wholeMatch(m.value, value);
  if (m.op === "!~") return !wholeMatch(m.value, value);
  if (m.field === "severity") {
    const have = severityRank(f.severity);
    const want = severityRank(m.value);
    if (want === null) throw new Error(`not a severity: ${m.value}`);
    switch (m.op) {
      case "=":
        return have === want;
      case "!=":
        return have !== want;
      case ">=":
        return have !== null && have >= want;
      case "<=":
        return have !== null && have <= want;
      case ">":
        return have !== null && have > want;
      default:
        return have !== null && have < want;
    }
  }
  const equal = value.toLowerCase() === m.value.toLowerCase();
  return m.op === "!=" ? !equal : equal;
}

/** All of them hold (an empty list holds for everything). */
export function allHold(list: readonly RuleMatcher[], f: IncidentFacts): boolean {
  return list.every((m) => holds(m, f));
}

/** A matcher as typed: `severity>=high`, `category="Credential access"`. */
export function matcherText(m: RuleMatcher): string {
  const bare = /^[^\s"\\=!~<>][^\s"\\]*$/.test(m.value);
  const value = bare ? m.value : `"${m.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `${m.field}${m.op}${value}`;
}

export function matchersText(list: readonly RuleMatcher[]): string {
  return list.map(matcherText).join(" ");
}

const CANONICAL_SEVERITY = ["", "low", "medium", "high"] as const;

/** As the bot shows a stored filter: a severity compared by rank in its English lower-case word. */
export function canonicalText(list: readonly RuleMatcher[]): string {
  return list
    .map((m) => {
      const rank = m.field === "severity" && m.op !== "=~" && m.op !== "!~" ? severityRank(m.value) : null;
      return matcherText(rank === null ? m : { ...m, value: CANONICAL_SEVERITY[rank]! });
    })
    .join(" ");
}

// ---- drawing them (the emulator's taxonomy: scenarios.ts; type is always "Undefined") ----

const SEVERITY_WORDS = ["low", "medium", "high", "High", "LOW", "Medium", "высокая", "Низкая", "средняя"];
const CATEGORIES = [
  "Attack",
  "Credential access",
  "Reconnaissance",
  "Execution",
  "Malware",
  "Persistence",
  "Exfiltration",
];
const NAMES = [
  "Web_Bulk_Failed_URL_Access",
  "Critical_host_threat_detection",
  "Password_brute",
  "Network_port_scan",
  "Suspicious_PowerShell_execution",
  "Malware_file_detected",
  "Account_created_outside_business_hours",
  "DNS_tunneling_suspected",
];
const CATEGORY_PATTERNS = ["(Attack|Malware)", "cred.*", ".*tion", "E.*", "[A-M].*"];
const NAME_PATTERNS = ["Web_.*", ".*_brute", "Network_.*|DNS_.*", ".*(scan|detect).*", "[a-m].*", "p.*"];
const TYPE_VALUES = ["Undefined", "undefined", "Network"];

/** One matcher, from the grammar's every field and operator (no `rule`). */
export function drawMatcher(rng: Prng): RuleMatcher {
  const field = rng.weighted<RuleField>({ severity: 4, category: 3, name: 3, type: 1 });
  if (field === "severity") {
    const op = rng.weighted({ ">=": 3, "<=": 2, ">": 1, "<": 1, "=": 2, "!=": 2, "=~": 1 });
    if (op === "=~") return { field, op, value: rng.pick(["high|medium", "h.*", "low"]) };
    return { field, op, value: rng.pick(SEVERITY_WORDS) };
  }
  const op = rng.weighted({ "=": 3, "!=": 2, "=~": 3, "!~": 1 });
  const regex = op === "=~" || op === "!~";
  if (field === "type")
    return { field, op, value: regex ? rng.pick(["undef.*", "N.*"]) : rng.pick(TYPE_VALUES) };
  if (field === "category") {
    if (regex) return { field, op, value: rng.pick(CATEGORY_PATTERNS) };
    const category = rng.pick(CATEGORIES);
    return { field, op, value: rng.chance(0.3) ? category.toUpperCase() : category };
  }
  if (regex) return { field, op, value: rng.pick(NAME_PATTERNS) };
  const name = rng.pick(NAMES);
  return { field, op, value: rng.chance(0.3) ? name.toLowerCase() : name };
}

/** One to `max` matchers. */
export function drawMatchers(rng: Prng, max: number): RuleMatcher[] {
  const count = rng.int(1, max);
  return Array.from({ length: count }, () => drawMatcher(rng));
}
