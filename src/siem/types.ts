// The SIEM's vocabulary as the rest of the service sees it: plain, validated, UTC.
// The client (src/siem/client.ts) turns MP SIEM answers into these; nothing else parses SIEM JSON.

export const INCIDENT_STATUSES = ["New", "Approved", "InProgress", "Resolved", "Closed"] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const SEVERITIES = ["High", "Medium", "Low"] as const;
/** MP SIEM knows High/Medium/Low; anything else (or nothing) is kept as the raw string or "". */
export type Severity = (typeof SEVERITIES)[number] | (string & {});

/**
 * An incident as the list call returns it. `category`, `type` and `severity` are "" when the SIEM
 * sent nothing or JSON null (real Core does for some incidents).
 */
export interface IncidentSummary {
  id: string; // UUID, used in links, details, events, transitions
  key: string; // "INC-75"
  name: string;
  category: string;
  type: string;
  /** One of INCIDENT_STATUSES on a real SIEM; an unknown value is kept verbatim. */
  status: string;
  severity: Severity;
  created: Date; // UTC
  isConfirmed: boolean;
}

/** An incident as the details call returns it (a superset of the list item). */
export interface IncidentDetails extends IncidentSummary {
  description: string;
  detected: Date | null;
  modified: Date | null;
  /**
   * Names of the correlation rules that raised the incident: 26.x sends `correlationRuleNames`
   * (strings), 27.x `correlationRules` ({correlationName}); both are read into this one list.
   */
  correlationRules: string[];
  /** Who holds the incident (details `assigned`, {id, firstName, lastName}); null when nobody. Absent: not read. */
  assignee?: SiemAssignee | null;
  /** Names of the target assets, addresses, networks, groups and others (details `targets`), first few. */
  targets?: string[];
  /** The same for `attackers`. */
  attackers?: string[];
}

export interface SiemAssignee {
  id: string;
  /** "First Last" as the SIEM gives it; "" when it gives no names. */
  name: string;
}

/** An MP user as the users query lists it (mpsiem-api.md §7.1). */
export interface SiemUser {
  id: string;
  userName: string;
  status: string;
}

/** One row of an incident's status history (§6.2). */
export interface TransitionEntry {
  prevStatus: string;
  nextStatus: string;
  comment: string;
  at: Date | null;
  /** The MP user's UUID, if given. */
  changedBy: string | null;
}

export interface IncidentEvent {
  id: string;
  date: Date | null;
  description: string;
}

export interface IncidentEvents {
  /** The first events, as many as asked for. */
  events: IncidentEvent[];
  /** How many events the incident has in all (from /events/count, or the length of a full read). */
  total: number;
}

export type TransitionTarget = Exclude<IncidentStatus, "New">;

export type IncidentTimeFilter = "creation" | "lastModification";

export interface ListIncidentsQuery {
  /** Inclusive lower bound. */
  from: Date;
  /** Inclusive upper bound; open when absent. */
  to?: Date;
  timeType: IncidentTimeFilter;
  /** Page size for the list call (MP SIEM caps it at 1000). */
  pageSize?: number;
}

/** One page of the list call with a filter (the questions to the bot: /open, /stats). */
export interface IncidentQuery {
  /** A §3.3 filter expression, e.g. `status IN ("New", "Approved")`; "" for none. */
  where: string;
  /** Inclusive creation-time bounds; `to` open when absent. */
  from: Date;
  to?: Date;
  offset: number;
  /** 1..1000. */
  limit: number;
  /** By `created`; default newest first. */
  order?: "ascending" | "descending";
}

export interface IncidentQueryPage {
  incidents: IncidentSummary[];
  /** The SIEM's count of every match before paging; null when the answer lacks it. */
  totalItems: number | null;
}

export interface SystemInfo {
  productVersion: string;
}

/**
 * Why a SIEM call failed. `transient` kinds are retried by callers with backoff;
 * the others need a person (wrong password, wrong CA) or are a final answer (not_found, refused).
 */
export type SiemErrorKind =
  | "credentials" // invalid_username_or_password or a refused token: fix MPSIEM_USERNAME/PASSWORD/CLIENT_SECRET/TOKEN
  | "unauthorized" // 401 even after a fresh login
  | "tls" // certificate not trusted: MPSIEM_CA_FILE or MPSIEM_TLS_VERIFY=false
  | "network" // connection refused/reset, DNS
  | "timeout"
  | "server" // 5xx
  | "malformed" // a body that does not parse or lacks what the call needs
  | "not_found" // 404 for an incident id
  | "forbidden" // 403 on a Core call: the account lacks the rights (for this incident); a person must grant them
  | "refused" // 4xx on a transition (e.g. already in that status)
  | "http"; // any other unexpected status

export const TRANSIENT_SIEM_ERRORS: ReadonlySet<SiemErrorKind> = new Set([
  "network",
  "timeout",
  "server",
  "malformed",
  "unauthorized",
]);

export class SiemError extends Error {
  override readonly name = "SiemError";
  constructor(
    readonly kind: SiemErrorKind,
    /** Which call failed, e.g. "list incidents", "login", "transition". */
    readonly call: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${call}: ${message}`, options);
  }

  get transient(): boolean {
    return TRANSIENT_SIEM_ERRORS.has(this.kind);
  }
}

/** What the rest of the service needs from MP SIEM. Every method throws only SiemError. */
export interface SiemClient {
  /** Every incident in the window, all pages read, oldest `created` first. */
  listIncidents(query: ListIncidentsQuery): Promise<IncidentSummary[]>;
  getIncident(id: string): Promise<IncidentDetails>;
  getEvents(id: string, limit: number): Promise<IncidentEvents>;
  /** How many events the incident has (one cheap call, for polling open incidents). */
  countEvents(id: string): Promise<number>;
  /** Not retried blindly: on an unclear failure, re-read the incident to learn what happened. */
  transition(
    id: string,
    target: TransitionTarget,
    comment: { measures: string; message: string },
  ): Promise<void>;
  systemInfo(): Promise<SystemInfo>;
  /** The MP user with this login (case-insensitive), through the users query; null when there is none. */
  findUser(login: string): Promise<SiemUser | null>;
  /**
   * Assigns the incident to an MP user (UUID; null clears it): reads the details and sends them back whole
   * with `assigned` set (`PUT /api/incidents/{id}`, §6.3). "refused" when the SIEM says no (4xx).
   */
  assign(id: string, userId: string | null): Promise<void>;
  /** The incident's status history, oldest first (§6.2). */
  transitionHistory(id: string): Promise<TransitionEntry[]>;
  /**
   * The SIEM's clock (ms since the epoch) as far as this client knows it: the `Date` header of the
   * latest SIEM answer plus the local time passed since that answer arrived; null before any
   * answer. The header has whole seconds, so this may be up to a second behind.
   */
  siemNow(): number | null;
  close(): Promise<void>;
  /** The incident with this key (`INC-123`), however old, read in full; null when the SIEM has none. */
  findIncidentByKey(key: string): Promise<IncidentDetails | null>;
  /** One list call with a filter and paging: the page and the SIEM's total (`totalItems`). Retried like reads. */
  queryIncidents(query: IncidentQuery): Promise<IncidentQueryPage>;
}
