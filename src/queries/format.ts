// The answers to /open and /stats as plain text (shared by the commands and the shift report).
import type { Locale } from "../config/types.js";
import { queryTexts, t } from "../i18n/index.js";
import { encodeCallbackData } from "../render/callback-data.js";
import { cleanInline, clipText, lookupCommandOf, severityMark } from "../render/index.js";
import type { InlineKeyboard } from "../render/types.js";
import { INCIDENT_STATUSES, type IncidentSummary } from "../siem/types.js";
import { OPEN_SEVERITIES, OPEN_STATUSES, type OpenPage } from "./open.js";
import type { IncidentStats } from "./stats.js";

const NAME_MAX = 60;

/** `🔴 INC-12 Password_brute — Новый, 3 ч назад /inc_12` */
export function openLine(incident: IncidentSummary, now: number, locale: Locale): string {
  const q = queryTexts(locale);
  const name = clipText(cleanInline(incident.name), NAME_MAX);
  const status = t(locale).incident.status(incident.status);
  const command = lookupCommandOf(incident.key);
  const age = q.age(now - incident.created.getTime());
  return `${severityMark(incident.severity)} ${cleanInline(incident.key)} ${name} — ${status}, ${age}${command ? ` ${command}` : ""}`;
}

export function openPageText(page: OpenPage, now: number, locale: Locale): string {
  const q = queryTexts(locale);
  const m = t(locale);
  const severity = page.severity ? m.incident.severity(page.severity) : null;
  if (page.total === 0) return q.openEmpty(severity);
  const header = q.openHeader({
    total: page.total,
    byStatus: OPEN_STATUSES.map((s) => [m.incident.status(s), page.byStatus[s]]),
    severity,
    page: page.page,
    pages: page.pages,
  });
  return [header, "", ...page.incidents.map((i) => openLine(i, now, locale))].join("\n");
}

/** ◀️ ▶️ under an /open page: only the ones that lead somewhere. */
export function openKeyboard(page: OpenPage): InlineKeyboard {
  const row = [];
  if (page.page > 0)
    row.push({
      text: "◀️",
      callbackData: encodeCallbackData({ kind: "open", page: page.page - 1, severity: page.severity }),
    });
  if (page.page < page.pages - 1)
    row.push({
      text: "▶️",
      callbackData: encodeCallbackData({ kind: "open", page: page.page + 1, severity: page.severity }),
    });
  return row.length > 0 ? [row] : [];
}

function ordered(counts: Record<string, number>, order: readonly string[], label: (raw: string) => string) {
  const known = order.filter((k) => counts[k] !== undefined);
  const other = Object.keys(counts)
    .filter((k) => !order.includes(k))
    .sort();
  return [...known, ...other].map((k): [string, number] => [label(k), counts[k]!]);
}

export function statsText(stats: IncidentStats, locale: Locale): string {
  const m = t(locale);
  return queryTexts(locale).stats({
    span: stats.span,
    total: stats.total,
    counted: stats.counted,
    bySeverity: ordered(
      stats.bySeverity,
      OPEN_SEVERITIES,
      (s) => `${severityMark(s)} ${m.incident.severity(s)}`,
    ),
    byStatus: ordered(stats.byStatus, INCIDENT_STATUSES, (s) => m.incident.status(s)),
    measured: stats.measured,
    sampled: stats.sampled,
    react: stats.react,
    resolve: stats.resolve,
    viaBot: stats.viaBot,
    onlyInSiem: stats.onlyInSiem,
  });
}
