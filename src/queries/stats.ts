// /stats (design.md §6, issue 16): for the last 24 h, 7 d or 30 d — the incidents created, by severity
// and by status; how many were acted on through the bot and how many only in the SIEM UI; the median
// and p90 time to react (creation → first status change) and to resolve (creation → Resolved/Closed).
//
// Sources, named in the answer:
// - counts: the SIEM's list call (created in the span, `totalItems`);
// - times and "only in the SIEM UI": the SIEM's transition history, one call per incident;
// - "through the bot": the bot's own audit log (successful incident actions in the span).
//
// SIEM request budget (STATS_DEFAULT_BUDGET): at most `listPages` list calls of 1000 incidents each (5,
// so 5,000 incidents counted), then at most `histories` history calls (100). A span with more incidents
// than that is sampled — evenly over the span, newest to oldest — and the answer says so.
import type { IncidentSummary, SiemClient, TransitionEntry } from "../siem/types.js";

export const STATS_SPANS = { "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
export type StatsSpan = keyof typeof STATS_SPANS;

export interface StatsBudget {
  /** List calls (1000 incidents each). */
  listPages: number;
  /** History calls: incidents whose times are measured. */
  histories: number;
}
export const STATS_DEFAULT_BUDGET: StatsBudget = { listPages: 5, histories: 100 };
const LIST_PAGE = 1000;
/** History calls at once: the SIEM is asked in parallel, but politely. */
const HISTORY_CONCURRENCY = 4;
const RESOLVED = new Set(["resolved", "closed"]);

export function parseSpanArg(arg: string): StatsSpan | null | undefined {
  const a = arg.trim().toLowerCase();
  if (a === "") return null;
  if (a === "24h" || a === "1d" || a === "24ч" || a === "1д") return "24h";
  if (a === "7d" || a === "7д" || a === "1w") return "7d";
  if (a === "30d" || a === "30д") return "30d";
  return undefined;
}

/** Nearest-rank percentile (p in (0, 1]) of unsorted values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export interface TimeFigures {
  /** Incidents the figure is over. */
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface IncidentStats {
  span: StatsSpan;
  from: Date;
  to: Date;
  /** Created in the span, as the SIEM counts them (`totalItems`). */
  total: number;
  /** Incidents the counts below are over: all of them, or the newest `listPages × 1000`. */
  counted: number;
  bySeverity: Record<string, number>;
  byStatus: Record<string, number>;
  /** Incidents whose history was read; equal to `counted` unless sampled. */
  measured: number;
  sampled: boolean;
  react: TimeFigures;
  resolve: TimeFigures;
  /** Of the incidents created in the span: acted on through the bot (audit log). */
  viaBot: number;
  /** Of the measured incidents: changed in the SIEM, never through the bot. */
  onlyInSiem: number;
  /** SIEM calls made. */
  siemCalls: number;
}

/** Evenly spaced picks of `budget` out of `items` (all of them when they fit). */
export function evenSample<T>(items: readonly T[], budget: number): T[] {
  if (items.length <= budget) return [...items];
  return Array.from({ length: budget }, (_, i) => items[Math.floor((i * items.length) / budget)]!);
}

async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return out;
}

export async function readStats(
  siem: SiemClient,
  query: {
    span: StatsSpan;
    now: number;
    /** Incident ids acted on successfully through the bot since `since` (the audit log). */
    actedOnByBot: (since: number) => Promise<Set<string>>;
    budget?: StatsBudget;
  },
): Promise<IncidentStats> {
  const budget = query.budget ?? STATS_DEFAULT_BUDGET;
  const to = new Date(query.now);
  const from = new Date(query.now - STATS_SPANS[query.span]);
  let siemCalls = 0;
  const incidents: IncidentSummary[] = [];
  let total = 0;
  for (let page = 0; page < budget.listPages; page++) {
    siemCalls++;
    const answer = await siem.queryIncidents({
      where: "",
      from,
      to,
      offset: page * LIST_PAGE,
      limit: LIST_PAGE,
    });
    incidents.push(...answer.incidents);
    total = answer.totalItems ?? incidents.length;
    if (answer.incidents.length < LIST_PAGE || incidents.length >= total) break;
  }
  const bySeverity: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const i of incidents) {
    bySeverity[i.severity || "—"] = (bySeverity[i.severity || "—"] ?? 0) + 1;
    byStatus[i.status] = (byStatus[i.status] ?? 0) + 1;
  }
  const measured = evenSample(incidents, budget.histories);
  siemCalls += measured.length;
  const histories = await inBatches(measured, HISTORY_CONCURRENCY, (i) => siem.transitionHistory(i.id));
  const bot = await query.actedOnByBot(from.getTime());
  const react: number[] = [];
  const resolve: number[] = [];
  let onlyInSiem = 0;
  measured.forEach((incident, index) => {
    const history = [...histories[index]!].filter((h): h is TransitionEntry & { at: Date } => h.at !== null);
    history.sort((a, b) => a.at.getTime() - b.at.getTime());
    const first = history[0];
    if (!first) return;
    react.push(first.at.getTime() - incident.created.getTime());
    const done = history.find((h) => RESOLVED.has(h.nextStatus.toLowerCase()));
    if (done) resolve.push(done.at.getTime() - incident.created.getTime());
    if (!bot.has(incident.id)) onlyInSiem++;
  });
  const ids = new Set(incidents.map((i) => i.id));
  const figures = (values: number[]): TimeFigures => ({
    count: values.length,
    medianMs: percentile(values, 0.5),
    p90Ms: percentile(values, 0.9),
  });
  return {
    span: query.span,
    from,
    to,
    total,
    counted: incidents.length,
    bySeverity,
    byStatus,
    measured: measured.length,
    sampled: measured.length < total,
    react: figures(react),
    resolve: figures(resolve),
    viaBot: [...bot].filter((id) => ids.has(id)).length,
    onlyInSiem,
    siemCalls,
  };
}
