// A strict parser for Telegram's `parse_mode: "HTML"`. It turns the markup into the plain text a
// person sees plus Bot API entities (offsets in UTF-16 units), and rejects what Telegram rejects —
// and, on purpose, a little more (any `&` that is not one of the four named entities or a numeric
// one), so a renderer that forgets to escape fails here instead of showing "&foo" in a real chat.

export interface TextEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export interface ParsedText {
  text: string;
  entities: TextEntity[];
}

/** The part of Telegram's "can't parse entities: …" description after the colon. */
export class EntityParseError extends Error {}

const NAMED_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/** Tag name → entity type; `span`, `a`, `pre`, `code` and `blockquote` are refined by their attributes. */
const TAG_ENTITY: Record<string, string> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  "tg-spoiler": "spoiler",
  span: "spoiler",
  a: "text_link",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
};

interface OpenTag {
  /** Position among start tags, so nested entities with equal spans keep outer-first order. */
  order: number;
  name: string;
  type: string;
  offset: number;
  url?: string;
  language?: string;
}

const isSpace = (ch: string | undefined): boolean =>
  ch === " " || ch === "\n" || ch === "\t" || ch === "\r" || ch === "\f";

/** Telegram reports positions as UTF-8 byte offsets into the original string. */
function byteOffset(source: string, index: number): number {
  return Buffer.byteLength(source.slice(0, index), "utf8");
}

/** Decodes the entity starting at `source[index] === "&"`; returns the text and the index after `;`. */
function decodeEntityAt(source: string, index: number): { value: string; end: number } {
  const semicolon = source.indexOf(";", index + 1);
  const body = semicolon === -1 ? "" : source.slice(index + 1, semicolon);
  let value: string | undefined;
  if (/^[a-z]{2,4}$/.test(body)) {
    value = NAMED_ENTITIES[body];
  } else if (/^#[0-9]{1,7}$/.test(body) || /^#[xX][0-9a-fA-F]{1,6}$/.test(body)) {
    const codePoint =
      body[1] === "x" || body[1] === "X"
        ? Number.parseInt(body.slice(2), 16)
        : Number.parseInt(body.slice(1), 10);
    const isSurrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
    if (codePoint > 0 && codePoint <= 0x10ffff && !isSurrogate) value = String.fromCodePoint(codePoint);
  }
  if (value === undefined) {
    throw new EntityParseError(
      `Unsupported HTML entity "${source.slice(index, Math.min(semicolon === -1 ? index + 12 : semicolon + 1, index + 12))}" at byte offset ${byteOffset(source, index)}; escape "&" as "&amp;"`,
    );
  }
  return { value, end: semicolon + 1 };
}

function decodeAttributeValue(source: string, raw: string, rawStart: number): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "&") {
      const decoded = decodeEntityAt(source, rawStart + i);
      out += decoded.value;
      i = decoded.end - rawStart - 1;
    } else {
      out += raw[i];
    }
  }
  return out;
}

/** Reads the attributes of a start tag from `index` up to its `>`; returns them and the index after `>`. */
function readAttributes(
  source: string,
  index: number,
  tagName: string,
  tagStart: number,
): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let i = index;
  const unclosed = () =>
    new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(source, tagStart)}`);
  for (;;) {
    while (i < source.length && isSpace(source[i])) i++;
    if (i >= source.length) throw unclosed();
    if (source[i] === ">") return { attributes, end: i + 1 };
    const nameStart = i;
    while (i < source.length && /[a-zA-Z0-9_-]/.test(source[i]!)) i++;
    const name = source.slice(nameStart, i).toLowerCase();
    if (name === "") {
      throw new EntityParseError(
        `Empty attribute name in the tag "${tagName}" at byte offset ${byteOffset(source, tagStart)}`,
      );
    }
    while (i < source.length && isSpace(source[i])) i++;
    if (source[i] !== "=") {
      attributes.set(name, ""); // a bare attribute, e.g. <blockquote expandable>
      continue;
    }
    i++;
    while (i < source.length && isSpace(source[i])) i++;
    if (i >= source.length) throw unclosed();
    const quote = source[i];
    let raw: string;
    let rawStart: number;
    if (quote === '"' || quote === "'") {
      const close = source.indexOf(quote, i + 1);
      if (close === -1) {
        throw new EntityParseError(
          `Unclosed end of an attribute value in the tag "${tagName}" at byte offset ${byteOffset(source, tagStart)}`,
        );
      }
      rawStart = i + 1;
      raw = source.slice(rawStart, close);
      i = close + 1;
    } else {
      rawStart = i;
      while (i < source.length && !isSpace(source[i]) && source[i] !== ">") i++;
      raw = source.slice(rawStart, i);
    }
    attributes.set(name, decodeAttributeValue(source, raw, rawStart));
  }
}

function openTag(source: string, tagStart: number, name: string, attributes: Map<string, string>): OpenTag {
  const type = TAG_ENTITY[name];
  if (type === undefined) {
    throw new EntityParseError(
      `Unsupported start tag "${name}" at byte offset ${byteOffset(source, tagStart)}`,
    );
  }
  const tag: OpenTag = { order: 0, name, type, offset: 0 };
  if (name === "span" && attributes.get("class") !== "tg-spoiler") {
    throw new EntityParseError(
      `Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(source, tagStart)}`,
    );
  }
  if (name === "a") {
    const href = attributes.get("href");
    if (href === undefined || href.trim() === "") {
      throw new EntityParseError(
        `Tag "a" must have attribute "href" at byte offset ${byteOffset(source, tagStart)}`,
      );
    }
    tag.url = href;
  }
  if (name === "blockquote" && attributes.has("expandable")) tag.type = "expandable_blockquote";
  if (name === "code") {
    const language = /^language-(.+)$/.exec(attributes.get("class") ?? "")?.[1];
    if (language !== undefined) tag.language = language;
  }
  return tag;
}

/** Parses Telegram HTML; throws EntityParseError with a Telegram-like reason. */
export function parseTelegramHtml(source: string): ParsedText {
  let text = "";
  const closed: Array<{ entity: TextEntity; order: number }> = [];
  const stack: OpenTag[] = [];
  let opened = 0;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === "&") {
      const decoded = decodeEntityAt(source, i);
      text += decoded.value;
      i = decoded.end;
      continue;
    }
    if (ch !== "<") {
      text += ch;
      i++;
      continue;
    }
    const tagStart = i;
    if (source[i + 1] === "/") {
      const close = source.indexOf(">", i + 2);
      if (close === -1)
        throw new EntityParseError(`Unclosed end tag at byte offset ${byteOffset(source, tagStart)}`);
      const name = source
        .slice(i + 2, close)
        .trim()
        .toLowerCase();
      const top = stack.pop();
      if (top === undefined) {
        throw new EntityParseError(`Unexpected end tag at byte offset ${byteOffset(source, tagStart)}`);
      }
      if (top.name !== name) {
        throw new EntityParseError(
          `Unmatched end tag at byte offset ${byteOffset(source, tagStart)}, expected "</${top.name}>", found "</${name}>"`,
        );
      }
      const length = text.length - top.offset;
      const parent = stack[stack.length - 1];
      if (top.name === "code" && parent?.name === "pre" && top.language !== undefined) {
        parent.language = top.language; // <pre><code class="language-x"> sets the pre's language
      } else if (length > 0) {
        const entity: TextEntity = { type: top.type, offset: top.offset, length };
        if (top.url !== undefined) entity.url = top.url;
        if (top.language !== undefined && top.type === "pre") entity.language = top.language;
        closed.push({ entity, order: top.order });
      }
      i = close + 1;
      continue;
    }
    let nameEnd = i + 1;
    while (nameEnd < source.length && !isSpace(source[nameEnd]) && source[nameEnd] !== ">") nameEnd++;
    if (nameEnd >= source.length) {
      throw new EntityParseError(`Unclosed start tag at byte offset ${byteOffset(source, tagStart)}`);
    }
    const name = source.slice(i + 1, nameEnd).toLowerCase();
    if (TAG_ENTITY[name] === undefined) {
      throw new EntityParseError(
        `Unsupported start tag "${name}" at byte offset ${byteOffset(source, tagStart)}`,
      );
    }
    const { attributes, end } = readAttributes(source, nameEnd, name, tagStart);
    const tag = openTag(source, tagStart, name, attributes);
    tag.offset = text.length;
    tag.order = opened++;
    stack.push(tag);
    i = end;
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed !== undefined) {
    throw new EntityParseError(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  }
  closed.sort(
    (a, b) => a.entity.offset - b.entity.offset || b.entity.length - a.entity.length || a.order - b.order,
  );
  return { text, entities: closed.map((c) => c.entity) };
}

/**
 * What a person sees for some Telegram HTML, never throwing: tags dropped, entities decoded.
 * Used for transcripts, where a message already accepted by the fake is shown again.
 */
export function htmlToVisibleText(source: string): string {
  try {
    return parseTelegramHtml(source).text;
  } catch {
    return source
      .replace(/<[^>]*>/g, "")
      .replace(/&(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);/g, (whole, body: string) => {
        if (body.startsWith("#")) {
          const code =
            body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
          return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
        }
        return NAMED_ENTITIES[body] ?? whole;
      });
  }
}
