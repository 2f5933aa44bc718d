// Active hours of a route (Alertmanager's time_intervals, reduced to what a SOC needs): outside them,
// incidents still arrive, silently. A route has a list of specs; it is active when ANY spec holds.
//
//   spec     := [days] [times]           (at least one of the two)
//   days     := dayspan ("," dayspan)*
//   dayspan  := day | day "-" day | day ":" day    (monday-friday; a span may wrap: friday-monday)
//   day      := monday | mon | tuesday | tue | … | sunday | sun     (any case)
//   times    := range ("," range)*
//   range    := HH:MM "-" HH:MM          (start included, end excluded, 24:00 allowed, start < end)
//
// Examples: "monday-friday 09:00-18:00", "saturday,sunday 10:00-14:00", "08:00-22:00", "mon-fri".
// A night shift crossing midnight is two ranges: "22:00-24:00, 00:00-06:00" (as in Alertmanager, a range
// never crosses midnight). Times are in BOT_TIME_ZONE, taken from the injected clock at queue time.

export interface ActiveHoursSpec {
  /** Weekdays the spec holds on, 0 = Sunday … 6 = Saturday; all seven when the spec names none. */
  days: ReadonlySet<number>;
  /** [start, end) in minutes of the day; the whole day when the spec names no times. */
  ranges: ReadonlyArray<readonly [number, number]>;
}

export type ActiveHoursResult = { ok: true; spec: ActiveHoursSpec } | { ok: false; problem: string };

const DAY_NAMES: ReadonlyArray<readonly string[]> = [
  ["sunday", "sun"],
  ["monday", "mon"],
  ["tuesday", "tue", "tues"],
  ["wednesday", "wed"],
  ["thursday", "thu", "thur", "thurs"],
  ["friday", "fri"],
  ["saturday", "sat"],
];
const DAY_OF = new Map<string, number>(
  DAY_NAMES.flatMap((names, day) => names.map((n) => [n, day] as const)),
);
const ALL_DAYS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6]);
const WHOLE_DAY: ReadonlyArray<readonly [number, number]> = [[0, 24 * 60]];

function parseClock(text: string, isEnd: boolean): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59) return null;
  if (h === 24 && min === 0 && isEnd) return 24 * 60;
  if (h > 23) return null;
  return h * 60 + min;
}

function parseDays(text: string): Set<number> | string {
  const days = new Set<number>();
  for (const part of text.split(",")) {
    const span = part.trim().toLowerCase();
    if (span === "") return `empty day in "${text}"`;
    const [from, to, extra] = span.split(/[-:]/);
    if (extra !== undefined) return `"${part.trim()}" is not a day or a span of days like monday-friday`;
    const a = DAY_OF.get(from!.trim());
    const b = to === undefined ? a : DAY_OF.get(to.trim());
    if (a === undefined || b === undefined)
      return `"${part.trim()}" is not a day (monday…sunday or mon…sun) or a span like monday-friday`;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

function parseRanges(text: string): Array<[number, number]> | string {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(",")) {
    const range = part.trim();
    const m = /^(\S+?)\s*-\s*(\S+)$/.exec(range);
    const start = m ? parseClock(m[1]!, false) : null;
    const end = m ? parseClock(m[2]!, true) : null;
    if (start === null || end === null) return `"${range}" is not a time range like 09:00-18:00`;
    if (start >= end) {
      return `"${range}": the start must be before the end; a range crossing midnight is written as two, e.g. 22:00-24:00, 00:00-06:00`;
    }
    ranges.push([start, end]);
  }
  return ranges;
}

/** Parses one spec ("monday-friday 09:00-18:00"). Never throws. */
export function parseActiveHours(text: string): ActiveHoursResult {
  const src = text.trim();
  if (src === "")
    return { ok: false, problem: "empty: write days and/or times, like monday-friday 09:00-18:00" };
  // The times begin at the first digit; what comes before is the days.
  const firstDigit = src.search(/\d/);
  const daysText = (firstDigit === -1 ? src : src.slice(0, firstDigit)).trim();
  const timesText = firstDigit === -1 ? "" : src.slice(firstDigit).trim();
  let days: ReadonlySet<number> = ALL_DAYS;
  if (daysText !== "") {
    const parsed = parseDays(daysText.replace(/\s*([,:-])\s*/g, "$1"));
    if (typeof parsed === "string") return { ok: false, problem: parsed };
    days = parsed;
  }
  let ranges: ReadonlyArray<readonly [number, number]> = WHOLE_DAY;
  if (timesText !== "") {
    const parsed = parseRanges(timesText);
    if (typeof parsed === "string") return { ok: false, problem: parsed };
    ranges = parsed;
  }
  return { ok: true, spec: { days, ranges } };
}

/** A moment as the specs see it: the weekday and the minute of the day in the configured zone. */
export interface LocalClock {
  weekday: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_OF: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The weekday and minute of `ms` in `timeZone` (an IANA name, already validated by the config). */
export function localClock(ms: number, timeZone: string): LocalClock {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(new Date(ms))) {
    if (part.type === "weekday") weekday = WEEKDAY_OF[part.value] ?? 0;
    else if (part.type === "hour") hour = Number(part.value) % 24;
    else if (part.type === "minute") minute = Number(part.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

/** Whether any of the specs holds at `at`. An empty list holds always. */
export function withinActiveHours(specs: readonly ActiveHoursSpec[], at: LocalClock): boolean {
  if (specs.length === 0) return true;
  return specs.some(
    (s) => s.days.has(at.weekday) && s.ranges.some(([start, end]) => at.minute >= start && at.minute < end),
  );
}
