// The benchmark's own stand-in for routing (issue 13) until the routing branch is merged: a chat's
// filter and silent rule as MATCHERS strings of design.md §3 (`severity>=medium category=Attack
// name=~"^Web_"`), parsed here in the simplest way, and the `route` hook ingest takes
// (src/store/incidents.ts). The strings are the contract's grammar, so the same ones can be handed to
// the routing branch's YAML `routes:` (filter / silent) when it lands, and this file dropped.
// Plain JavaScript: the routed service (routed-service.mjs) loads it without a TypeScript loader.

const SEVERITY_LEVEL = { low: 1, medium: 2, high: 3 };
const FIELDS = new Set(["severity", "type", "category", "name", "rule"]);
// Longest operators first, so that ">=" is not read as ">".
const OPERATORS = ["!=", "=~", "!~", ">=", "<=", "=", ">", "<"];

/** Splits MATCHERS on spaces outside double quotes. */
function tokens(text) {
  const out = [];
  let current = "";
  let quoted = false;
  for (const ch of text.trim()) {
    if (ch === '"') quoted = !quoted;
    if (ch === " " && !quoted) {
      if (current !== "") out.push(current);
      current = "";
    } else current += ch;
  }
  if (quoted) throw new Error(`unclosed quote in "${text}"`);
  if (current !== "") out.push(current);
  return out;
}

function parseMatcher(token) {
  const field = token.match(/^[a-z]+/i)?.[0]?.toLowerCase() ?? "";
  if (!FIELDS.has(field)) throw new Error(`unknown field in "${token}"`);
  const rest = token.slice(field.length);
  const op = OPERATORS.find((o) => rest.startsWith(o));
  if (op === undefined) throw new Error(`no operator in "${token}"`);
  let value = rest.slice(op.length);
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
  if (field === "severity") {
    const level = SEVERITY_LEVEL[value.toLowerCase()];
    if (level === undefined) throw new Error(`unknown severity in "${token}"`);
    if (op === "=~" || op === "!~") throw new Error(`no regular expressions on severity: "${token}"`);
    return { field, op, level };
  }
  if (op === ">=" || op === "<=" || op === ">" || op === "<") throw new Error(`"${op}" is for severity only`);
  return { field, op, value, regex: op === "=~" || op === "!~" ? new RegExp(value) : null };
}

/** Parses MATCHERS ("" matches everything); throws on a bad one. */
export function parseMatchers(text) {
  return tokens(text).map(parseMatcher);
}

function holds(m, incident) {
  if (m.field === "severity") {
    const level =
      SEVERITY_LEVEL[
        String(incident.severity ?? "")
          .trim()
          .toLowerCase()
      ] ?? 0;
    switch (m.op) {
      case "=":
        return level === m.level;
      case "!=":
        return level !== m.level;
      case ">=":
        return level >= m.level;
      case "<=":
        return level <= m.level;
      case ">":
        return level > m.level;
      default:
        return level < m.level;
    }
  }
  const values = m.field === "rule" ? (incident.correlationRules ?? []) : [String(incident[m.field] ?? "")];
  switch (m.op) {
    case "=":
      return values.some((v) => v === m.value);
    case "!=":
      return values.every((v) => v !== m.value);
    case "=~":
      return values.some((v) => m.regex.test(v));
    default:
      return values.every((v) => !m.regex.test(v));
  }
}

/** True when every matcher holds for the incident (no matchers: true). */
export function matches(matchers, incident) {
  for (const m of matchers) if (!holds(m, incident)) return false;
  return true;
}

/**
 * The route hook for `rules`: chat id → { filter: MATCHERS, silent?: MATCHERS }. A chat without a rule
 * gets everything with sound. Each admitted incident goes to the chat's own topic; a silent rule that
 * holds makes the row silent (a mute's id is not modelled here).
 */
export function routeFromRules(rules) {
  const parsed = new Map(
    Object.entries(rules).map(([chatId, rule]) => [
      Number(chatId),
      { filter: parseMatchers(rule.filter ?? ""), silent: rule.silent ? parseMatchers(rule.silent) : null },
    ]),
  );
  return (incident, recipients) => {
    const out = [];
    for (const chat of recipients) {
      const rule = parsed.get(chat.id);
      if (rule !== undefined && !matches(rule.filter, incident)) continue;
      const silent = rule?.silent != null && matches(rule.silent, incident);
      out.push({ chatId: chat.id, threadId: null, silent, muteId: null });
    }
    return out;
  };
}
