// The policies the reminder scheduler follows (issue 15): the env settings' one-policy shortcut ("env")
// and the config file's `escalation:` list, in one shape, with their matchers and active hours compiled.
import type { EscalationPolicyConfig, ReminderConfig } from "../config/types.js";
import {
  type ActiveHoursSpec,
  compileMatchers,
  type IncidentFacts,
  localClock,
  parseActiveHours,
  parseMatchers,
  SEVERITY_RANK,
  withinActiveHours,
} from "../routing/index.js";

/** The one policy the env settings make. */
export const ENV_POLICY = "env";

export interface ReminderPolicy {
  name: string;
  remindAfterMs: number; // 0 = no reminders
  remindEveryMs: number;
  remindMax: number;
  /** Lowest severity rank reminded (the env's BOT_REMIND_MIN_SEVERITY; file policies use `match`). */
  minRank: number;
  escalateAfterMs: number; // 0 = no escalation
  escalateChatId: number | null;
  /** Whether the policy's matchers admit an incident (null: every incident). */
  admits: ((facts: IncidentFacts) => boolean) | null;
  /** Outside these a due step is held until they begin; empty = always. */
  activeHours: ActiveHoursSpec[];
}

export function envPolicy(s: ReminderConfig): ReminderPolicy {
  return {
    name: ENV_POLICY,
    remindAfterMs: s.remindAfterMs,
    remindEveryMs: s.remindEveryMs,
    remindMax: s.remindMax,
    minRank: SEVERITY_RANK[s.remindMinSeverity],
    escalateAfterMs: s.escalateChatId === null ? 0 : s.escalateAfterMs,
    escalateChatId: s.escalateChatId,
    admits: null,
    activeHours: [],
  };
}

/** A file policy, already validated by config/policies.ts. */
export function filePolicy(p: EscalationPolicyConfig): ReminderPolicy {
  const parsed = parseMatchers(p.match);
  if (!parsed.ok) throw new Error(`escalation policy ${p.name}: match no longer parses`);
  const matcher = parsed.matchers.length > 0 ? compileMatchers(parsed.matchers) : null;
  return {
    name: p.name,
    remindAfterMs: p.remind?.afterMs ?? 0,
    remindEveryMs: p.remind?.everyMs ?? 0,
    remindMax: p.repeat,
    minRank: SEVERITY_RANK.low,
    escalateAfterMs: p.notify?.afterMs ?? 0,
    escalateChatId: p.notify?.chatId ?? null,
    // A matcher that cannot tell (a rule matcher before the rule names are known) admits it, as a filter
    // does at queue time: a reminder too many beats an incident that goes quiet.
    admits: matcher === null ? null : (facts) => matcher(facts) !== false,
    activeHours: p.activeHours.map((spec) => {
      const hours = parseActiveHours(spec);
      if (!hours.ok) throw new Error(`escalation policy ${p.name}: active_hours no longer parse`);
      return hours.spec;
    }),
  };
}

const MINUTE_MS = 60_000;
const WEEK_MINUTES = 7 * 24 * 60;
/** The most a change of UTC offset moves local time (with room to spare). */
const OFFSET_SLACK_MS = 3 * 60 * MINUTE_MS;

/**
 * When a step held outside the policy's active hours may go: the first minute from `now` on within them.
 * Walks local minutes arithmetically (cheap); the real clock differs from that walk only across a change
 * of UTC offset (at most a couple of hours), so the result is checked, and near such a change searched
 * for, within that much either side.
 */
export function activeFrom(specs: readonly ActiveHoursSpec[], now: number, timeZone: string): number {
  const at = localClock(now, timeZone);
  if (withinActiveHours(specs, at)) return now;
  const within = (t: number) => withinActiveHours(specs, localClock(t, timeZone));
  const minuteStart = now - (now % MINUTE_MS);
  for (let ahead = 1; ahead <= WEEK_MINUTES + 1; ahead++) {
    const m = at.minute + ahead;
    const local = { weekday: (at.weekday + Math.floor(m / 1440)) % 7, minute: m % 1440 };
    if (!withinActiveHours(specs, local)) continue;
    const guess = minuteStart + ahead * MINUTE_MS;
    if (within(guess) && !within(guess - MINUTE_MS)) return guess;
    // An offset change lies between: the first real minute within, near the guess.
    for (
      let t = Math.max(minuteStart + MINUTE_MS, guess - OFFSET_SLACK_MS);
      t <= guess + OFFSET_SLACK_MS;
      t += MINUTE_MS
    )
      if (within(t)) return t;
    return guess;
  }
  // No active minute in a week (cannot happen with validated specs): look again in an hour.
  return now + 60 * MINUTE_MS;
}
