// Inline keyboards. Labels come from the locale catalogue (design.md §2); the payload of every
// button goes through encodeCallbackData, the one format telegram/ parses back.

import type { Locale } from "../config/types.js";
import { reminderTexts, t } from "../i18n/index.js";
import { closeReasonOf, encodeCallbackData, type IncidentAction } from "./callback-data.js";
import type { InlineButton, InlineKeyboard } from "./types.js";

function incidentButton(text: string, action: IncidentAction, incidentId: string): InlineButton {
  return { text, callbackData: encodeCallbackData({ kind: "incident", action, incidentId }) };
}

/** A New incident: the status reminders and escalation (§5) watch. */
export function isActionableStatus(status: string): boolean {
  return typeof status === "string" && status.trim().toLowerCase() === "new";
}

type ForwardAction = "approve" | "take" | "resolve" | "close";

/**
 * The forward transitions each status offers (design.md §4), in button order. Matched case-insensitively;
 * an unknown status offers none (Refresh only).
 */
const FORWARD: Record<string, readonly ForwardAction[]> = {
  new: ["approve", "take", "close"],
  approved: ["take", "resolve", "close"],
  inprogress: ["resolve", "close"],
  resolved: ["close"],
  closed: [],
};

/** The actions a card in `status` offers besides Refresh. */
export function offeredActions(status: string): readonly ForwardAction[] {
  const key = typeof status === "string" ? status.trim().toLowerCase() : "";
  return Object.hasOwn(FORWARD, key) ? FORWARD[key]! : [];
}

/** Whether a press of `action` still makes sense on an incident in `status` (a close reason counts as Close). */
export function isOffered(action: IncidentAction, status: string): boolean {
  if (action === "refresh" || action === "close_no") return true;
  if (action === "snooze") return isActionableStatus(status);
  const base: ForwardAction | null =
    action === "approve" || action === "take" || action === "resolve" || action === "close"
      ? action
      : closeReasonOf(action) !== null
        ? "close"
        : null;
  return base !== null && offeredActions(status).includes(base);
}

/**
 * The buttons follow the status (design.md §4): the forward transitions but Close on the first row, Close
 * on the next, Refresh last. `confirmingClose` → the reasons: Yes, close (a false positive) first, then
 * Duplicate, Test / authorised, Other, and Cancel. Throws only if `incidentId` makes a payload exceed
 * 64 bytes, which a SIEM UUID never does.
 */
export function incidentKeyboard(
  incidentId: string,
  status: string,
  locale: Locale,
  confirmingClose = false,
  opts: { snooze?: boolean } = {},
): InlineKeyboard {
  const m = t(locale);
  const b = m.buttons;
  const w = m.workflow.buttons;
  const button = (text: string, action: IncidentAction) => incidentButton(text, action, incidentId);
  if (confirmingClose) {
    return [
      [button(b.closeYes, "close_yes"), button(w.closeDuplicate, "close_duplicate")],
      [button(w.closeAuthorised, "close_authorised"), button(w.closeOther, "close_other")],
      [button(b.closeNo, "close_no")],
    ];
  }
  const labels: Record<ForwardAction, string> = {
    approve: b.approve,
    take: w.take,
    resolve: w.resolve,
    close: b.close,
  };
  const offered = offeredActions(status);
  const moves = offered.filter((a) => a !== "close").map((a) => button(labels[a], a));
  const rows: InlineKeyboard = [];
  if (moves.length > 0) rows.push(moves);
  if (offered.includes("close")) rows.push([button(labels.close, "close")]);
  // Snooze beside Refresh on a New card, while reminders or escalation are on (design.md §5).
  const snooze = opts.snooze === true && isActionableStatus(status);
  rows.push(
    snooze
      ? [button(reminderTexts(locale).snoozeButton, "snooze"), button(b.refresh, "refresh")]
      : [button(b.refresh, "refresh")],
  );
  return rows;
}

/** Sent to the admins with a new-chat request: Allow (row 1), Ignore and Block (row 2). */
export function chatRequestKeyboard(chatId: number, threadId: number | null, locale: Locale): InlineKeyboard {
  const b = t(locale).buttons;
  const button = (text: string, decision: "allow" | "ignore" | "block"): InlineButton => ({
    text,
    callbackData: encodeCallbackData({ kind: "chat", decision, chatId, threadId }),
  });
  return [[button(b.allow, "allow")], [button(b.ignore, "ignore"), button(b.block, "block")]];
}
