// What a failed Telegram call means for delivery (see /work/shared/telegram-notes.md, "Errors").
import { GrammyError, HttpError } from "grammy";
import { NotLeadingError } from "./leading-gate.js";
import { PacerStoppedError } from "./pacer.js";

export type TelegramFailure =
  /** 429: the pacer holds the chat until retry_after has passed; not a failure of the row. */
  | { kind: "rate_limited"; code: 429; retryAfterSec: number; description: string }
  /** 400 with migrate_to_chat_id: the group became a supergroup with a new id. */
  | { kind: "migrated"; code: 400; newChatId: number; description: string }
  /** 403 (blocked, kicked, not a member) or 400 "chat not found": the chat cannot receive now. */
  | { kind: "chat_gone"; code: number; description: string }
  /**
   * The bot is still in the chat but may not post there: rights taken away, forum topic closed, group
   * deactivated… An admin can fix it; until then the chat is paused and its queue kept.
   */
  | { kind: "cannot_post"; code: number; description: string }
  /** 400 "can't parse entities": our HTML was refused; resend as plain text. */
  | { kind: "bad_markup"; code: 400; description: string }
  /** 400 "message is not modified": an edit to what is already shown; success. */
  | { kind: "not_modified"; code: 400; description: string }
  /** 400 "message to edit not found": deleted; stop editing it. */
  | { kind: "message_gone"; code: 400; description: string }
  /** 400 "message thread not found": the forum topic is gone; send to the chat's General instead. */
  | { kind: "thread_gone"; code: 400; description: string }
  /** Any other 400: this request will never succeed as it is. */
  | { kind: "bad_request"; code: 400; description: string }
  /** 5xx, network, timeouts, and anything unexpected: retry with backoff. */
  | { kind: "transient"; code: number; description: string }
  /** The service is stopping: the call was cancelled before it was made (or cut short). */
  | { kind: "stopped"; code: 0; description: string };

/**
 * "You cannot post here" as Telegram words it (undocumented; as bots meet them, with 400 and at times
 * 403): the bot is in the chat, but may not write there for now. Not this one message's fault.
 */
const CANNOT_POST = [
  "topic_closed",
  "not enough rights to send",
  "have no rights to send",
  "chat_write_forbidden",
  "chat_restricted",
  "need administrator rights",
  "peer_id_invalid",
  "group chat was deactivated",
];

/** Cancelled by delivery's own stop (waits for the SIEM, a Telegram call that outlived the grace). */
export class DeliveryStoppedError extends Error {
  override readonly name = "DeliveryStoppedError";
  constructor() {
    super("delivery stopped");
  }
}

function isCancellation(error: unknown): boolean {
  if (error instanceof PacerStoppedError || error instanceof NotLeadingError) return true;
  return error instanceof Error && (error.name === "AbortError" || error.name === "DeliveryStoppedError");
}

export function classifyTelegramError(error: unknown): TelegramFailure {
  if (error instanceof GrammyError) {
    const code = error.error_code;
    const description = error.description ?? "";
    const text = description.toLowerCase();
    if (code === 429) {
      return { kind: "rate_limited", code, retryAfterSec: error.parameters?.retry_after ?? 1, description };
    }
    const migrateTo = error.parameters?.migrate_to_chat_id;
    if (code === 400 && typeof migrateTo === "number") {
      return { kind: "migrated", code, newChatId: migrateTo, description };
    }
    if ((code === 400 || code === 403) && CANNOT_POST.some((phrase) => text.includes(phrase))) {
      return { kind: "cannot_post", code, description };
    }
    if (code === 403) return { kind: "chat_gone", code, description };
    if (code === 400) {
      if (text.includes("chat not found")) return { kind: "chat_gone", code, description };
      if (text.includes("message is not modified")) return { kind: "not_modified", code, description };
      if (text.includes("message to edit not found") || text.includes("message can't be edited")) {
        return { kind: "message_gone", code, description };
      }
      if (text.includes("message thread not found")) return { kind: "thread_gone", code, description };
      if (text.includes("can't parse entities") || text.includes("can't find end of the entity")) {
        return { kind: "bad_markup", code, description };
      }
      return { kind: "bad_request", code, description };
    }
    return { kind: "transient", code, description };
  }
  if (error instanceof HttpError) {
    if (isCancellation(error.error)) return { kind: "stopped", code: 0, description: String(error.error) };
    const inner = error.error instanceof Error ? error.error.message : String(error.error);
    return { kind: "transient", code: 0, description: `network: ${inner}` };
  }
  if (isCancellation(error)) return { kind: "stopped", code: 0, description: String(error) };
  return { kind: "transient", code: 0, description: error instanceof Error ? error.message : String(error) };
}
