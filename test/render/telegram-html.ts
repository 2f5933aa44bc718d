// A small, independent checker of Telegram's HTML parse mode, written from the Bot API rules
// (telegram-notes.md "Formatting") rather than from the renderer: only the supported tags, properly
// nested, `<a>` with a double-quoted href, and every & < > either part of a tag or a valid entity.
// It also returns the text Telegram would show, so tests can measure it without visibleLength.

const ALLOWED_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-spoiler",
]);

const ENTITY = /^&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);/;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

export type HtmlCheck = { ok: true; text: string } | { ok: false; error: string };

function decodeEntity(body: string): string | null {
  if (body.startsWith("#x")) return safeFromCodePoint(Number.parseInt(body.slice(2), 16));
  if (body.startsWith("#")) return safeFromCodePoint(Number.parseInt(body.slice(1), 10));
  return NAMED[body] ?? null;
}

function safeFromCodePoint(cp: number): string | null {
  return Number.isInteger(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : null;
}

/** Checks an attribute value: no raw < or ", every & an entity. */
function validAttributeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "<" || c === '"') return false;
    if (c === "&" && !ENTITY.test(value.slice(i))) return false;
  }
  return true;
}

export function checkTelegramHtml(html: string): HtmlCheck {
  const stack: string[] = [];
  let text = "";
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === "<") {
      const end = html.indexOf(">", i);
      if (end < 0) return { ok: false, error: `unterminated tag at ${i}` };
      const inner = html.slice(i + 1, end);
      if (inner.startsWith("/")) {
        const name = inner.slice(1);
        const open = stack.pop();
        if (open !== name) return { ok: false, error: `</${name}> closes <${open ?? "nothing"}> at ${i}` };
      } else {
        const match = /^([a-z-]+)(?:\s+(.*))?$/s.exec(inner);
        if (!match) return { ok: false, error: `malformed tag <${inner}> at ${i}` };
        const name = match[1]!;
        const attrs = match[2];
        if (!ALLOWED_TAGS.has(name)) return { ok: false, error: `unsupported tag <${name}>` };
        if (name === "a") {
          const href = /^href="([^"]*)"$/.exec(attrs ?? "");
          if (!href || !validAttributeValue(href[1]!))
            return { ok: false, error: `bad <a> attributes: ${attrs}` };
          if (stack.includes("a")) return { ok: false, error: "nested <a>" };
        } else if (attrs !== undefined) {
          return { ok: false, error: `unexpected attributes on <${name}>` };
        }
        stack.push(name);
      }
      i = end + 1;
    } else if (c === "&") {
      const match = ENTITY.exec(html.slice(i, i + 16));
      const decoded = match ? decodeEntity(match[1]!) : null;
      if (!match || decoded === null) return { ok: false, error: `bare & at ${i}` };
      text += decoded;
      i += match[0].length;
    } else if (c === ">") {
      return { ok: false, error: `bare > at ${i}` };
    } else {
      text += c;
      i += 1;
    }
  }
  if (stack.length > 0) return { ok: false, error: `unclosed <${stack.join("><")}>` };
  return { ok: true, text };
}

/** True when `s` holds a high surrogate without its low half or a low one without its high half. */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i += 1;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/** The shown text of valid HTML; throws with the validator's reason otherwise (for test readability). */
export function shownText(html: string): string {
  const check = checkTelegramHtml(html);
  if (!check.ok) throw new Error(`invalid Telegram HTML: ${check.error}\n${html.slice(0, 500)}`);
  return check.text;
}
