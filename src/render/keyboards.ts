// Inline keyboards. Labels come from the locale catalogue (design.md §2); the payload of every
// button goes through encodeCallbackData, the one format telegram/ parses back.

import type { Locale } from "../config/types.js";
import { t } from "../i18n/index.js";
import { encodeCallbackData, type IncidentAction } from "./callback-data.js";
import type { InlineButton, InlineKeyboard } from "./types.js";

function incidentButton(text: string, action: IncidentAction, incidentId: string): InlineButton {
  return { text, callbackData: encodeCallbackData({ kind: "incident", action, incidentId }) };
}

/** Approve and Close are offered only on a New incident (as the original bot did). */
export function isActionableStatus(status: string): boolean {
  return typeof status === "string" && status.trim().toLowerCase() === "new";
}

/**
 * New → Approve, Close (row 1) and Refresh (row 2); any other status → Refresh only;
 * `confirmingClose` → Yes, close / Cancel. Throws only if `incidentId` makes the payload exceed
 * 64 bytes, which a SIEM UUID never does.
 */
export function incidentKeyboard(
  incidentId: string,
  status: string,
  locale: Locale,
  confirmingClose = false,
): InlineKeyboard {
  const b = t(locale).buttons;
  if (confirmingClose) {
    return [
      [
        incidentButton(b.closeYes, "close_yes", incidentId),
        incidentButton(b.closeNo, "close_no", incidentId),
      ],
    ];
  }
  const refresh = [incidentButton(b.refresh, "refresh", incidentId)];
  if (!isActionableStatus(status)) return [refresh];
  return [
    [incidentButton(b.approve, "approve", incidentId), incidentButton(b.close, "close", incidentId)],
    refresh,
  ];
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
