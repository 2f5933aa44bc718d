// `routes:` in the YAML config file (design.md §3): chats that are allowed by being listed, each with its
// filter, silent matchers and active hours, optionally into a forum topic. A chat may be listed several
// times with different topics: its routes are tried in the file's order, the first whose filter admits an
// incident wins. Telegram shows these chats as "managed by config" and cannot change their filters.
//
//   routes:
//     - chat: -1001234567890            # required: the chat id
//       topic: 42                       # optional: a forum topic (message_thread_id)
//       filter: severity>=high          # optional: matchers (a string, or a list joined with spaces)
//       silent: type=Scan               # optional: matchers that make delivery silent
//       active_hours:                   # optional: outside these, delivery is silent
//         - monday-friday 09:00-18:00
//
// Every problem names the route by its index (from 0) and chat, and the field.

import { describeMatcherErrorEn, formatMatchers, parseActiveHours, parseMatchers } from "../routing/index.js";
import type { RouteConfig } from "./types.js";
import { isMap, scalar, strings } from "./yaml-values.js";

const ROUTE_KEYS = ["chat", "topic", "filter", "silent", "active_hours"] as const;

function wholeNumber(text: string | null): number | null {
  if (text === null || !/^[-+]?\d{1,16}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n !== 0 ? n : null;
}

/** Validates `routes:`; problems are pushed as "routes[i] (chat …): field: what is wrong". */
export function parseRoutes(value: unknown, problems: string[]): RouteConfig[] {
  if (value === undefined || value === null || value === "" || value === "~") return [];
  if (!Array.isArray(value)) {
    problems.push("routes: expected a list of routes (- chat: <id> …), see README “Routing and quiet hours”");
    return [];
  }
  const routes: RouteConfig[] = [];
  const seen = new Map<string, number>();
  value.forEach((entry: unknown, index) => {
    const where = (chat?: string) => `routes[${index}]${chat ? ` (chat ${chat})` : ""}`;
    if (!isMap(entry)) {
      problems.push(`${where()}: expected a map with at least "chat: <id>"`);
      return;
    }
    const chatText = scalar(entry.chat);
    const label = where(chatText ?? undefined);
    const before = problems.length;
    for (const key of Object.keys(entry)) {
      if (!(ROUTE_KEYS as readonly string[]).includes(key)) {
        const hint = key.replace(/-/g, "_").toLowerCase();
        problems.push(
          `${label}: unknown field "${key}"${(ROUTE_KEYS as readonly string[]).includes(hint) ? `; did you mean ${hint}?` : ""} (fields: ${ROUTE_KEYS.join(", ")})`,
        );
      }
    }
    const chatId = wholeNumber(chatText);
    if (entry.chat === undefined)
      problems.push(`${label}: chat: required (the chat id, e.g. -1001234567890)`);
    else if (chatId === null)
      problems.push(
        `${label}: chat: expected a chat id (a whole number), got ${JSON.stringify(chatText ?? entry.chat)}`,
      );
    let topic: number | null = null;
    if (entry.topic !== undefined && entry.topic !== null && entry.topic !== "") {
      const t = wholeNumber(scalar(entry.topic));
      if (t === null || t <= 0)
        problems.push(`${label}: topic: expected a forum topic id (a whole number > 0)`);
      else topic = t;
    }
    const matchers = (field: "filter" | "silent"): string => {
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
    };
    const filter = matchers("filter");
    const silent = matchers("silent");
    const hours = strings(entry.active_hours);
    const activeHours: string[] = [];
    if (hours === null) problems.push(`${label}: active_hours: expected a text or a list of texts`);
    else {
      for (const spec of hours) {
        const parsed = parseActiveHours(spec);
        if (parsed.ok) activeHours.push(spec);
        else problems.push(`${label}: active_hours: ${parsed.problem}`);
      }
    }
    if (chatId !== null) {
      const key = `${chatId}/${topic ?? ""}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        problems.push(
          `${label}: the same chat${topic !== null ? ` and topic ${topic}` : ""} as routes[${earlier}]; list each destination once`,
        );
      } else seen.set(key, index);
    }
    if (problems.length === before && chatId !== null)
      routes.push({ chatId, topic, filter, silent, activeHours });
  });
  return routes;
}
