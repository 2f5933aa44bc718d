// Times as chats see them, in BOT_TIME_ZONE. Never throws: a bad date shows "—", a bad zone falls
// back to UTC (and says so), so a broken SIEM timestamp can never stop a message.

import type { Locale } from "../config/types.js";

export const NO_TIME = "—";

interface Parts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  /** " UTC" when the configured zone was unusable and UTC was used instead. */
  zoneNote: string;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat("en-GB", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      formatter = null; // RangeError: unknown time zone
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function partsOf(d: Date, timeZone: string): Parts | null {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) return null;
  const zoned = formatterFor(timeZone);
  const formatter = zoned ?? formatterFor("UTC");
  if (!formatter) return null;
  try {
    const parts: Record<string, string> = {};
    for (const p of formatter.formatToParts(d)) parts[p.type] = p.value;
    return {
      year: parts.year ?? "",
      month: parts.month ?? "",
      day: parts.day ?? "",
      hour: parts.hour ?? "",
      minute: parts.minute ?? "",
      second: parts.second ?? "",
      zoneNote: zoned ? "" : " UTC",
    };
  } catch {
    return null;
  }
}

function datePart(p: Parts, locale: Locale): string {
  return locale === "en" ? `${p.year}-${p.month}-${p.day}` : `${p.day}.${p.month}.${p.year}`;
}

/** "12.03.2024 09:12:00" (ru) or "2024-03-12 09:12:00" (en) in `timeZone`; "—" for a bad date. */
export function formatTime(d: Date, timeZone: string, locale: Locale): string {
  const p = partsOf(d, timeZone);
  if (!p) return NO_TIME;
  return `${datePart(p, locale)} ${p.hour}:${p.minute}:${p.second}${p.zoneNote}`;
}

/** "09:12" in `timeZone`; "—" for a bad date. For short notes such as "Разрешено: @admin, 09:12". */
export function formatClock(d: Date, timeZone: string, _locale: Locale): string {
  const p = partsOf(d, timeZone);
  if (!p) return NO_TIME;
  return `${p.hour}:${p.minute}${p.zoneNote}`;
}

/**
 * "09:12" when `d` falls on the same day as `reference` in `timeZone`, otherwise the date too
 * ("13.03.2024 09:12"). Used for action lines, where the incident time above gives the day.
 */
export function formatTimeNear(d: Date, reference: Date, timeZone: string, locale: Locale): string {
  const p = partsOf(d, timeZone);
  if (!p) return NO_TIME;
  const ref = partsOf(reference, timeZone);
  const sameDay = ref !== null && ref.year === p.year && ref.month === p.month && ref.day === p.day;
  return `${sameDay ? "" : `${datePart(p, locale)} `}${p.hour}:${p.minute}${p.zoneNote}`;
}
