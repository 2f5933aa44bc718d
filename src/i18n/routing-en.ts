// English texts of routing and noise control (/filter, /mute, /unmute, /accepted). Plain text.

import { describeMatcherProblemEn } from "../routing/index.js";
import type { FilterView, RoutingMessages } from "./messages.js";
import { pluralEn } from "./plural.js";
import { inline } from "./shared.js";

const what = (filter: string) => (filter === "" ? "everything" : filter === "none" ? "nothing" : filter);
const where = (topic: number | null) => (topic === null ? "its own thread" : `topic ${topic}`);
const subject = (chat: string | null) => chat ?? "This chat";
const object = (chat: string | null) => chat ?? "this chat";

function destination(d: FilterView, withPlace: boolean): string {
  const parts = [`${withPlace ? `${where(d.topic)}: ` : ""}${what(d.filter)}`];
  if (d.silent) parts.push(`silent when ${d.silent}`);
  if (d.activeHours && d.activeHours.length > 0) parts.push(`with sound only ${d.activeHours.join(", ")}`);
  return parts.join("; ");
}

function destinations(list: FilterView[]): string[] {
  if (list.length === 0) return ["• everything"];
  const single = list.length === 1 && list[0]!.topic === null;
  return list.map((d) => `• ${destination(d, !single)}`);
}

export const routingEn: RoutingMessages = {
  matcherProblem: describeMatcherProblemEn,
  badMatchers: ({ matcher, problem }) => `Matcher “${inline(matcher, 80)}”: ${problem}. Nothing was changed.`,
  filterUsage: [
    "/filter — what this chat receives",
    "/filter MATCHERS — only what matches, e.g. /filter severity>=high type=Network",
    "/filter off — everything again (typed in a topic: the topic stops receiving on its own)",
    "/filter none — nothing in this thread (only its topics receive)",
    "",
    "A matcher is FIELD OP VALUE, without spaces around OP. Fields: severity, type, category, name, rule " +
      "(a correlation rule). OP: =, !=, =~, !~ (a regular expression over the whole value), and >=, <=, >, < for " +
      'severity (low < medium < high). Quote a value with spaces: name="Port scan". All matchers must hold.',
    "Typed in a forum topic, /filter makes the topic a destination with its own filter; topics are tried in the " +
      "order they were added, the chat's own thread last, and the first that admits an incident gets it.",
    "Another chat: add its id, /filter-1001234567890 severity>=high",
  ].join("\n"),
  filterShow: ({ chat, managedByConfig, destinations: list }) =>
    [
      `${subject(chat)} receives${list.length > 1 ? " (tried in this order)" : ""}:`,
      ...destinations(list),
      ...(managedByConfig ? ["Managed by config: the routes come from the config file."] : []),
    ].join("\n"),
  filterSet: ({ chat, topic, filter }) =>
    topic === null
      ? `${subject(chat)} now receives: ${what(filter)}.`
      : `Topic ${topic} of ${object(chat)} now receives: ${what(filter)}. ` +
        "Topics are tried in the order they were added, the chat's own thread last.",
  filterCleared: ({ chat, topic }) =>
    topic === null
      ? `${subject(chat)} receives everything again.`
      : `Topic ${topic} no longer receives incidents of its own; ${object(chat)} gets them by its other filters.`,
  filterNothingToClear: ({ chat, topic }) =>
    topic === null
      ? `${subject(chat)} has no filter: it receives everything.`
      : `Topic ${topic} has no filter of its own.`,
  managedByConfig: (chat) =>
    `${subject(chat)} is managed by config: its routes come from the config file (routes:) and cannot be changed from Telegram.`,
  notReceiving: (chat) => `${subject(chat)} does not receive incidents. Allow it first: /accept <id>.`,
  muteUsage: [
    "/mute 2h — incidents still arrive here for 2 hours, but without sound",
    "/mute 30m severity<=medium — only what matches arrives without sound",
    "/mute 1d type=Scan -- planned scan — a comment after --",
    "/mute — the mutes running here; /unmute — end them all",
    "Durations: 30m, 2h, 1d, at most 7d. Typed in a forum topic, a mute covers that topic only.",
  ].join("\n"),
  muteNotAllowed:
    "Only the bot's admins may mute a chat; in your own private chat with the bot, you may mute it too.",
  badDuration: ({ raw, max }) =>
    `“${inline(raw, 40)}” is not a duration like 30m, 2h or 1d (at most ${max}).`,
  muteDone: ({ chat, topic, until, duration, matchers, comment }) =>
    `🔕 ${subject(chat)}${topic !== null ? `, topic ${topic},` : ""} is muted until ${until} (${duration})` +
    `${matchers ? ` for: ${matchers}` : ""}. Incidents still arrive, without sound. /unmute ends it.` +
    (comment ? ` Comment: ${inline(comment, 200)}` : ""),
  tooManyMutes: (max) => `At most ${max} mutes may run in a chat at once. End them with /unmute first.`,
  muteList: ({ chat, mutes }) =>
    [
      `Mutes running in ${object(chat)}:`,
      ...mutes.map(
        (m) =>
          `• until ${m.until}${m.topic !== null ? `, topic ${m.topic}` : ""}: ${m.matchers || "everything"}` +
          `${m.by ? ` — set by ${m.by}` : ""}${m.comment ? ` (${inline(m.comment, 200)})` : ""}`,
      ),
      "/unmute ends them all.",
    ].join("\n"),
  noMutes: (chat) => `No mutes are running in ${object(chat)}.`,
  unmuteDone: ({ chat, count }) =>
    count === 0
      ? `No mutes are running in ${object(chat)}.`
      : `🔔 ${count} ${pluralEn(count, "mute", "mutes")} ended in ${object(chat)}: incidents arrive with sound again.`,
  muteEnded: (count) =>
    count === 0
      ? "🔔 The mute is over: no incidents arrived during it."
      : `🔔 The mute is over: ${count} ${pluralEn(count, "incident", "incidents")} arrived silently during it.`,
  listRouting: ({ managedByConfig, destinations: list, mutedUntil }) => {
    const parts: string[] = [];
    if (list.length > 0) {
      const single = list.length === 1 && list[0]!.topic === null;
      parts.push(`receives: ${list.map((d) => destination(d, !single)).join(" | ")}`);
    }
    if (mutedUntil) parts.push(`muted until ${mutedUntil}`);
    if (managedByConfig) parts.push("managed by config");
    return parts.length === 0 ? "" : `   ${parts.join("; ")}`;
  },
};
