// Points in time with MP SIEM's resolution: .NET ticks of 100 ns, printed as
// `YYYY-MM-DDTHH:MM:SS.fffffffZ` (mpsiem-api.md §3.4, §10 #4).
// A JS number cannot hold 100-ns ticks since 1970 exactly (2^53 is too small), so an instant is a
// pair: whole milliseconds plus the four extra digits (0..9999, units of 100 ns).

export interface Instant {
  readonly ms: number;
  /** 0..9999: the 4th..7th fractional digits of the second. */
  readonly sub: number;
}

export const SUB_PER_MS = 10_000;

export function instantFromMs(ms: number, sub = 0): Instant {
  return { ms, sub };
}

export function instantFromDate(date: Date): Instant {
  return { ms: date.getTime(), sub: 0 };
}

export function compareInstants(a: Instant, b: Instant): number {
  return a.ms - b.ms || a.sub - b.sub;
}

/** The next representable instant (100 ns later). */
export function nextTick(instant: Instant): Instant {
  return instant.sub + 1 >= SUB_PER_MS
    ? { ms: instant.ms + 1, sub: 0 }
    : { ms: instant.ms, sub: instant.sub + 1 };
}

/** UTC, exactly 7 fractional digits and `Z`, e.g. `2024-03-12T06:12:00.4571234Z`. */
export function formatInstant(instant: Instant): string {
  // toISOString gives `…SS.mmmZ`; the sub-millisecond digits go between `mmm` and `Z`.
  return `${new Date(instant.ms).toISOString().slice(0, 23)}${String(instant.sub).padStart(4, "0")}Z`;
}

export class TimeParseError extends Error {
  override readonly name = "TimeParseError";
}

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Reads a `timeFrom` / `timeTo` value in every format clients send (mpsiem-api.md §3.4):
 * naive ISO (read as UTC, §10 #14), ISO with `Z` and 0..7+ fraction digits (digits past the 7th are
 * cut, as .NET does), ISO with a numeric offset, a date alone (midnight UTC), and unix seconds as a
 * JSON number or a digit-only string (the old API, S8).
 * Returns null for null/undefined (no bound); throws TimeParseError for anything else.
 */
export function parseTimeValue(value: unknown, fieldName: string): Instant | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new TimeParseError(`${fieldName} must be a finite number of unix seconds`);
    return unixSecondsToInstant(value);
  }
  if (typeof value !== "string") {
    throw new TimeParseError(`${fieldName} must be an ISO-8601 string, unix seconds or null`);
  }
  const text = value.trim();
  if (text === "") return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return unixSecondsToInstant(Number(text));
  const match = ISO_PATTERN.exec(text);
  if (!match) {
    throw new TimeParseError(
      `${fieldName} '${value}' is not a date; use e.g. 2024-03-12T06:12:00.124Z, 2024-03-12T06:12:00 or unix seconds`,
    );
  }
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", zone] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  const baseMs = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(baseMs);
  // Date.UTC rolls 2024-02-31 over into March; a real calendar date survives the round trip.
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    throw new TimeParseError(`${fieldName} '${value}' is not a valid calendar date and time`);
  }
  const digits = fraction.slice(0, 7).padEnd(7, "0");
  const fractionMs = Number(digits.slice(0, 3));
  const sub = Number(digits.slice(3));
  return { ms: baseMs + fractionMs - zoneOffsetMs(zone), sub };
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

function unixSecondsToInstant(seconds: number): Instant {
  // Split before scaling: seconds * 10^7 would pass 2^53 and lose digits.
  const exactMs = seconds * 1000;
  const ms = Math.floor(exactMs);
  const sub = Math.min(SUB_PER_MS - 1, Math.round((exactMs - ms) * SUB_PER_MS));
  return { ms, sub };
}
