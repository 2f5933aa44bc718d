// Sending plain text safely: within Telegram's 4096-character limit, into the right forum topic,
// and without ever letting a failed send break the handler that called it.
import type { Api } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { InlineKeyboard } from "../render/types.js";

export const MAX_MESSAGE_LENGTH = 4096;

/** Splits text into pieces of at most `max` UTF-16 units, at line breaks where possible, never inside a surrogate pair. */
export function splitText(text: string, max = MAX_MESSAGE_LENGTH): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf("\n", max);
    if (cut <= 0) {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, "");
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest.length > 0 ? rest : " ");
  return pieces;
}

/** Render's keyboard → Telegram's reply_markup. */
export function toReplyMarkup(keyboard: InlineKeyboard): InlineKeyboardMarkup {
  return {
    inline_keyboard: keyboard.map((row) =>
      row.map((b) =>
        b.url !== undefined
          ? { text: b.text, url: b.url }
          : { text: b.text, callback_data: b.callbackData ?? "" },
      ),
    ),
  };
}

export interface PlainSendOptions {
  threadId?: number | null;
  replyMarkup?: InlineKeyboardMarkup;
}

/** Sends plain text (no parse_mode: names from strangers stay text), split when long. Returns the last message id. */
export async function sendPlain(
  api: Api,
  chatId: number,
  text: string,
  opts: PlainSendOptions = {},
): Promise<number> {
  const pieces = splitText(text);
  let lastId = 0;
  for (let i = 0; i < pieces.length; i++) {
    const isLast = i === pieces.length - 1;
    const sent = await api.sendMessage(chatId, pieces[i]!, {
      ...(opts.threadId != null ? { message_thread_id: opts.threadId } : {}),
      ...(isLast && opts.replyMarkup ? { reply_markup: opts.replyMarkup } : {}),
      link_preview_options: { is_disabled: true },
    });
    lastId = sent.message_id;
  }
  return lastId;
}
