// How a message looks to a person in the chat, for the demo's console and for tests.
import { htmlToVisibleText } from "./html.js";
import type { FakeMessage } from "./types.js";

interface ButtonLike {
  text?: unknown;
}

function keyboardRows(markup: unknown): string[][] {
  if (typeof markup !== "object" || markup === null) return [];
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (!Array.isArray(rows)) return [];
  return rows
    .filter((row): row is unknown[] => Array.isArray(row))
    .map((row) =>
      row.map((button) => {
        const text = (button as ButtonLike | null)?.text;
        return typeof text === "string" ? text : "?";
      }),
    )
    .filter((row) => row.length > 0);
}

/**
 * The visible text (HTML tags stripped, entities decoded), then one line per keyboard row with
 * each button in brackets: `[🔄 Обновить] [✅ Подтвердить] [⛔ Закрыть]`.
 */
export function renderChatTranscript(msg: FakeMessage): string {
  const visible = msg.parseMode?.toUpperCase() === "HTML" ? htmlToVisibleText(msg.text) : msg.text;
  const lines = msg.kind === "text" ? [visible] : [`(${msg.kind})${visible === "" ? "" : ` ${visible}`}`];
  for (const row of keyboardRows(msg.replyMarkup)) lines.push(row.map((label) => `[${label}]`).join(" "));
  return lines.join("\n");
}
