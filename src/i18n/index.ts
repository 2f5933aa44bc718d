// The one entry point to the texts: `t(locale)` gives the whole catalogue of that locale.
// Every catalogue entry is plain text; escape it (render's escapeHtml) before using it in HTML.

import type { Locale } from "../config/types.js";
import { en } from "./en.js";
import { lookupEn } from "./lookup-en.js";
import { type LookupMessages, lookupRu } from "./lookup-ru.js";
import type { Messages } from "./messages.js";
import { queriesEn } from "./queries-en.js";
import { type QueryMessages, queriesRu } from "./queries-ru.js";
import { remindersEn } from "./reminders-en.js";
import { type ReminderMessages, remindersRu } from "./reminders-ru.js";
import { ru } from "./ru.js";

export type {
  AdminChatCommand,
  ChatDecisionKind,
  ChatKind,
  ChatListEntry,
  ChatRef,
  DebugLabels,
  FilterView,
  Messages,
  MuteView,
  PersonRef,
  RoutingMessages,
} from "./messages.js";
export { pluralEn, pluralRu } from "./plural.js";
export type { BotActionKind, CloseReasonKey, LinkView, WorkflowMessages } from "./workflow-messages.js";
export { en, ru };

const CATALOGUES: Record<Locale, Messages> = { ru, en };

export const DEFAULT_LOCALE: Locale = "ru";

/** The catalogue for `locale`; anything unknown falls back to Russian, the default. */
export function t(locale: Locale | string | undefined): Messages {
  return (locale === "en" || locale === "ru" ? CATALOGUES[locale] : undefined) ?? CATALOGUES[DEFAULT_LOCALE];
}

export type { LookupMessages } from "./lookup-ru.js";

/** The texts of /inc in `locale` (Russian for anything unknown). */
export function lookupTexts(locale: Locale | string | undefined): LookupMessages {
  return locale === "en" ? lookupEn : lookupRu;
}

export type { ReminderMessages } from "./reminders-ru.js";

/** The texts of reminders, escalation and Snooze in `locale` (Russian for anything unknown). */
export function reminderTexts(locale: Locale | string | undefined): ReminderMessages {
  return locale === "en" ? remindersEn : remindersRu;
}

export type { QueryMessages, StatsView } from "./queries-ru.js";

/** The texts of /open, /stats, /audit, /report and the shift report in `locale` (Russian for anything unknown). */
export function queryTexts(locale: Locale | string | undefined): QueryMessages {
  return locale === "en" ? queriesEn : queriesRu;
}
