// Every button press gets exactly one answerCallbackQuery, and within about a second: when the work
// behind it is slow (a slow SIEM, paced edits), a "working on it" answer goes first and the final
// answer is dropped — the edited message shows the result instead.
import type { Context } from "grammy";
import type { Logger } from "pino";
import { clipText } from "../render/index.js";
import { describeError } from "./notify.js";

export const EARLY_ANSWER_MS = 700;
/** Telegram's limit for the answer text. */
const MAX_ANSWER_LENGTH = 200;

export class PressAnswer {
  private done = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ctx: Context,
    workingText: string,
    private readonly logger: Logger,
    delayMs = EARLY_ANSWER_MS,
  ) {
    this.timer = setTimeout(() => void this.answer(workingText), delayMs);
    this.timer.unref();
  }

  get answered(): boolean {
    return this.done;
  }

  /** Answers with `text` unless the press was answered already. Never throws. Returns whether this call answered. */
  async answer(text?: string): Promise<boolean> {
    if (this.done) return false;
    this.done = true;
    clearTimeout(this.timer);
    try {
      await this.ctx.answerCallbackQuery(
        text === undefined ? undefined : { text: clipText(text, MAX_ANSWER_LENGTH) },
      );
    } catch (err) {
      this.logger.info({ err: describeError(err) }, "could not answer a button press");
    }
    return true;
  }
}
