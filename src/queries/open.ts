// /open (design.md §6): the open incidents (New, Approved, InProgress) from the SIEM, newest first, a
// page at a time, with the total by status. Every figure comes from the list call's filter and its
// `totalItems` (mpsiem-api.md §3), so nothing is read in full.
//
// SIEM request budget of one page: OPEN_REQUEST_BUDGET = 4 list calls — one per open status for its
// total (limit 1, only `totalItems` is read), then the page itself. Read calls may be retried by the
// client on a transient failure; a retry is the same call again, not a new one.
import type { IncidentSummary, SiemClient } from "../siem/types.js";

export const OPEN_STATUSES = ["New", "Approved", "InProgress"] as const;
export type OpenStatus = (typeof OPEN_STATUSES)[number];
export const OPEN_SEVERITIES = ["High", "Medium", "Low"] as const;
export type OpenSeverity = (typeof OPEN_SEVERITIES)[number];

export const OPEN_PAGE_SIZE = 10;
/** List calls per /open page (one per open status, one for the page). */
export const OPEN_REQUEST_BUDGET = OPEN_STATUSES.length + 1;
/** Before any MP SIEM 10 incident: "open" has no time bound. */
export const ALL_TIME_FROM = new Date("2000-01-01T00:00:00.000Z");
/** A page number is at most this (a forged button cannot ask for page 10^9: the SIEM would walk to it). */
export const MAX_OPEN_PAGE = 999;

export interface OpenPage {
  severity: OpenSeverity | null;
  /** 0-based, clamped to the last page. */
  page: number;
  pages: number;
  total: number;
  byStatus: Record<OpenStatus, number>;
  incidents: IncidentSummary[];
}

/** `high`, `High`, `высокая`, `h`… → High; null for no argument; undefined for anything else. */
export function parseSeverityArg(arg: string): OpenSeverity | null | undefined {
  const a = arg.trim().toLowerCase();
  if (a === "") return null;
  if (["high", "h", "высокая", "высокий", "в"].includes(a)) return "High";
  if (["medium", "m", "средняя", "средний", "с"].includes(a)) return "Medium";
  if (["low", "l", "низкая", "низкий", "н"].includes(a)) return "Low";
  return undefined;
}

function whereOf(statuses: readonly OpenStatus[], severity: OpenSeverity | null): string {
  const status =
    statuses.length === 1
      ? `status = "${statuses[0]}"`
      : `status IN (${statuses.map((s) => `"${s}"`).join(", ")})`;
  return severity ? `${status} AND severity = "${severity}"` : status;
}

/** One page of open incidents and the totals, in OPEN_REQUEST_BUDGET list calls. */
export async function readOpenPage(
  siem: SiemClient,
  query: { severity: OpenSeverity | null; page: number },
): Promise<OpenPage> {
  const counts = await Promise.all(
    OPEN_STATUSES.map((status) =>
      siem.queryIncidents({
        where: whereOf([status], query.severity),
        from: ALL_TIME_FROM,
        offset: 0,
        limit: 1,
      }),
    ),
  );
  const byStatus = Object.fromEntries(
    OPEN_STATUSES.map((status, i) => [status, counts[i]!.totalItems ?? counts[i]!.incidents.length]),
  ) as Record<OpenStatus, number>;
  const total = OPEN_STATUSES.reduce((sum, s) => sum + byStatus[s], 0);
  const pages = Math.max(1, Math.ceil(total / OPEN_PAGE_SIZE));
  const page = Math.min(Math.max(0, Math.floor(query.page)), pages - 1, MAX_OPEN_PAGE);
  const list =
    total === 0
      ? { incidents: [] }
      : await siem.queryIncidents({
          where: whereOf(OPEN_STATUSES, query.severity),
          from: ALL_TIME_FROM,
          offset: page * OPEN_PAGE_SIZE,
          limit: OPEN_PAGE_SIZE,
          order: "descending",
        });
  return { severity: query.severity, page, pages, total, byStatus, incidents: list.incidents };
}
