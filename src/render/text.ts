// Text hygiene for Telegram HTML: escaping, measuring what Telegram counts, and cleaning values that
// come from the SIEM (which may hold anything JSON can carry, lone surrogates included).

import { clipPlain } from "../i18n/shared.js";

export { clipPlain as clipText };

/** Telegram's message limit, in UTF-16 units of visible text. */
export const TELEGRAM_TEXT_LIMIT = 4096;

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/** Escapes & < > " — enough for Telegram HTML text and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c]!);
}

const NAMED_ENTITY_LENGTH: Record<string, number> = { lt: 1, gt: 1, amp: 1, quot: 1 };

/**
 * How many UTF-16 units Telegram counts in an HTML message: the text after tags are removed and
 * entities decoded (an emoji counts 2). Unknown entities are counted as written.
 */
export function visibleLength(html: string): number {
  const text = html.replace(/<[^>]*>/g, "");
  let length = text.length;
  for (const match of text.matchAll(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi)) {
    const body = match[1]!;
    let decoded: number | undefined;
    if (body.startsWith("#x") || body.startsWith("#X"))
      decoded = codePointLength(Number.parseInt(body.slice(2), 16));
    else if (body.startsWith("#")) decoded = codePointLength(Number.parseInt(body.slice(1), 10));
    else decoded = NAMED_ENTITY_LENGTH[body.toLowerCase()];
    if (decoded !== undefined) length -= match[0].length - decoded;
  }
  return length;
}

function codePointLength(cp: number): number | undefined {
  if (!Number.isFinite(cp) || cp < 0 || cp > 0x10ffff) return undefined;
  return cp > 0xffff ? 2 : 1;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0 controls except tab and newline, DEL, and C1 controls: invisible, and some break Telegram.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
/**
 * Characters that change how the text around them reads without being seen: the Arabic letter mark
 * (U+061C), zero-width spaces, joiners and direction marks (U+200B–U+200F), direction embeddings and
 * overrides (U+202A–U+202E), the word joiner (U+2060), isolates (U+2066–U+2069) and the zero-width
 * no-break space (U+FEFF). With them a name can show "exe.txt" for "txt.exe", or hide a word.
 */
export const INVISIBLE_FORMATTING = /[\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g;

/**
 * A value from outside (the SIEM, a Telegram name) made safe to show: a string, no lone surrogates
 * (→ U+FFFD), no control characters, no direction overrides, isolates or zero-width characters.
 */
export function cleanText(value: unknown): string {
  if (typeof value !== "string") return value === null || value === undefined ? "" : cleanText(String(value));
  return value
    .replace(/\r\n?/g, "\n")
    .replace(LONE_SURROGATE, "\uFFFD")
    .replace(CONTROL, "")
    .replace(INVISIBLE_FORMATTING, "");
}

/** For one-line fields (key, name, type…): cleaned, all whitespace runs collapsed, trimmed. */
export function cleanInline(value: unknown): string {
  return cleanText(value).replace(/\s+/g, " ").trim();
}

/** For multi-line fields (description): cleaned, trailing spaces and runs of blank lines removed. */
export function cleanBlock(value: unknown): string {
  return cleanText(value)
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
