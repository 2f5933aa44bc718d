// What the renderer takes and gives. It is pure: no I/O, no clock (times come in as Dates).
import type { Locale } from "../config/types.js";
import type { IncidentDetails, IncidentEvent, IncidentSummary } from "../siem/types.js";

export interface InlineButton {
  text: string;
  /** Exactly one of callbackData / url. */
  callbackData?: string;
  url?: string;
}
export type InlineKeyboard = InlineButton[][];

/** The last action taken on an incident, shown as "Approved by @ivan at 12:03". */
export interface ActionLine {
  status: string; // the status it moved to, e.g. "Approved", "Closed"
  by: string; // "@ivan" or "Ivan Petrov (123456789)", or "SIEM" when changed in the SIEM UI
  at: Date;
}

export interface IncidentView {
  incident: IncidentSummary & Partial<Pick<IncidentDetails, "description">>;
  events: IncidentEvent[];
  totalEvents: number;
  lastAction: ActionLine | null;
  /** Close was pressed in this message: show "Yes, close" / "Cancel" instead of the normal buttons. */
  confirmingClose?: boolean;
  /** Delivered without a notification: the title shows 🔕 (kept in every edit). */
  silent?: boolean;
  /** From the details (issue 14): who holds it, the correlation rules, targets and attackers. */
  extras?: CardExtras | null;
  /** The last actions taken through the bot, oldest first. */
  botActions?: CardBotAction[];
  /** Issue 15: how long the card has gone without a reaction, and where it was escalated. */
  reminder?: { newForMs?: number; escalatedTo?: string };
}

export interface CardExtras {
  assignee: { id: string; name: string } | null;
  rules: string[];
  targets: string[];
  attackers: string[];
}

export interface CardBotAction {
  action: string; // "approve" | "take" | "resolve" | "close"; anything else is not shown
  reason: string | null;
  by: string;
  at: Date;
}

export interface RenderOptions {
  locale: Locale;
  timeZone: string;
  siemUrl: string; // links are `${siemUrl}/#/incident/incidents/view/${id}`
  maxEvents: number;
  /** Reminders or escalation are on: a New card offers Snooze (design.md §5). */
  snooze?: boolean;
}

export interface RenderedMessage {
  /** For parse_mode HTML. ≤ 4096 characters of visible text (UTF-16 units), never a cut tag or surrogate. */
  html: string;
  /** The same content without markup, for the fallback when Telegram rejects the HTML. ≤ 4096. */
  plain: string;
  keyboard: InlineKeyboard;
}
