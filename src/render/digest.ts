// A digest: many incidents as short lines (mark, key, linked name; the plain-text fallback without links), used when a flood would
// otherwise hit Telegram's rate limits. Split into as many messages as the 4096 limit needs.

import { t } from "../i18n/index.js";
import type { IncidentSummary } from "../siem/types.js";
import { incidentUrl, severityMark } from "./incident.js";
import { cleanInline, clipText, escapeHtml, TELEGRAM_TEXT_LIMIT, visibleLength } from "./text.js";
import type { RenderOptions } from "./types.js";

const KEY_MAX = 64;
const NAME_MAX = 200;

export interface DigestMessage {
  html: string;
  plain: string;
  /** Ids of the incidents this message lists, in order. */
  included: string[];
}

interface DigestLine {
  id: string;
  html: string;
  plain: string;
  htmlLength: number;
}

function digestLine(item: IncidentSummary, opts: RenderOptions): DigestLine {
  const m = t(opts.locale);
  const mark = severityMark(cleanInline(item.severity));
  const key = clipText(cleanInline(item.key), KEY_MAX) || m.empty;
  const name = clipText(cleanInline(item.name), NAME_MAX) || m.empty;
  const url = incidentUrl(opts.siemUrl, item.id);
  const html = `${mark} <b>${escapeHtml(key)}</b> <a href="${escapeHtml(url)}">${escapeHtml(name)}</a>`;
  // The plain twin (used only if Telegram rejects the HTML) leaves the links out: with them it would
  // hold half as many incidents, and every digest of a flood would take twice the messages.
  return { id: item.id, html, plain: `${mark} ${key} ${name}`, htmlLength: visibleLength(html) };
}

/**
 * Lists every item once, in the given order, over as few messages as fit (each ≤ 4096 visible
 * UTF-16 units in HTML and in plain). Each message starts with the header "N новых инцидентов",
 * with "(2/3)" when there are several. No items → no messages.
 */
export function renderDigest(items: IncidentSummary[], opts: RenderOptions): DigestMessage[] {
  if (items.length === 0) return [];
  const m = t(opts.locale);
  const header = m.notices.digestHeader(items.length);
  // Room for the longest header any part could get, plus its newline.
  const reserve = header.length + m.notices.digestPart(items.length, items.length).length + 1;
  const budget = TELEGRAM_TEXT_LIMIT - reserve;

  const groups: DigestLine[][] = [];
  let current: DigestLine[] = [];
  let htmlUsed = 0;
  let plainUsed = 0;
  for (const item of items) {
    const line = digestLine(item, opts);
    const sep = current.length > 0 ? 1 : 0;
    if (
      current.length > 0 &&
      (htmlUsed + sep + line.htmlLength > budget || plainUsed + sep + line.plain.length > budget)
    ) {
      groups.push(current);
      current = [];
      htmlUsed = 0;
      plainUsed = 0;
    }
    const gap = current.length > 0 ? 1 : 0;
    current.push(line);
    htmlUsed += gap + line.htmlLength;
    plainUsed += gap + line.plain.length;
  }
  groups.push(current);

  return groups.map((lines, index) => {
    const title = header + (groups.length > 1 ? m.notices.digestPart(index + 1, groups.length) : "");
    return {
      html: [`<b>${escapeHtml(title)}</b>`, ...lines.map((l) => l.html)].join("\n"),
      // A single line longer than the limit can only come from an absurd MPSIEM_URL: cut it.
      plain: clipText([title, ...lines.map((l) => l.plain)].join("\n"), TELEGRAM_TEXT_LIMIT),
      included: lines.map((l) => l.id),
    };
  });
}

/**
 * One digest message packed full: the longest prefix of `items` (in order) whose lines fit in one
 * message under a header that counts exactly what it holds ("113 новых инцидентов", no "(1/3)"), with
 * "🔕 без звука" after it when `silent`. Each line is measured, with the header for that count, against
 * Telegram's 4096 in HTML (visible text) and in plain. Undefined for no items; at least one line else.
 */
export function renderDigestPage(
  items: IncidentSummary[],
  opts: RenderOptions,
  extra: { silent?: boolean } = {},
): DigestMessage | undefined {
  if (items.length === 0) return undefined;
  const m = t(opts.locale);
  const title = (count: number) =>
    m.notices.digestHeader(count) + (extra.silent === true ? ` · ${m.incident.silent}` : "");
  const lines: DigestLine[] = [];
  // Lengths of the lines so far, each with the newline before it.
  let htmlUsed = 0;
  let plainUsed = 0;
  for (const item of items) {
    const line = digestLine(item, opts);
    const header = title(lines.length + 1).length;
    const html = header + htmlUsed + 1 + line.htmlLength;
    const plain = header + plainUsed + 1 + line.plain.length;
    if (lines.length > 0 && (html > TELEGRAM_TEXT_LIMIT || plain > TELEGRAM_TEXT_LIMIT)) break;
    lines.push(line);
    htmlUsed += 1 + line.htmlLength;
    plainUsed += 1 + line.plain.length;
  }
  const header = title(lines.length);
  return {
    html: [`<b>${escapeHtml(header)}</b>`, ...lines.map((l) => l.html)].join("\n"),
    // A single line longer than the limit can only come from an absurd MPSIEM_URL: cut it.
    plain: clipText([header, ...lines.map((l) => l.plain)].join("\n"), TELEGRAM_TEXT_LIMIT),
    included: lines.map((l) => l.id),
  };
}
