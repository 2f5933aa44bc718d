// Plural forms by hand rather than Intl.PluralRules: the rules are tiny, and the output must not
// depend on which ICU data the Node binary was built with.

/** Russian: 1, 21, 101 → one; 2–4, 22–24 → few; 0, 5–20, 11–14, 25… → many. */
export function pluralRu(n: number, one: string, few: string, many: string): string {
  const abs = Math.abs(Math.trunc(n));
  const lastTwo = abs % 100;
  const last = abs % 10;
  if (last === 1 && lastTwo !== 11) return one;
  if (last >= 2 && last <= 4 && (lastTwo < 12 || lastTwo > 14)) return few;
  return many;
}

/** English: exactly 1 → one, everything else → other. */
export function pluralEn(n: number, one: string, other: string): string {
  return Math.abs(n) === 1 ? one : other;
}

/** Splits a duration into whole days, hours, minutes and seconds (negative or NaN counts as 0). */
export function splitDuration(ms: number): { days: number; hours: number; minutes: number; seconds: number } {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  return {
    days: Math.floor(total / 86_400),
    hours: Math.floor((total % 86_400) / 3600),
    minutes: Math.floor((total % 3600) / 60),
    seconds: total % 60,
  };
}

/** "3 д 4 ч" style: the two largest non-zero units, or seconds for anything under a minute. */
export function formatDurationWith(
  ms: number,
  units: { d: string; h: string; m: string; s: string },
): string {
  const { days, hours, minutes, seconds } = splitDuration(ms);
  const parts: string[] = [];
  if (days > 0) parts.push(`${days}${units.d}`);
  if (hours > 0) parts.push(`${hours}${units.h}`);
  if (minutes > 0) parts.push(`${minutes}${units.m}`);
  if (parts.length === 0) return `${seconds}${units.s}`;
  return parts.slice(0, 2).join(" ");
}
