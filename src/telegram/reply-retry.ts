// Replies to commands and presses, retried a few times when the network fails them. The update that
// asked is marked handled either way (a command is not carried out twice), so without this a reply lost
// to one reset connection was never given: the admin saw their /filter or /mute go unanswered although
// it was done. A retried reply may reach the chat twice if Telegram took the first try; for an answer
// that is the better failure. getUpdates is left to the runner and PollBackoff.
import { setTimeout as sleep } from "node:timers/promises";
import { HttpError, type Transformer } from "grammy";

/** The methods a reply or an answer uses. */
const REPLY_METHODS: ReadonlySet<string> = new Set([
  "sendMessage",
  "editMessageText",
  "editMessageReplyMarkup",
  "answerCallbackQuery",
  "sendAnimation",
]);

export interface ReplyRetryOptions {
  /** Tries after the first one. */
  retries?: number;
  /** The first wait; each next one doubles. */
  firstDelayMs?: number;
}

export function replyRetry(opts: ReplyRetryOptions = {}): Transformer {
  const retries = opts.retries ?? 3;
  const firstDelayMs = opts.firstDelayMs ?? 1_000;
  return async (prev, method, payload, signal) => {
    if (!REPLY_METHODS.has(method)) return prev(method, payload, signal);
    for (let attempt = 0; ; attempt++) {
      try {
        return await prev(method, payload, signal);
      } catch (error) {
        const aborted = (signal as AbortSignal | undefined)?.aborted === true;
        if (!(error instanceof HttpError) || aborted || attempt >= retries) throw error;
        await sleep(firstDelayMs * 2 ** attempt);
      }
    }
  };
}
