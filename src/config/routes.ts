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

import {
  activeHoursField,
  checkKnownFields,
  matchersField,
  nonZeroWholeNumber,
  parseEntries,
} from "./entry-fields.js";
import type { RouteConfig } from "./types.js";
import { scalar } from "./yaml-values.js";

const ROUTE_KEYS = ["chat", "topic", "filter", "silent", "active_hours"] as const;

/** Validates `routes:`; problems are pushed as "routes[i] (chat …): field: what is wrong". */
export function parseRoutes(value: unknown, problems: string[]): RouteConfig[] {
  const seen = new Map<string, number>();
  return parseEntries(
    value,
    {
      section: "routes",
      expectedList: "a list of routes (- chat: <id> …), see README “Routing and quiet hours”",
      expectedEntry: 'a map with at least "chat: <id>"',
    },
    problems,
    (entry) => {
      const chatText = scalar(entry.chat);
      return chatText ? `chat ${chatText}` : undefined;
    },
    (entry, label, index): RouteConfig | undefined => {
      checkKnownFields(entry, ROUTE_KEYS, label, problems);
      const chatText = scalar(entry.chat);
      const chatId = nonZeroWholeNumber(chatText);
      if (entry.chat === undefined)
        problems.push(`${label}: chat: required (the chat id, e.g. -1001234567890)`);
      else if (chatId === null)
        problems.push(
          `${label}: chat: expected a chat id (a whole number), got ${JSON.stringify(chatText ?? entry.chat)}`,
        );
      let topic: number | null = null;
      if (entry.topic !== undefined && entry.topic !== null && entry.topic !== "") {
        const t = nonZeroWholeNumber(scalar(entry.topic));
        if (t === null || t <= 0)
          problems.push(`${label}: topic: expected a forum topic id (a whole number > 0)`);
        else topic = t;
      }
      const filter = matchersField(entry, "filter", label, problems);
      const silent = matchersField(entry, "silent", label, problems);
      const activeHours = activeHoursField(entry, label, problems);
      if (chatId === null) return undefined;
      const key = `${chatId}/${topic ?? ""}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        problems.push(
          `${label}: the same chat${topic !== null ? ` and topic ${topic}` : ""} as routes[${earlier}]; list each destination once`,
        );
      } else seen.set(key, index);
      return { chatId, topic, filter, silent, activeHours };
    },
  );
}
