// What the config file's lists (routes:, escalation:) check the same way: walking the list, naming each
// entry in its problems ("routes[2] (chat -100123)", "escalation[0] (high-at-night)"), and the fields
// both have: known keys, matchers, active_hours, whole-number ids. Every problem is pushed as
// "<label>: <field>: what is wrong".

import { describeMatcherErrorEn, formatMatchers, parseActiveHours, parseMatchers } from "../routing/index.js";
import { isMap, strings } from "./yaml-values.js";

export interface EntryList {
  /** The section's key in the file, which starts every label: "routes". */
  section: string;
  /** What the section must be, after "<section>: expected ": "a list of routes (- chat: <id> …), see …". */
  expectedList: string;
  /** What each entry must be, after "<section>[i]: expected ": 'a map with at least "chat: <id>"'. */
  expectedEntry: string;
}

/**
 * Checks each entry of a list section with `parse`, which gets the entry (a map) and its label: the
 * section and index, with `tagOf(entry)` in brackets when it has one ("routes[2] (chat -100123)").
 * An entry is kept only when `parse` returned it without pushing a problem. Absent or empty: none.
 */
export function parseEntries<T>(
  value: unknown,
  list: EntryList,
  problems: string[],
  tagOf: (entry: Record<string, unknown>) => string | undefined,
  parse: (entry: Record<string, unknown>, label: string, index: number) => T | undefined,
): T[] {
  if (value === undefined || value === null || value === "" || value === "~") return [];
  if (!Array.isArray(value)) {
    problems.push(`${list.section}: expected ${list.expectedList}`);
    return [];
  }
  const entries: T[] = [];
  value.forEach((entry: unknown, index) => {
    const at = `${list.section}[${index}]`;
    if (!isMap(entry)) {
      problems.push(`${at}: expected ${list.expectedEntry}`);
      return;
    }
    const tag = tagOf(entry);
    const before = problems.length;
    const parsed = parse(entry, tag ? `${at} (${tag})` : at, index);
    if (parsed !== undefined && problems.length === before) entries.push(parsed);
  });
  return entries;
}

/** A problem for every key not in `allowed`, naming the field it may have meant ("active-hours"). */
export function checkKnownFields(
  entry: Record<string, unknown>,
  allowed: readonly string[],
  label: string,
  problems: string[],
): void {
  for (const key of Object.keys(entry)) {
    if (allowed.includes(key)) continue;
    const hint = key.replace(/-/g, "_").toLowerCase();
    problems.push(
      `${label}: unknown field "${key}"${allowed.includes(hint) ? `; did you mean ${hint}?` : ""} (fields: ${allowed.join(", ")})`,
    );
  }
}

/**
 * Matchers (the routing grammar) written as a text or a list of texts, joined with spaces, in their
 * canonical form; "" when absent, or when wrong (with a problem).
 */
export function matchersField(
  entry: Record<string, unknown>,
  field: string,
  label: string,
  problems: string[],
): string {
  const parts = strings(entry[field]);
  if (parts === null) {
    problems.push(`${label}: ${field}: expected matchers as text (or a list of texts)`);
    return "";
  }
  const parsed = parseMatchers(parts.join(" "));
  if (!parsed.ok) {
    problems.push(`${label}: ${field}: ${describeMatcherErrorEn(parsed.error)}`);
    return "";
  }
  return formatMatchers(parsed.matchers);
}

/** `active_hours:` as a text or a list of texts: the valid specs, with a problem for each other one. */
export function activeHoursField(
  entry: Record<string, unknown>,
  label: string,
  problems: string[],
): string[] {
  const hours = strings(entry.active_hours);
  if (hours === null) {
    problems.push(`${label}: active_hours: expected a text or a list of texts`);
    return [];
  }
  const valid: string[] = [];
  for (const spec of hours) {
    const parsed = parseActiveHours(spec);
    if (parsed.ok) valid.push(spec);
    else problems.push(`${label}: active_hours: ${parsed.problem}`);
  }
  return valid;
}

/** A whole number as written ("-1001234567890", "+5"), a safe integer and not 0 (ids); null otherwise. */
export function nonZeroWholeNumber(text: string | null): number | null {
  if (text === null || !/^[-+]?\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n !== 0 ? n : null;
}
