// A realistic day in the SOC, for tests and demos of the questions to the bot (/open, /stats, the shift
// report): incidents created over 24 hours, most of them worked on — approved, taken, resolved, closed —
// at known times, some through the API (as the bot does) and most in the SIEM UI. The plan is made from
// a seed, so a test can compute every expected figure from it independently of the bot.
import type { IncidentStatus } from "../siem/types.js";
import { Random } from "./random.js";
import type { SeverityName } from "./scenarios.js";
import type { EmulatorState } from "./state.js";

export interface PlannedTransition {
  to: IncidentStatus;
  at: Date;
  /** "api": through the API, as the bot does; "ui": a person in the SIEM UI. */
  via: "api" | "ui";
}

export interface PlannedIncident {
  created: Date;
  severity: SeverityName;
  /** In time order, all before the day's end. */
  transitions: PlannedTransition[];
}

export interface DayPlan {
  start: Date;
  end: Date;
  incidents: PlannedIncident[];
}

export interface DayOptions {
  seed: number;
  /** The end of the day (exclusive): incidents are created in the 24 hours before it. */
  end: Date;
  /** Default 300. */
  count?: number;
}

const DAY_MS = 86_400_000;
const MINUTE = 60_000;

/** Minutes to the first reaction: the team answers High faster. */
const REACT_MINUTES: Record<SeverityName, [number, number]> = {
  High: [2, 30],
  Medium: [5, 120],
  Low: [10, 480],
};

function pickSeverity(r: Random): SeverityName {
  const x = r.next();
  return x < 0.15 ? "High" : x < 0.6 ? "Medium" : "Low";
}

/** The lifecycle of one incident: which statuses it goes through (before any cut at the day's end). */
function pickPath(r: Random): IncidentStatus[] {
  const x = r.next();
  if (x < 0.2) return []; // nobody looked yet
  if (x < 0.35) return ["Closed"]; // a false positive, closed at once
  if (x < 0.5) return ["Approved"];
  if (x < 0.65) return ["Approved", "InProgress"];
  if (x < 0.85) return ["Approved", "InProgress", "Resolved"];
  return ["Approved", "InProgress", "Resolved", "Closed"];
}

/** The plan of a day: deterministic for a seed and an end. */
export function planDay(options: DayOptions): DayPlan {
  const count = options.count ?? 300;
  const r = new Random(options.seed);
  const endMs = options.end.getTime();
  const startMs = endMs - DAY_MS;
  // Whole seconds, distinct: creation order is key order.
  const seconds = new Set<number>();
  while (seconds.size < count) seconds.add(r.int(0, DAY_MS / 1000 - 1));
  const createdMs = [...seconds].sort((a, b) => a - b).map((s) => startMs + s * 1000);
  const incidents = createdMs.map((created): PlannedIncident => {
    const severity = pickSeverity(r);
    const transitions: PlannedTransition[] = [];
    let at = created;
    const [min, max] = REACT_MINUTES[severity];
    for (const [index, to] of pickPath(r).entries()) {
      at += (index === 0 ? r.int(min, max) : r.int(5, 240)) * MINUTE + r.int(0, 59) * 1000;
      if (at >= endMs) break;
      transitions.push({ to, at: new Date(at), via: r.next() < 0.3 ? "api" : "ui" });
    }
    return { created: new Date(created), severity, transitions };
  });
  return { start: new Date(startMs), end: new Date(endMs), incidents };
}

/** Puts the day into the emulator: the incidents in creation order, then their history. Returns their keys. */
export function playDay(state: EmulatorState, plan: DayPlan): string[] {
  return plan.incidents.map((planned) => {
    const incident = state.addIncident({
      created: planned.created,
      severity: planned.severity,
      status: "New",
      isConfirmed: false,
    });
    for (const t of planned.transitions) {
      state.recordTransition(incident.id, t.to, {
        at: t.at,
        via: t.via,
        ...(t.via === "api" ? { comment: "Изменено через Telegram-бот." } : {}),
      });
    }
    return incident.key;
  });
}
