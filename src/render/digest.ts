// A digest: many incidents as short lines (mark, key, linked name; the plain-text fallback without links), used when a flood would
// otherwise hit Telegram's rate limits. Each message holds as many as fit Telegram's 4096; the rest go in the next one.

import { t } from "../i18n/index.js";
import type { IncidentSummary } from "../siem/types.js";
import { incidentUrl, severityMark } from "./incident.js";
import { cleanInline, clipText, escapeHtml, TELEGRAM_TEXT_LIMIT, visibleLength } from "./text.js";
import type { RenderOptions } from "./types.js";

const KEY_MAX = 64;
const NAME_MAX = 200;
/** Shorter names an edit falls back to when renamed incidents would not fit the message any more. */
const EDIT_NAME_CAPS = [NAME_MAX, 60, 20, 1];

/** A line's mark once its incident left New (design.md §4); New has none. */
export const STATUS_MARK: Readonly<Record<string, string>> = {
  approved: "✅",
  inprogress: "🛠",
  resolved: "✔️",
  closed: "✖️",
};
/** Room a line keeps for the widest status mark and its space, so that a status change never overflows. */
const STATUS_MARK_ROOM = Math.max(...Object.values(STATUS_MARK).map((mark) => mark.length)) + 1;

export function statusMark(status: string): string {
  return (
    STATUS_MARK[
      cleanInline(status)
        .toLowerCase()
        .replace(/[\s_-]/g, "")
    ] ?? ""
  );
}

/** The tappable `/inc_123` of a key `INC-123` (design.md §4); "" for a key of another shape. */
export function lookupCommandOf(key: string): string {
  const m = /^INC-(\d{1,9})$/i.exec(cleanInline(key));
  return m && Number(m[1]) > 0 ? `/inc_${Number(m[1])}` : "";
}

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
  /** Lengths as the budget counts them (with room for a status mark to come). */
  htmlLength: number;
  plainLength: number;
}

/**
 * "🔴 ✅ INC-12 Name /inc_12": severity, the status mark once it left New, key, linked name, and the
 * command that opens the full card. `reserve`: the lengths also count room for a status mark it does not
 * have yet, so that a digest packed full still fits when an edit adds one.
 */
function digestLine(
  item: IncidentSummary,
  opts: RenderOptions,
  nameMax = NAME_MAX,
  reserve = true,
): DigestLine {
  const m = t(opts.locale);
  const mark = severityMark(cleanInline(item.severity));
  const status = statusMark(item.status);
  const lead = status ? `${mark} ${status}` : mark;
  const key = clipText(cleanInline(item.key), KEY_MAX) || m.empty;
  const name = clipText(cleanInline(item.name), nameMax) || m.empty;
  const command = lookupCommandOf(key);
  const tail = command ? ` ${command}` : "";
  const url = incidentUrl(opts.siemUrl, item.id);
  const html = `${lead} <b>${escapeHtml(key)}</b> <a href="${escapeHtml(url)}">${escapeHtml(name)}</a>${tail}`;
  // The plain twin (used only if Telegram rejects the HTML) leaves the links out: with them it would
  // hold half as many incidents, and every digest of a flood would take twice the messages.
  const plain = `${lead} ${key} ${name}${tail}`;
  // Room for the widest mark to come: all of it without a mark, the difference with one (✅ is narrower
  // than the others, so Approved → InProgress would otherwise overflow a page packed full).
  const room = reserve ? STATUS_MARK_ROOM - (status ? status.length + 1 : 0) : 0;
  return {
    id: item.id,
    html,
    plain,
    htmlLength: visibleLength(html) + room,
    plainLength: plain.length + room,
  };
}

/**
 * One digest message packed full: the longest prefix of `items` (in order) whose lines fit in one
 * message under a header that counts exactly what it holds ("113 новых инцидентов"), with
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
    const plain = header + plainUsed + 1 + line.plainLength;
    if (lines.length > 0 && (html > TELEGRAM_TEXT_LIMIT || plain > TELEGRAM_TEXT_LIMIT)) break;
    lines.push(line);
    htmlUsed += 1 + line.htmlLength;
    plainUsed += 1 + line.plainLength;
  }
  const header = title(lines.length);
  return {
    html: [`<b>${escapeHtml(header)}</b>`, ...lines.map((l) => l.html)].join("\n"),
    // A single line longer than the limit can only come from an absurd MPSIEM_URL: cut it.
    plain: clipText([header, ...lines.map((l) => l.plain)].join("\n"), TELEGRAM_TEXT_LIMIT),
    included: lines.map((l) => l.id),
  };
}

/**
 * A digest message as an edit shows it: exactly these items (the ones it was sent with, in order), each
 * with its status now, under the header it was sent with. Names are shortened when renamed incidents would
 * not fit any more. Undefined for no items.
 */
export function renderDigestEdit(
  items: IncidentSummary[],
  opts: RenderOptions,
  extra: { silent?: boolean } = {},
): DigestMessage | undefined {
  if (items.length === 0) return undefined;
  const m = t(opts.locale);
  const header =
    m.notices.digestHeader(items.length) + (extra.silent === true ? ` · ${m.incident.silent}` : "");
  let message: DigestMessage | undefined;
  for (const cap of EDIT_NAME_CAPS) {
    const lines = items.map((item) => digestLine(item, opts, cap, false));
    const html = [`<b>${escapeHtml(header)}</b>`, ...lines.map((l) => l.html)].join("\n");
    const plain = [header, ...lines.map((l) => l.plain)].join("\n");
    message = { html, plain: clipText(plain, TELEGRAM_TEXT_LIMIT), included: lines.map((l) => l.id) };
    if (visibleLength(html) <= TELEGRAM_TEXT_LIMIT && plain.length <= TELEGRAM_TEXT_LIMIT) return message;
  }
  return message;
}
