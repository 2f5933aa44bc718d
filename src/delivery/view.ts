// Glue between what the store holds and what the renderer and Telegram take.
import type { InlineKeyboardMarkup } from "grammy/types";
import type { ChatRef } from "../i18n/index.js";
import type { IncidentView, InlineKeyboard } from "../render/types.js";
import type { IncidentSummary } from "../siem/types.js";
import type { Chat, StoredIncident } from "../store/index.js";

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
export function chatRef(chat: Chat): ChatRef {
  const ref: ChatRef = { id: chat.id, kind: chat.kind, threadId: chat.thread_id };
  if (chat.title) ref.title = chat.title;
  if (chat.username) ref.username = chat.username;
  if (chat.first_name) ref.firstName = chat.first_name;
  if (chat.last_name) ref.lastName = chat.last_name;
  return ref;
}
