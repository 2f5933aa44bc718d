// What the demo prints for each bot message the fake Bot API sees: a header naming the chat, the
// message as a person sees it (clipped, so a long incident does not flood the terminal), then its
// buttons in brackets. An edit that only changed the buttons prints just the buttons, and a message
// identical to the one printed just before (the same incident in the next chat) is not repeated.

import { type FakeMessage, type FakeMessageEvent, renderChatTranscript } from "../botapi-fake/index.js";

export interface TranscriptOptions {
  /** Text lines shown before "… (n more lines)"; buttons are always shown. Default 14. */
  maxLines?: number;
  /** Longer lines are cut with "…". Default 110. */
  maxLineLength?: number;
}

/** "Admin (private 100001)" for a chat id; the printer falls back to the bare id. */
export type ChatNamer = (chatId: number) => string | undefined;

const INDENT = "   ";

/** The visible text and the button rows of a message, apart. */
export function splitTranscript(msg: FakeMessage): { text: string[]; buttons: string[] } {
  const text = renderChatTranscript({ ...msg, replyMarkup: undefined });
  const full = renderChatTranscript(msg);
  const buttons = full
    .slice(text.length)
    .split("\n")
    .filter((line) => line !== "");
  return { text: text.split("\n"), buttons };
}

function clipLine(line: string, max: number): string {
  const chars = [...line];
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join("")}…`;
}

/** Drops trailing blank lines, clips the rest to `maxLines` lines of at most `maxLineLength`. */
export function clipText(lines: string[], maxLines: number, maxLineLength: number): string[] {
  const kept = [...lines];
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === "") kept.pop();
  const shown = kept.slice(0, maxLines).map((line) => clipLine(line, maxLineLength));
  if (kept.length > maxLines) shown.push(`… (${kept.length - maxLines} more lines)`);
  return shown;
}

export class TranscriptPrinter {
  private readonly maxLines: number;
  private readonly maxLineLength: number;
  /** The text each message showed last, to tell a buttons-only edit from a real one. */
  private readonly lastText = new Map<string, string>();
  /** The body printed last, to name an identical copy instead of printing it again. */
  private previousPrinted: string | undefined;

  constructor(
    private readonly nameOf: ChatNamer,
    opts: TranscriptOptions = {},
  ) {
    this.maxLines = opts.maxLines ?? 14;
    this.maxLineLength = opts.maxLineLength ?? 110;
  }

  /** The lines to print for one event (header first). */
  format(event: FakeMessageEvent): string[] {
    const msg = event.message;
    const key = `${msg.chatId}:${msg.messageId}`;
    const chat = this.nameOf(msg.chatId) ?? `chat ${msg.chatId}`;
    if (event.kind === "deleted") {
      this.lastText.delete(key);
      return [`── deleted in ${chat} ──`];
    }
    const { text, buttons } = splitTranscript(msg);
    const joined = text.join("\n");
    const buttonsOnly = event.kind === "edited" && this.lastText.get(key) === joined;
    this.lastText.set(key, joined);
    const header =
      event.kind === "sent"
        ? `── to ${chat} ──`
        : `── edited in ${chat}${buttonsOnly ? " (buttons only)" : ""} ──`;
    const body = buttonsOnly ? [] : clipText(text, this.maxLines, this.maxLineLength);
    const shownButtons = buttonsOnly && buttons.length === 0 ? ["(no buttons)"] : buttons;
    const lines = [...body, ...shownButtons].map((line) => `${INDENT}${line}`);
    // Copies of one incident go to every chat back to back: the second is named, not repeated.
    const printed = lines.join("\n");
    const repeated = !buttonsOnly && printed === this.previousPrinted;
    this.previousPrinted = printed;
    return repeated ? [header, `${INDENT}(the same message as above)`] : [header, ...lines];
  }
}
