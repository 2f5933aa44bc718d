// Glue between what the store holds and what the renderer and Telegram take.
import { createHash } from "node:crypto";
import type { InlineKeyboardMarkup } from "grammy/types";
import { chatRefOf } from "../chats/index.js";
import type { IncidentView, InlineKeyboard } from "../render/types.js";
import type { IncidentSummary } from "../siem/types.js";
import type { StoredIncident } from "../store/index.js";

/** The list-item part of a stored incident (what a digest line needs). */
export function storedSummary(incident: StoredIncident): IncidentSummary {
  return {
    id: incident.id,
    key: incident.key,
    name: incident.name,
    category: incident.category,
    type: incident.type,
    status: incident.status,
    severity: incident.severity,
    created: incident.created,
    // Not stored; nothing shown depends on it. A status past New means someone confirmed it.
    isConfirmed: incident.status !== "New",
  };
}

export function incidentView(incident: StoredIncident): IncidentView {
  const summary: IncidentView["incident"] = storedSummary(incident);
  if (incident.description !== null) summary.description = incident.description;
  return {
    incident: summary,
    events: incident.events,
    totalEvents: incident.totalEvents,
    lastAction: incident.lastAction,
    // Issue 14: the assignee, rules, parties and the bot's history on every copy.
    extras: incident.extras ?? null,
    botActions: incident.botActions ?? [],
    // Issue 15: the reminder's line, on every copy.
    ...(incident.reminderNote ? { reminder: incident.reminderNote } : {}),
  };
}

/** The renderer's keyboard as Telegram's reply_markup. */
export function replyMarkup(keyboard: InlineKeyboard): InlineKeyboardMarkup {
  return {
    inline_keyboard: keyboard.map((row) =>
      row.map((button) =>
        button.url !== undefined
          ? { text: button.text, url: button.url }
          : { text: button.text, callback_data: button.callbackData ?? "" },
      ),
    ),
  };
}

/** A stored chat as the i18n texts describe it to the admins. */
export const chatRef = chatRefOf;

/** A short fingerprint of a message's text: a digest is edited only when its text would change. */
export function shownHash(html: string): string {
  return createHash("sha256").update(html).digest("base64url").slice(0, 22);
}
