// Notices to every admin's private chat: service up, SIEM outage and recovery, chats gone, new-chat requests.
// Used by intake and delivery too, so it never throws: a notice that cannot be sent is logged and skipped.
import type { Api } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Logger } from "pino";
import { sendPlain } from "./send.js";

export interface AdminCopy {
  adminId: number;
  messageId: number;
}

export class AdminNotifier {
  constructor(
    private readonly api: Api,
    readonly adminIds: readonly number[],
    private readonly logger: Logger,
  ) {}

  /** Sends `text` (plain) to every admin; returns the copies that were delivered. Never throws. */
  async notify(text: string, opts: { replyMarkup?: InlineKeyboardMarkup } = {}): Promise<AdminCopy[]> {
    const results = await Promise.all(this.adminIds.map((adminId) => this.notifyOne(adminId, text, opts)));
    return results.filter((r): r is AdminCopy => r !== null);
  }

  /** Sends `text` to one admin; null when it could not be delivered. Never throws. */
  async notifyOne(
    adminId: number,
    text: string,
    opts: { replyMarkup?: InlineKeyboardMarkup } = {},
  ): Promise<AdminCopy | null> {
    try {
      const messageId = await sendPlain(this.api, adminId, text, { replyMarkup: opts.replyMarkup });
      return { adminId, messageId };
    } catch (err) {
      this.logger.warn({ adminId, err: describeError(err) }, "could not send a notice to an admin");
      return null;
    }
  }
}

/** A short, secret-free description of a Telegram or network failure (grammY errors never carry the token). */
export function describeError(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { error_code?: unknown; description?: unknown; message?: unknown };
    if (typeof e.error_code === "number" && typeof e.description === "string")
      return `${e.error_code} ${e.description}`;
    if (typeof e.message === "string") return e.message;
  }
  return String(err);
}
