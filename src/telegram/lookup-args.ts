// The argument of /inc (design.md §4): `/inc INC-123`, `/inc inc-123`, `/inc 123` and the tappable
// `/inc_123` (parseCommand hands over the glued `_123`). Pure, so it is property-tested; anything else
// is refused here, before any SIEM call.

/** The largest incident number asked about: far above any real SIEM's count, far below a double's precision. */
export const MAX_INCIDENT_NUMBER = 999_999_999;
/** Longer arguments are refused unread (a key is at most `INC-` and 9 digits). */
export const MAX_LOOKUP_ARG_LENGTH = 32;

export type LookupArg =
  | { ok: true; key: string; number: number }
  | { ok: false; reason: "missing" | "invalid" | "too_large" };

const SHAPE = /^(?:_|inc-)?(\d{1,12})$/i;

/** Reads the /inc argument: one key or number; `key` comes out canonical (`INC-123`). */
export function parseLookupArg(arg: string): LookupArg {
  if (arg.length > MAX_LOOKUP_ARG_LENGTH) return { ok: false, reason: "invalid" };
  const trimmed = arg.trim();
  if (trimmed.length === 0) return { ok: false, reason: "missing" };
  const m = SHAPE.exec(trimmed);
  if (!m) return { ok: false, reason: "invalid" };
  const number = Number(m[1]);
  if (number === 0) return { ok: false, reason: "invalid" };
  if (number > MAX_INCIDENT_NUMBER) return { ok: false, reason: "too_large" };
  return { ok: true, key: `INC-${number}`, number };
}
