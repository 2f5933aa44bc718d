// English texts of reminders and escalation (design.md §5, issue 15). Plain text.

import { type ReminderMessages, spokenDuration } from "./reminders-ru.js";
import { inline } from "./shared.js";

export const remindersEn: ReminderMessages = {
  duration: (ms) => spokenDuration(ms, ["d", "h", "min", "s"]),
  reminder: (key, newForMs) =>
    `⏰ ${inline(key, 40)} has had no reaction for ${remindersEn.duration(newForMs)}: it is still New.`,
  collapsed: (count, lines, more) =>
    `⏰ ${count} ${count === 1 ? "incident" : "incidents"} without a reaction:\n${lines.join("\n")}${
      more > 0 ? `\n…and ${more} more` : ""
    }`,
  cardWaiting: (sinceMs) => `⏰ ${remindersEn.duration(sinceMs)} without a reaction`,
  cardEscalated: (to) => `🚨 Escalated to ${inline(to, 64)}`,
  escalationHeader: (newForMs) => `🚨 Escalation: no reaction for ${remindersEn.duration(newForMs)}`,
  snoozeButton: "Snooze",
  snoozed: (until) => `Reminders and escalation snoozed until ${until}.`,
  nothingToSnooze: "Nothing to snooze: the incident is no longer New.",
};
