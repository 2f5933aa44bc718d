// The two Telegram calls delivery makes — a new message, and an edit of one already sent — each with
// its own signal (call-signals.ts), and with the fallbacks that keep a message from being lost.
import type { Api } from "grammy";
import type { Logger } from "pino";
import type { InlineKeyboard } from "../render/types.js";
import type { Store } from "../store/index.js";
import { CallSignals } from "./call-signals.js";
import { classifyTelegramError, type TelegramFailure } from "./telegram-errors.js";
import { replyMarkup } from "./view.js";

/** What to send: HTML with its plain-text twin, and buttons for a single message. */
export interface Content {
  html: string;
  plain: string;
  keyboard?: InlineKeyboard;
}

export type SendOutcome =
  | { ok: true; messageId: number; plain: boolean }
  | { ok: false; failure: TelegramFailure };

type GrammySignal = Parameters<Api["sendMessage"]>[3];

export interface TelegramCallsDeps {
  /** A grammY Api WITHOUT auto-retry, with the pacing transformer installed. */
  api: Api;
  store: Store;
  log: Logger;
  /** One call may take this long before it counts as a network failure. */
  callTimeoutMs: number;
  /** True once delivery is stopping: a cancelled call is then a stop, not a network failure. */
  stopping: () => boolean;
}

/** Forum topics (other than a chat's own) found gone are remembered, up to this many. */
const MAX_GONE_TOPICS = 10_000;

function topicKey(chatId: number, threadId: number): string {
  return `${chatId}/${threadId}`;
}

export class TelegramCalls {
  private readonly signals: CallSignals;
  /** Topics a row was routed to that Telegram says are gone: their rows go to General at once. */
  private readonly goneTopics = new Set<string>();

  constructor(private readonly deps: TelegramCallsDeps) {
    this.signals = new CallSignals(deps.callTimeoutMs);
  }

  private rememberGoneTopic(chatId: number, threadId: number): void {
    if (this.goneTopics.size >= MAX_GONE_TOPICS) this.goneTopics.clear();
    this.goneTopics.add(topicKey(chatId, threadId));
  }

  /** Cuts every call in flight (a stop that outlived its grace). */
  cancelAll(reason: Error): void {
    this.signals.cancelAll(reason);
  }

  /**
   * One message to Telegram with every fallback that keeps it from being lost: plain text when the
   * HTML is refused, the chat's General topic when its forum topic is gone. `silent`: without a
   * notification (disable_notification).
   */
  async send(
    chatId: number,
    threadId: number | null,
    content: Content,
    opts: { silent?: boolean; replyTo?: number } = {},
  ): Promise<SendOutcome> {
    let thread = threadId !== null && this.goneTopics.has(topicKey(chatId, threadId)) ? null : threadId;
    let plain = false;
    for (let step = 0; step < 4; step++) {
      const other: Record<string, unknown> = { link_preview_options: { is_disabled: true } };
      if (!plain) other.parse_mode = "HTML";
      if (thread !== null) other.message_thread_id = thread;
      if (opts.silent === true) other.disable_notification = true;
      // A reminder replies to the card; if the card was deleted meanwhile, it goes out on its own.
      if (opts.replyTo !== undefined) {
        other.reply_parameters = { message_id: opts.replyTo, allow_sending_without_reply: true };
      }
      if (content.keyboard !== undefined && content.keyboard.length > 0) {
        other.reply_markup = replyMarkup(content.keyboard);
      }
      try {
        const text = plain ? content.plain : content.html;
        const message = await this.signals.run((signal) =>
          // grammY types its signal with an AbortController shim; at run time any AbortSignal works.
          this.deps.api.sendMessage(chatId, text, other, signal as GrammySignal),
        );
        return { ok: true, messageId: message.message_id, plain };
      } catch (error) {
        const failure = this.classify(error);
        if (failure.kind === "thread_gone" && thread !== null) {
          this.deps.log.warn(
            { chatId, threadId: thread },
            "the chat's forum topic is gone; sending to its General topic",
          );
          // Remembered, so that later messages do not try the missing topic first: the chat's own topic
          // in the store; a topic routing chose for some rows, for as long as this process runs.
          const chat = await this.deps.store.chats.get(chatId);
          if (chat?.thread_id === thread) await this.deps.store.chats.setThread(chatId, null);
          else this.rememberGoneTopic(chatId, thread);
          thread = null;
          continue;
        }
        if ((failure.kind === "bad_markup" || failure.kind === "bad_request") && !plain) {
          this.deps.log.warn(
            { chatId, description: failure.description },
            "Telegram refused the message as HTML; sending it as plain text",
          );
          plain = true;
          continue;
        }
        return { ok: false, failure };
      }
    }
    return {
      ok: false,
      failure: { kind: "bad_request", code: 400, description: "no form of the message accepted" },
    };
  }

  /** Replaces a sent message's text and buttons; undefined when Telegram took it. */
  async edit(
    chatId: number,
    messageId: number,
    content: Required<Content>,
    plain: boolean,
  ): Promise<TelegramFailure | undefined> {
    const other: Record<string, unknown> = {
      link_preview_options: { is_disabled: true },
      reply_markup: replyMarkup(content.keyboard),
    };
    if (!plain) other.parse_mode = "HTML";
    try {
      const text = plain ? content.plain : content.html;
      await this.signals.run((signal) =>
        this.deps.api.editMessageText(chatId, messageId, text, other, signal as GrammySignal),
      );
      return undefined;
    } catch (error) {
      return this.classify(error);
    }
  }

  private classify(error: unknown): TelegramFailure {
    const failure = classifyTelegramError(error);
    // An aborted call while not stopping is our own call timeout: a network failure.
    if (failure.kind === "stopped" && !this.deps.stopping()) {
      return { kind: "transient", code: 0, description: `no answer from Telegram: ${failure.description}` };
    }
    return failure;
  }
}
