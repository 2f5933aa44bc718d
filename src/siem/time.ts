// MP SIEM timestamps: .NET "o" strings with 7 fraction digits and `Z`, older tools' naive or
// 6-digit strings, and unix seconds on the old API. Everything becomes a UTC Date.

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{0,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const UNIX_SECONDS_PATTERN = /^-?\d+(?:\.\d+)?$/;
/** The ECMAScript Date range, in milliseconds either side of the epoch. */
const MAX_EPOCH_MS = 8.64e15;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function fromUnixSeconds(seconds: number): Date | null {
  if (!Number.isFinite(seconds)) return null;
  const ms = seconds * 1000;
  if (Math.abs(ms) > MAX_EPOCH_MS) return null;
  return new Date(Math.trunc(ms));
}

/** Offset like `+03:00`, `+0300`, `-05` in minutes east of UTC; null when out of range. */
function offsetMinutes(zone: string): number | null {
  if (zone === "Z" || zone === "z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

function fromIsoString(text: string): Date | null {
  const m = ISO_PATTERN.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  // Milliseconds are all a Date holds: extra digits (the SIEM sends 7) are truncated, never rounded up.
  const millis = Number(fraction.slice(0, 3).padEnd(3, "0"));
  // Naive times are UTC: the SIEM stores and returns GMT+0.
  const offset = zone === undefined ? 0 : offsetMinutes(zone);
  if (offset === null) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const ms = date.getTime() - offset * 60_000;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) return null;
  return new Date(ms);
}

/**
 * Reads a SIEM timestamp: ISO 8601 with 0–9 fraction digits and `Z`, an offset, or no zone (UTC);
 * or unix seconds (a number or a string of digits). Returns null for anything else; never throws.
 */
export function parseSiemTime(value: unknown): Date | null {
  try {
    if (typeof value === "number") return fromUnixSeconds(value);
    if (typeof value !== "string") return null;
    const text = value.trim();
    if (text === "") return null;
    if (UNIX_SECONDS_PATTERN.test(text)) return fromUnixSeconds(Number(text));
    return fromIsoString(text);
  } catch {
    return null;
  }
}

/** The `timeFrom` / `timeTo` we send: `YYYY-MM-DDTHH:MM:SS.fffZ`, the form MP SIEM R25+ clients use. */
export function formatSiemTime(d: Date): string {
  return d.toISOString();
}
