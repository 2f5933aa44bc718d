// Human durations used by settings such as BOT_INITIAL_LOOKBACK ("24h") and BOT_POLL_INTERVAL ("1.5").

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;
type Unit = keyof typeof UNIT_MS;

const NUMBER = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`;
const BARE_SECONDS = new RegExp(`^${NUMBER}$`);
const ONE_PART = new RegExp(`(${NUMBER})\\s*(ms|s|m|h|d|w)`, "gy");

/**
 * Parses "0", "90" (seconds), "1.5" (seconds), "30s", "30m", "24h", "7d", "2w", "500ms", "1h30m" or "1h 30m"
 * into milliseconds. Returns null for anything else, including negative or empty values.
 */
export function parseDuration(text: string): number | null {
  const s = text.trim().toLowerCase();
  if (s === "") return null;
  if (BARE_SECONDS.test(s)) return finite(Number(s) * 1_000);

  let total = 0;
  let position = 0;
  while (position < s.length) {
    ONE_PART.lastIndex = position;
    const match = ONE_PART.exec(s);
    if (!match) return null;
    const [whole, amount, unit] = match;
    total += Number(amount) * UNIT_MS[unit as Unit];
    position += whole.length;
    // Parts may be separated by spaces: "1h 30m".
    while (s[position] === " ") position++;
  }
  return finite(total);
}

function finite(ms: number): number | null {
  if (!Number.isFinite(ms) || ms < 0 || ms > Number.MAX_SAFE_INTEGER) return null;
  return Math.round(ms);
}

/** The inverse of parseDuration for display: 90_000 → "1m30s", 1_500 → "1.5s", 0 → "0". */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  let rest = Math.round(ms);
  let out = "";
  for (const unit of ["d", "h", "m"] as const) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * UNIT_MS[unit];
    }
  }
  if (rest > 0) out += rest % 1_000 === 0 || rest >= 1_000 ? `${rest / 1_000}s` : `${rest}ms`;
  return out;
}
