// Everything the emulated MP SIEM knows: incidents (with their events and status history), issued
// tokens, injected faults and request counters. The HTTP layer (core-api.ts, auth-api.ts,
// control-api.ts) only translates requests into calls on this class; tests and the demo may call
// it directly (RunningEmulator.state) with the same powers as the control API.

import { randomBytes } from "node:crypto";
import { INCIDENT_STATUSES, type IncidentStatus } from "../siem/types.js";
import { EmulatorError } from "./errors.js";
import {
  compareInstants,
  formatInstant,
  type Instant,
  instantFromMs,
  nextTick,
  parseTimeValue,
  SUB_PER_MS,
  TimeParseError,
} from "./instant.js";
import type { ListQuery, OrderKey, TimeFilterField } from "./list-request.js";
import { mix32, Random } from "./random.js";
import {
  type GeneratedStory,
  generateAddedEvent,
  generateEvent,
  generateStory,
  generateTask,
  generateTasks,
  HOSTILE_NAME,
  hostileEventDescriptions,
  hostileText,
} from "./scenarios.js";
import { userIdFor } from "./user-id.js";
import { type EmulatorUser, UserDirectory, type UserInput } from "./users.js";
import type { WhereField, WhereFieldReader } from "./where.js";

// ---------------------------------------------------------------------------------------------
// Public shapes

/** What a caller may fix when adding an incident; everything else is generated from the seed. */
export interface IncidentInput {
  name?: string;
  description?: string;
  /**
   * High / Medium / Low on a real SIEM; any string is stored verbatim (to test odd values).
   * null = the JSON null some real incidents carry (also for category and type).
   */
  severity?: string | null;
  status?: IncidentStatus;
  category?: string | null;
  type?: string | null;
  /**
   * When the incident was created; may be in the past (a "late" incident) or in the future (a
   * collector with a wrong clock). Default: now.
   */
  created?: Date | string;
  /** `created` relative to the emulator's clock, e.g. 3 * 3600_000 (future) or -60_000. Not with `created`. */
  createdOffsetMs?: number;
  /** When the correlation fired. Default: a few seconds to minutes before `created`. */
  detected?: Date | string;
  isConfirmed?: boolean;
  /** How many generated events (0..n). Ignored when `events` is given. */
  eventsCount?: number;
  /** Exact events, newest first. */
  events?: Array<{ description: string; date?: Date | string }>;
}

/** A snapshot of an incident as the emulator holds it (JSON-ready; times as the SIEM prints them). */
/**
 * A snapshot of an incident as the emulator holds it (JSON-ready; times as the SIEM prints them).
 * This is the true, current state: under a read-model lag the SIEM API may still show an older one.
 */
export interface EmulatorIncident {
  id: string;
  key: string;
  name: string;
  description: string;
  category: string | null;
  type: string | null;
  severity: string | null;
  status: IncidentStatus;
  isConfirmed: boolean;
  created: string;
  detected: string;
  modified: string;
  /** The assignee's user id, or null. */
  assigned: string | null;
  eventsCount: number;
  tasksCount: number;
}

/** A task ("issue") of an incident, as `GET /api/incidents/{id}/issues` returns it (S2 field names). */
export interface EmulatorTask {
  id: string;
  type: string;
  name: string;
  description: string;
  /** New / Assigned / InProgress / Closed (S4); any string is kept. */
  status: string;
  assigned: { id: string } | null;
  /** Minutes (an assumption: the real unit is unknown), or null. */
  estimatedTime: number | null;
}

/** What a caller may fix when adding a task; the rest is generated. */
export interface TaskInput {
  name?: string;
  description?: string;
  type?: string;
  status?: string;
  /** User id of the assignee; null = unassigned. Default: unassigned. */
  assignedId?: string | null;
  estimatedTime?: number | null;
}

/** SIEM calls about one incident that a per-incident fault can break. */
export const INCIDENT_CALLS = [
  "details",
  "events",
  "eventsCount",
  "history",
  "transition",
  "update",
  "issues",
] as const;
export type IncidentCall = (typeof INCIDENT_CALLS)[number];

export interface IncidentFaultInput {
  /** Which calls fail; default all of INCIDENT_CALLS. "transitions" means history and transition. */
  calls?: readonly string[];
  /** 500 or 403; ignored with `malformed`. */
  status?: 500 | 403;
  /** 200 with a truncated JSON body instead of an error status. */
  malformed?: boolean;
  /** An HTML error page instead of a JSON one (with `status`). */
  html?: boolean;
  /** How many calls fail; default: until cleared. */
  count?: number;
}

export interface IncidentFaultView {
  incidentId: string;
  key: string;
  calls: IncidentCall[];
  /** 500, 403, or 200 for a malformed body. */
  status: number;
  malformed: boolean;
  html: boolean;
  /** Calls left to fail, or "until cleared". */
  remaining: number | "until cleared";
}

/** What a faulted call answers instead of being carried out. */
export interface IncidentFault {
  status: number;
  malformed: boolean;
  html: boolean;
}

export interface EmulatorEvent {
  id: string;
  date: string;
  description: string;
}

/** One status change. The API history shows all but `measures` and `via`. */
export interface TransitionRecord {
  prevStatus: IncidentStatus;
  nextStatus: IncidentStatus;
  comment: string | null;
  measures: string | null;
  timestamp: string;
  changedBy: { id: string };
  /** "api" = PUT /api/incidents/{id}/transitions; "ui" = setStatus (a person in the SIEM UI). */
  via: "api" | "ui";
}

/** One `PUT /api/incidents/{id}` as it came in, accepted (204) or refused (400), for tests to read. */
export interface UpdateRecord {
  incidentId: string;
  key: string | null;
  /** The body as sent (a JSON value). */
  body: unknown;
  /** The token's user. */
  subject: string;
  at: string;
  status: 204 | 400 | 404;
  error: string | null;
}

/**
 * The fields of the full editable incident (§6.3, §8.7, S11). MP rebuilds the incident from the body,
 * so a body without them is refused rather than read as "clear the rest" (S3: the format to send
 * differs from the one read; a partial body is not what any working client sends).
 */
export const UPDATE_REQUIRED_FIELDS = [
  "assigned",
  "attackers",
  "description",
  "detected",
  "groups",
  "influence",
  "name",
  "parameters",
  "severity",
  "source",
  "targets",
  "type",
] as const;

export interface FaultsView {
  /** 503 on every /api call: until this time (ISO), "until cleared", or null when off. */
  unavailableUntil: string | null;
  unavailableIncludesAuth: boolean;
  malformedListCalls: number;
  latencyMs: number;
  hangCalls: number;
  /** Changes become visible to the read calls this long after they happen (0 = at once). */
  readModelLagMs: number;
  /** Changes made but not yet visible to the read calls. */
  pendingReadModelChanges: number;
  incidentFaults: IncidentFaultView[];
}

export interface EmulatorStats {
  /** Requests by route, e.g. "POST /api/v2/incidents": 12 (both slash variants count as one). */
  requests: Record<string, number>;
  /** Responses by HTTP status code, e.g. "200": 10, "401": 1 (SIEM routes only). */
  responses: Record<string, number>;
  totalRequests: number;
  /** Calls to /__emulator/* (not in `requests`). */
  controlRequests: number;
  incidents: number;
  activeAccessTokens: number;
  /** When the counters were last reset (ISO). */
  since: string;
}

export interface EmulatorStateOptions {
  seed: number;
  now: () => Date;
  tokenTtlSec: number;
  personalTokens: readonly string[];
  strictTransitions: boolean;
  /** Read-model lag at start, ms (default 0). */
  readModelLagMs?: number;
  /** The product version profile; decides the details shape (default "26.1.7351"). */
  productVersion?: string;
}

// ---------------------------------------------------------------------------------------------
// Internal record

interface StoredEvent {
  id: string;
  date: Instant;
  description: string;
}

/**
 * What the read calls (list, details, events, history) show of the parts of an incident that
 * change. A real MP SIEM answers reads from a read model that catches up with writes a little
 * later; the emulator keeps the last visible version here and publishes newer ones when their
 * time comes (readModelLagMs).
 */
interface ReadView {
  /** Grows with every change; a view never replaces a newer one. */
  version: number;
  status: IncidentStatus;
  isConfirmed: boolean;
  modified: Instant;
  modifiedText: string;
  statusTimes: Partial<Record<IncidentStatus, Instant>>;
  historyLength: number;
  eventsCount: number;
  assignedId: string | null;
}

interface IncidentRecord {
  number: number;
  id: string;
  key: string;
  name: string;
  description: string;
  category: string | null;
  type: string | null;
  severity: string | null;
  created: Instant;
  createdText: string;
  detected: Instant;
  story: GeneratedStory;
  /** Generated events (when customEvents is null) or the given ones, oldest last. */
  baseEventsCount: number;
  customEvents: StoredEvent[] | null;
  /** Events added later, oldest first (so the newest is last). */
  addedEvents: StoredEvent[];
  assetId: string;
  groupId: string;
  tasks: EmulatorTask[];
  // The true current state (the write side):
  status: IncidentStatus;
  isConfirmed: boolean;
  modified: Instant;
  /** When the incident last entered each status (for filterTimeType approval/inProgress/…). */
  statusTimes: Partial<Record<IncidentStatus, Instant>>;
  history: TransitionRecord[];
  assignedId: string | null;
  version: number;
  /** What the read calls show (may lag behind the fields above). */
  view: ReadView;
}

interface PendingView {
  dueMs: number;
  record: IncidentRecord;
  view: ReadView;
}

interface StoredIncidentFault extends IncidentFault {
  incidentId: string;
  calls: ReadonlySet<IncidentCall>;
  remaining: number;
}

interface TokenRecord {
  expiresAtMs: number;
  subject: string;
  scope: string;
}

const STATUS_RANK = new Map<string, number>(INCIDENT_STATUSES.map((s, i) => [s, i]));
const SEVERITY_RANK = new Map<string, number>([
  ["Low", 0],
  ["Medium", 1],
  ["High", 2],
]);

/**
 * Allowed next statuses when strictTransitions is on. The real matrix is unknown (§6.1, §10 #8);
 * this is a plausible workflow: forward only, Resolved may be reopened, Closed is final.
 */
const STRICT_TRANSITIONS: Record<IncidentStatus, readonly IncidentStatus[]> = {
  New: ["Approved", "InProgress", "Resolved", "Closed"],
  Approved: ["InProgress", "Resolved", "Closed"],
  InProgress: ["Resolved", "Closed"],
  Resolved: ["InProgress", "Closed"],
  Closed: [],
};

const TIME_FIELD_STATUS: Partial<Record<TimeFilterField, IncidentStatus>> = {
  approval: "Approved",
  inProgress: "InProgress",
  resolving: "Resolved",
  closing: "Closed",
};

/** Refresh tokens outlive access tokens (IdentityServer's default absolute lifetime is 30 days). */
const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
const UI_OPERATOR = "siem-ui-operator";
/** What system_info reports unless a version profile is chosen (S1 README: 26.1.7351). */
export const DEFAULT_PRODUCT_VERSION = "26.1.7351";
/** Separate seeds for events added later and for tasks, so neither shifts anything a seed made before. */
const ADDED_EVENT_SALT = 0x0add_e0e7;
const TASK_SALT = 0x7a5c_0001;

export function isIncidentStatus(value: unknown): value is IncidentStatus {
  return typeof value === "string" && STATUS_RANK.has(value);
}

/** Canonical status for a case-insensitive name, or undefined. */
export function canonicalStatus(value: unknown): IncidentStatus | undefined {
  if (typeof value !== "string") return undefined;
  const lower = value.trim().toLowerCase();
  return INCIDENT_STATUSES.find((s) => s.toLowerCase() === lower);
}

/** A stable UUID for a user name, so history rows name the same user across runs. */
export { userIdFor };

function toInstant(value: Date | string, field: string): Instant {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new EmulatorError(400, `${field} is an invalid Date`);
    return instantFromMs(value.getTime());
  }
  try {
    const parsed = parseTimeValue(value, field);
    if (!parsed) throw new EmulatorError(400, `${field} must not be empty`);
    return parsed;
  } catch (error) {
    if (error instanceof TimeParseError) throw new EmulatorError(400, error.message);
    throw error;
  }
}

function byCreated(a: IncidentRecord, b: IncidentRecord): number {
  return compareInstants(a.created, b.created) || a.number - b.number;
}

/** Order of the list's `lastModification` window: by the *visible* modification time. */
function byModified(a: IncidentRecord, b: IncidentRecord): number {
  return compareInstants(a.view.modified, b.view.modified) || a.number - b.number;
}

/** First index whose `get(item)` is >= `bound` (or > when `strict`). `items` is sorted by `get`. */
function lowerBound(
  items: readonly IncidentRecord[],
  bound: Instant,
  get: (r: IncidentRecord) => Instant,
  strict = false,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = compareInstants(get(items[mid] as IncidentRecord), bound);
    if (cmp < 0 || (strict && cmp === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of `record` in `items` sorted by `compare`, or the place it would go. */
function findPosition(
  items: readonly IncidentRecord[],
  record: IncidentRecord,
  compare: (a: IncidentRecord, b: IncidentRecord) => number,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(items[mid] as IncidentRecord, record) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A field as the list call's `where` sees it (visible state; JSON null reads as ""). */
function readField(record: IncidentRecord, field: WhereField): string {
  switch (field) {
    case "isconfirmed":
      return String(record.view.isConfirmed);
    case "id":
      return record.id;
    case "key":
      return record.key;
    case "name":
      return record.name;
    case "status":
      return record.view.status;
    case "severity":
      return record.severity ?? "";
    case "category":
      return record.category ?? "";
    case "type":
      return record.type ?? "";
    case "description":
      return record.description;
  }
}

function compareByField(a: IncidentRecord, b: IncidentRecord, field: OrderKey["field"]): number {
  switch (field) {
    case "created":
      return compareInstants(a.created, b.created);
    case "detected":
      return compareInstants(a.detected, b.detected);
    case "modified":
      return compareInstants(a.view.modified, b.view.modified);
    case "status":
      return (STATUS_RANK.get(a.view.status) ?? -1) - (STATUS_RANK.get(b.view.status) ?? -1);
    case "severity":
      return (SEVERITY_RANK.get(a.severity ?? "") ?? -1) - (SEVERITY_RANK.get(b.severity ?? "") ?? -1);
    case "key":
      return a.number - b.number;
    case "isConfirmed":
      return Number(a.view.isConfirmed) - Number(b.view.isConfirmed);
    default: {
      // JSON null sorts before every string.
      const x = a[field] ?? "";
      const y = b[field] ?? "";
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------

export class EmulatorState {
  readonly seed: number;
  private readonly clock: () => Date;
  private readonly random: Random;
  private readonly tokenTtlSec: number;
  private readonly strictTransitions: boolean;

  private readonly byId = new Map<string, IncidentRecord>();
  private readonly byKey = new Map<string, IncidentRecord>();
  private readonly inKeyOrder: IncidentRecord[] = [];
  /** Sorted by (created, number): list calls binary-search their window here. */
  private readonly sortedByCreated: IncidentRecord[] = [];
  /** Sorted by (modified, number): lastModification windows, kept in step on every status change. */
  private readonly sortedByModified: IncidentRecord[] = [];
  private lastIssuedInstant: Instant = { ms: Number.NEGATIVE_INFINITY, sub: 0 };
  private instantCounter = 0;

  private readonly accessTokens = new Map<string, TokenRecord>();
  private readonly refreshTokens = new Map<string, TokenRecord>();
  private personalTokens: Set<string>;
  /** Cookie (UI) login, §2.3: the auth service's login sessions, one-time codes, Core's sessions. */
  private readonly loginSessions = new Map<string, TokenRecord>();
  private readonly authorizationCodes = new Map<string, TokenRecord>();
  private readonly uiSessions = new Map<string, TokenRecord>();

  private unavailableUntilMs: number | null = null;
  private unavailableIncludesAuth = false;
  private malformedListCalls = 0;
  private latencyMs = 0;
  private hangCalls = 0;
  private readLagMs = 0;
  /** Changes not yet visible to the read calls, by due time. */
  private pendingViews: PendingView[] = [];
  private incidentFaults: StoredIncidentFault[] = [];
  /** The product version system_info reports; its major number picks the details shape. */
  readonly productVersion: string;

  private requestCounts = new Map<string, number>();
  private responseCounts = new Map<string, number>();
  private controlRequestCount = 0;
  private statsSince: Date;

  /** MP users (the users query, assignee names). */
  readonly users = new UserDirectory();
  private readonly updateLog: UpdateRecord[] = [];

  private generatorTimer: NodeJS.Timeout | null = null;
  private generatedCount = 0;

  constructor(options: EmulatorStateOptions) {
    this.seed = options.seed;
    this.clock = options.now;
    this.random = new Random(options.seed);
    this.tokenTtlSec = options.tokenTtlSec;
    this.strictTransitions = options.strictTransitions;
    this.personalTokens = new Set(options.personalTokens);
    this.statsSince = this.clock();
    this.readLagMs = nonNegativeInteger(options.readModelLagMs ?? 0, "readModelLagMs");
    this.productVersion = options.productVersion ?? DEFAULT_PRODUCT_VERSION;
  }

  /** The major number of the product version (26 for "26.1.7351"). */
  get productMajor(): number {
    return Number.parseInt(this.productVersion, 10);
  }

  now(): Date {
    return this.clock();
  }

  // -------------------------------------------------------------------------------------------
  // Incidents

  get incidentCount(): number {
    return this.inKeyOrder.length;
  }

  addIncident(input: IncidentInput = {}): EmulatorIncident {
    return this.snapshot(this.insert(input));
  }

  /** `count` incidents at once (a flood). Without `created`, they get consecutive instants "now". */
  addBurst(count: number, input: IncidentInput = {}): EmulatorIncident[] {
    if (!Number.isInteger(count) || count < 0 || count > 100_000) {
      throw new EmulatorError(400, `burst count must be an integer 0..100000, got ${count}`);
    }
    const added: EmulatorIncident[] = [];
    for (let i = 0; i < count; i++) added.push(this.addIncident(input));
    return added;
  }

  /** An incident whose every text field is full of HTML/Markdown specials, emoji and RTL text. */
  addHostileIncident(input: IncidentInput = {}): EmulatorIncident {
    return this.addIncident({
      name: HOSTILE_NAME,
      description: hostileText(5000),
      category: '<i>Attack</i> & "quotes"',
      severity: "High",
      events: hostileEventDescriptions().map((description) => ({ description })),
      ...input,
    });
  }

  /** All incidents in creation order (INC-1, INC-2, …). */
  listAll(): EmulatorIncident[] {
    return this.inKeyOrder.map((r) => this.snapshot(r));
  }

  /** By UUID or by key ("INC-7"). */
  get(idOrKey: string): EmulatorIncident | undefined {
    const record = this.byId.get(idOrKey) ?? this.byKey.get(idOrKey.toUpperCase());
    return record ? this.snapshot(record) : undefined;
  }

  transitionsOf(idOrKey: string): TransitionRecord[] {
    return this.require(idOrKey).history.map((h) => ({ ...h, changedBy: { ...h.changedBy } }));
  }

  /** Changes the status as a person in the SIEM UI would (history row, `modified`, isConfirmed). */
  setStatus(idOrKey: string, status: IncidentStatus, comment?: string): EmulatorIncident {
    const target = canonicalStatus(status);
    if (!target) throw new EmulatorError(400, `status must be one of ${INCIDENT_STATUSES.join(", ")}`);
    const record = this.require(idOrKey);
    this.applyTransition(record, target, comment ?? null, null, userIdFor(UI_OPERATOR), "ui");
    return this.snapshot(record);
  }

  /**
   * A status change at a given past time, for seeded histories (a "realistic day"): as setStatus, but the
   * history row, the status time and `modified` carry `at`. It must not be before the incident's creation
   * or its latest history row, so the history stays in order. `via: "api"` stands for a change made by a
   * client of the API (such as the bot), `changedBy` for the MP user (default: the UI operator).
   */
  recordTransition(
    idOrKey: string,
    status: IncidentStatus,
    options: { at: Date | string; comment?: string; via?: "api" | "ui"; changedBy?: string },
  ): EmulatorIncident {
    const target = canonicalStatus(status);
    if (!target) throw new EmulatorError(400, `status must be one of ${INCIDENT_STATUSES.join(", ")}`);
    const record = this.require(idOrKey);
    const at = toInstant(options.at, "at");
    const last = record.history.at(-1);
    if (compareInstants(at, record.created) < 0 || (last && formatInstant(at) < last.timestamp)) {
      throw new EmulatorError(400, `at must not be before ${record.key}'s creation or its latest transition`);
    }
    this.applyTransition(
      record,
      target,
      options.comment ?? null,
      null,
      options.changedBy ?? userIdFor(UI_OPERATOR),
      options.via ?? "ui",
      at,
    );
    return this.snapshot(record);
  }

  /** Assigns the incident (a user id) or clears the assignee (null), as in the SIEM UI. Moves `modified`. */
  assign(idOrKey: string, userId: string | null): EmulatorIncident {
    const record = this.require(idOrKey);
    this.applyAssignment(record, userId);
    return this.snapshot(record);
  }

  /**
   * Correlation adds events to an existing incident: `count` generated ones, or exactly `events`
   * (newest first), dated now by the emulator's clock unless given. With `touchModified` the
   * incident's `modified` moves (a `lastModification` list finds it again); without, it does not,
   * as a real MP SIEM may add events without a modification the list shows.
   */
  addEvents(
    idOrKey: string,
    options: {
      count?: number;
      events?: Array<{ description: string; date?: Date | string }>;
      touchModified: boolean;
    },
  ): EmulatorIncident {
    const record = this.require(idOrKey);
    const nowMs = this.clock().getTime();
    let added: StoredEvent[];
    if (options.events) {
      // Given newest first, like the API lists them; stored oldest first.
      added = [...options.events].reverse().map((event, i) => {
        const serial = record.addedEvents.length + i;
        return {
          id: new Random(mix32(record.story.eventSeed ^ ADDED_EVENT_SALT, serial)).uuid(),
          date: event.date !== undefined ? toInstant(event.date, "event date") : instantFromMs(nowMs),
          description: String(event.description),
        };
      });
    } else {
      const count = options.count ?? 1;
      if (!Number.isInteger(count) || count < 1 || count > 100_000) {
        throw new EmulatorError(400, `count must be an integer 1..100000, got ${count}`);
      }
      added = [];
      for (let i = 0; i < count; i++) {
        const serial = record.addedEvents.length + i;
        const event = generateAddedEvent(record.story, serial, nowMs);
        added.push({ id: event.id, date: instantFromMs(event.dateMs), description: event.description });
      }
    }
    if (added.length === 0) throw new EmulatorError(400, "events must not be empty");
    record.addedEvents.push(...added);
    if (options.touchModified) record.modified = this.nextNowInstant();
    this.publish(record);
    return this.snapshot(record);
  }

  /** Adds a task ("issue") to an incident. */
  addTask(idOrKey: string, input: TaskInput = {}): EmulatorTask {
    const record = this.require(idOrKey);
    const r = new Random(mix32(record.story.eventSeed ^ TASK_SALT, 1000 + record.tasks.length));
    const generated = generateTask(record.story, r);
    const estimatedTime = input.estimatedTime === undefined ? generated.estimatedTime : input.estimatedTime;
    if (estimatedTime !== null && (!Number.isInteger(estimatedTime) || estimatedTime < 0)) {
      throw new EmulatorError(
        400,
        `estimatedTime must be a non-negative integer or null, got ${estimatedTime}`,
      );
    }
    const task: EmulatorTask = {
      id: generated.id,
      type: input.type ?? generated.type,
      name: input.name ?? generated.name,
      description: input.description ?? generated.description,
      status: input.status ?? "New",
      assigned: input.assignedId ? { id: input.assignedId } : null,
      estimatedTime,
    };
    record.tasks.push(task);
    return { ...task, assigned: task.assigned ? { ...task.assigned } : null };
  }

  /** Events newest first; `limit` undefined = all. The true list, not the lagging read model. */
  eventsOf(idOrKey: string, offset = 0, limit?: number): EmulatorEvent[] {
    const record = this.require(idOrKey);
    return this.eventViews(record, totalEvents(record), offset, limit);
  }

  private require(idOrKey: string): IncidentRecord {
    const record = this.byId.get(idOrKey) ?? this.byKey.get(idOrKey.toUpperCase());
    if (!record) throw new EmulatorError(404, `Incident '${idOrKey}' was not found`);
    return record;
  }

  private insert(input: IncidentInput): IncidentRecord {
    // Draw every random value before looking at the overrides, so the stream stays aligned.
    const story = generateStory(this.random);
    const id = this.random.uuid();
    const assetId = this.random.uuid();
    const groupId = this.random.uuid();
    const number = this.inKeyOrder.length + 1;

    if (input.created !== undefined && input.createdOffsetMs !== undefined) {
      throw new EmulatorError(400, "give created or createdOffsetMs, not both");
    }
    if (
      input.createdOffsetMs !== undefined &&
      (!Number.isFinite(input.createdOffsetMs) || Math.abs(input.createdOffsetMs) > 100 * 365 * 86_400_000)
    ) {
      throw new EmulatorError(
        400,
        `createdOffsetMs must be a number of ms within 100 years, got ${input.createdOffsetMs}`,
      );
    }
    // Only "now" feeds the counter that keeps clock-made `created` values rising: an explicit time
    // (a late incident, or one from a collector whose clock runs ahead) must not drag later
    // incidents into the past or the future.
    const fromClock = input.created === undefined && input.createdOffsetMs === undefined;
    const created = this.uniqueCreated(
      input.created !== undefined
        ? toInstant(input.created, "created")
        : input.createdOffsetMs !== undefined
          ? instantFromMs(this.clock().getTime() + Math.round(input.createdOffsetMs))
          : this.nextNowInstant(),
    );
    if (fromClock && compareInstants(created, this.lastIssuedInstant) > 0) this.lastIssuedInstant = created;
    const detected =
      input.detected !== undefined
        ? toInstant(input.detected, "detected")
        : instantFromMs(Math.floor((created.ms - story.detectedLeadMs) / 1000) * 1000);

    const status = input.status === undefined ? "New" : canonicalStatus(input.status);
    if (!status) throw new EmulatorError(400, `status must be one of ${INCIDENT_STATUSES.join(", ")}`);

    let customEvents: StoredEvent[] | null = null;
    if (input.events) {
      customEvents = input.events.map((event, index) => {
        const eventRandom = new Random(mix32(story.eventSeed, index));
        return {
          id: eventRandom.uuid(),
          date:
            event.date !== undefined
              ? toInstant(event.date, "event date")
              : instantFromMs(created.ms - index * 1000),
          description: String(event.description),
        };
      });
    }
    const eventsCount = customEvents?.length ?? input.eventsCount ?? story.eventsCount;
    if (!Number.isInteger(eventsCount) || eventsCount < 0 || eventsCount > 1_000_000) {
      throw new EmulatorError(400, `eventsCount must be an integer 0..1000000, got ${eventsCount}`);
    }

    const isConfirmed = input.isConfirmed ?? status === "Approved";
    const statusTimes = { [status]: created };
    const record: IncidentRecord = {
      number,
      id,
      key: `INC-${number}`,
      name: input.name ?? story.name,
      description: input.description ?? story.description,
      category: input.category === undefined ? story.category : input.category,
      type: input.type === undefined ? story.type : input.type,
      severity: input.severity === undefined ? story.severity : input.severity,
      created,
      createdText: formatInstant(created),
      detected,
      story,
      baseEventsCount: eventsCount,
      customEvents,
      addedEvents: [],
      assetId,
      groupId,
      // From a separate stream, so tasks never shift the incidents a seed makes.
      tasks: generateTasks(story, new Random(mix32(story.eventSeed ^ TASK_SALT, 0))),
      status,
      isConfirmed,
      modified: created,
      statusTimes,
      history: [],
      assignedId: null,
      version: 0,
      view: {
        version: 0,
        status,
        isConfirmed,
        modified: created,
        modifiedText: formatInstant(created),
        statusTimes: { ...statusTimes },
        historyLength: 0,
        eventsCount,
        assignedId: null,
      },
    };

    this.byId.set(record.id, record);
    this.byKey.set(record.key, record);
    this.inKeyOrder.push(record);
    this.sortedByCreated.splice(findPosition(this.sortedByCreated, record, byCreated), 0, record);
    this.sortedByModified.splice(findPosition(this.sortedByModified, record, byModified), 0, record);
    return record;
  }

  /**
   * "Now" with 100-ns resolution, strictly increasing: two incidents created in the same
   * millisecond (or under a frozen test clock) still get distinct, ordered `created` values.
   */
  private nextNowInstant(): Instant {
    this.instantCounter++;
    // Realistic-looking sub-millisecond digits, deterministic for the seed.
    const candidate = instantFromMs(
      this.clock().getTime(),
      mix32(this.seed, this.instantCounter) % SUB_PER_MS,
    );
    const next =
      compareInstants(candidate, this.lastIssuedInstant) > 0 ? candidate : nextTick(this.lastIssuedInstant);
    this.lastIssuedInstant = next;
    return next;
  }

  /** Moves `candidate` forward by 100 ns steps until no incident has exactly that `created`. */
  private uniqueCreated(candidate: Instant): Instant {
    let instant = candidate;
    for (;;) {
      const at = lowerBound(this.sortedByCreated, instant, (r) => r.created);
      const existing = this.sortedByCreated[at];
      if (!existing || compareInstants(existing.created, instant) !== 0) break;
      instant = nextTick(instant);
    }
    return instant;
  }

  private applyTransition(
    record: IncidentRecord,
    target: IncidentStatus,
    message: string | null,
    measures: string | null,
    changedBy: string,
    via: "api" | "ui",
    explicitAt?: Instant,
  ): void {
    if (record.status === target) {
      throw new EmulatorError(400, `Incident ${record.key} is already in status ${target}`);
    }
    if (this.strictTransitions && !STRICT_TRANSITIONS[record.status].includes(target)) {
      throw new EmulatorError(
        400,
        `Transition from ${record.status} to ${target} is not allowed for ${record.key}`,
      );
    }
    const at = explicitAt ?? this.nextNowInstant();
    record.history.push({
      prevStatus: record.status,
      nextStatus: target,
      comment: message,
      measures,
      timestamp: formatInstant(at),
      changedBy: { id: changedBy },
      via,
    });
    record.status = target;
    record.statusTimes[target] = at;
    if (target === "Approved") record.isConfirmed = true; // assumption, §8.11
    record.modified = at;
    this.publish(record);
  }

  private applyAssignment(record: IncidentRecord, userId: string | null): void {
    if (userId !== null && (typeof userId !== "string" || userId.trim() === "")) {
      throw new EmulatorError(400, "assigned must be a user id (a non-empty string) or null");
    }
    record.assignedId = userId === null ? null : userId.trim();
    record.modified = this.nextNowInstant();
    this.publish(record);
  }

  // -------------------------------------------------------------------------------------------
  // Read model: what the read calls see, `readLagMs` behind the writes

  /** A new version of the record's read view, visible at once or after the lag. */
  private publish(record: IncidentRecord): void {
    record.version++;
    const view: ReadView = {
      version: record.version,
      status: record.status,
      isConfirmed: record.isConfirmed,
      modified: record.modified,
      modifiedText: formatInstant(record.modified),
      statusTimes: { ...record.statusTimes },
      historyLength: record.history.length,
      eventsCount: totalEvents(record),
      assignedId: record.assignedId,
    };
    if (this.readLagMs <= 0) {
      this.showView(record, view);
      return;
    }
    const pending: PendingView = { dueMs: this.clock().getTime() + this.readLagMs, record, view };
    // Keep the queue in due order (a later, shorter lag may overtake an earlier change).
    let at = this.pendingViews.length;
    while (at > 0 && (this.pendingViews[at - 1] as PendingView).dueMs > pending.dueMs) at--;
    this.pendingViews.splice(at, 0, pending);
  }

  private showView(record: IncidentRecord, view: ReadView): void {
    if (view.version <= record.view.version) return;
    const moved = compareInstants(view.modified, record.view.modified) !== 0;
    if (moved) this.sortedByModified.splice(findPosition(this.sortedByModified, record, byModified), 1);
    record.view = view;
    if (moved)
      this.sortedByModified.splice(findPosition(this.sortedByModified, record, byModified), 0, record);
  }

  /** Publishes every change whose time has come (by the emulator's clock); each read call runs it first. */
  private catchUp(): void {
    if (this.pendingViews.length === 0) return;
    const nowMs = this.clock().getTime();
    let due = 0;
    while (due < this.pendingViews.length && (this.pendingViews[due] as PendingView).dueMs <= nowMs) {
      const { record, view } = this.pendingViews[due] as PendingView;
      this.showView(record, view);
      due++;
    }
    if (due > 0) this.pendingViews.splice(0, due);
  }

  /** Every pending change becomes visible now. */
  private flushReadModel(): void {
    for (const { record, view } of this.pendingViews) this.showView(record, view);
    this.pendingViews = [];
  }

  /**
   * From now on, read calls show a change `ms` after it happened (by the emulator's clock); 0 =
   * at once. Changes already made keep the time they were given.
   */
  setReadModelLag(ms: number): void {
    this.readLagMs = nonNegativeInteger(ms, "ms");
  }

  private snapshot(r: IncidentRecord): EmulatorIncident {
    return {
      id: r.id,
      key: r.key,
      name: r.name,
      description: r.description,
      category: r.category,
      type: r.type,
      severity: r.severity,
      status: r.status,
      isConfirmed: r.isConfirmed,
      created: r.createdText,
      detected: formatInstant(r.detected),
      modified: formatInstant(r.modified),
      assigned: r.assignedId,
      eventsCount: totalEvents(r),
      tasksCount: r.tasks.length,
    };
  }

  /**
   * The newest `visible` events, newest first, paged by offset/limit. Events added later come
   * first (newest), then the incident's own events; the newest (total - visible) are not shown yet.
   */
  private eventViews(
    record: IncidentRecord,
    visible: number,
    offset: number,
    limit?: number,
  ): EmulatorEvent[] {
    const total = totalEvents(record);
    const hidden = Math.max(0, total - visible);
    const start = Math.max(0, offset);
    const end = limit === undefined ? visible : Math.min(visible, start + Math.max(0, limit));
    const added = record.addedEvents;
    const events: EmulatorEvent[] = [];
    for (let n = start; n < end; n++) {
      const i = hidden + n;
      if (i < added.length) {
        const e = added[added.length - 1 - i] as StoredEvent;
        events.push({ id: e.id, date: formatInstant(e.date), description: e.description });
        continue;
      }
      const b = i - added.length;
      if (record.customEvents) {
        const e = record.customEvents[b] as StoredEvent;
        events.push({ id: e.id, date: formatInstant(e.date), description: e.description });
      } else {
        const e = generateEvent(
          record.story,
          b,
          record.baseEventsCount,
          record.created.ms,
          record.detected.ms,
        );
        events.push({ id: e.id, date: formatInstant(instantFromMs(e.dateMs)), description: e.description });
      }
    }
    return events;
  }

  // -------------------------------------------------------------------------------------------
  // What the SIEM API routes call (JSON-ready views, shapes per mpsiem-api.md §8)

  /** `POST /api/v2/incidents/`: the page and the count before paging. */
  queryIncidents(query: ListQuery): { incidents: Record<string, unknown>[]; totalItems: number } {
    this.catchUp();
    const { candidates, presorted } = this.window(query);
    const predicate = query.predicate;
    const primary = query.order[0];

    // Fast path: the window is already in `created` order and created values are unique, so the
    // rest of orderby never matters; page straight from the sorted array.
    if (presorted && primary?.field === "created") {
      const descending = primary.descending;
      const page: IncidentRecord[] = [];
      if (!predicate) {
        const total = candidates.length;
        for (let n = query.offset; n < total && page.length < query.limit; n++) {
          page.push(candidates[descending ? total - 1 - n : n] as IncidentRecord);
        }
        return { incidents: page.map((r) => this.listItem(r)), totalItems: total };
      }
      let matched = 0;
      const total = candidates.length;
      for (let n = 0; n < total; n++) {
        const record = candidates[descending ? total - 1 - n : n] as IncidentRecord;
        if (!predicate(this.reader(record))) continue;
        if (matched >= query.offset && page.length < query.limit) page.push(record);
        matched++;
      }
      return { incidents: page.map((r) => this.listItem(r)), totalItems: matched };
    }

    const matching = predicate ? candidates.filter((r) => predicate(this.reader(r))) : [...candidates];
    const order = query.order;
    matching.sort((a, b) => {
      for (const key of order) {
        const cmp = compareByField(a, b, key.field);
        if (cmp !== 0) return key.descending ? -cmp : cmp;
      }
      return b.number - a.number;
    });
    return {
      incidents: matching.slice(query.offset, query.offset + query.limit).map((r) => this.listItem(r)),
      totalItems: matching.length,
    };
  }

  /** Incidents whose `timeField` is in [from, to]; `presorted` = in ascending `created` order. */
  private window(query: ListQuery): { candidates: readonly IncidentRecord[]; presorted: boolean } {
    const { from, to } = query;
    if (from && to && compareInstants(from, to) > 0) return { candidates: [], presorted: true };
    if (query.timeField === "created" || query.timeField === "modified") {
      const sorted = query.timeField === "created" ? this.sortedByCreated : this.sortedByModified;
      const get =
        query.timeField === "created"
          ? (r: IncidentRecord) => r.created
          : (r: IncidentRecord) => r.view.modified;
      const lo = from ? lowerBound(sorted, from, get) : 0;
      const hi = to ? lowerBound(sorted, to, get, true) : sorted.length;
      const slice = lo === 0 && hi === sorted.length ? sorted : sorted.slice(lo, hi);
      return { candidates: slice, presorted: query.timeField === "created" };
    }
    const status = TIME_FIELD_STATUS[query.timeField];
    const get = (r: IncidentRecord): Instant | undefined =>
      status ? r.view.statusTimes[status] : r.detected;
    const candidates = this.sortedByCreated.filter((r) => {
      const t = get(r);
      return (
        t !== undefined && (!from || compareInstants(t, from) >= 0) && (!to || compareInstants(t, to) <= 0)
      );
    });
    return { candidates, presorted: true };
  }

  private reader(record: IncidentRecord): WhereFieldReader {
    return (field) => readField(record, field);
  }

  private listItem(r: IncidentRecord): Record<string, unknown> {
    return {
      id: r.id,
      key: r.key,
      name: r.name,
      category: r.category,
      type: r.type,
      status: r.view.status,
      severity: r.severity,
      created: r.createdText,
      assigned: assignedView(r.view.assignedId, this.users),
      isConfirmed: r.view.isConfirmed,
    };
  }

  /** `GET /api/incidentsReadModel/incidents/{id}` (§8.3); the rule names' shape follows the version (§4). */
  incidentDetails(id: string): Record<string, unknown> {
    this.catchUp();
    const r = this.requireById(id);
    const { host, attackerIp } = r.story.params;
    const v = r.view;
    // 27.x: objects with correlationName (S4, measured on R27.6); older: plain names (S2, S17).
    const rules =
      this.productMajor >= 27
        ? { correlationRules: [{ correlationName: r.story.name }] }
        : { correlationRuleNames: [r.story.name] };
    return {
      id: r.id,
      key: r.key,
      name: r.name,
      description: r.description,
      isConfirmed: v.isConfirmed,
      status: v.status,
      category: r.category,
      type: r.type,
      severity: r.severity,
      source: "Correlation",
      created: r.createdText,
      detected: formatInstant(r.detected),
      modified: v.modifiedText,
      assigned: assignedView(v.assignedId, this.users),
      reporter: null,
      influence: "",
      parameters: [],
      groups: [
        { type: "Group", groupType: "Static", id: r.groupId, name: "Emulated assets", accessibility: "Full" },
      ],
      targets: {
        groups: [],
        assets: [{ type: "Asset", groupType: null, id: r.assetId, name: host, accessibility: "Full" }],
        networks: [],
        addresses: [],
        others: [],
      },
      attackers: {
        groups: [],
        assets: [],
        networks: [],
        addresses: [],
        others: [{ type: null, groupType: null, id: null, name: attackerIp, accessibility: null }],
      },
      ...rules,
    };
  }

  incidentEvents(id: string, offset: number, limit?: number): EmulatorEvent[] {
    this.catchUp();
    const record = this.requireById(id);
    return this.eventViews(record, record.view.eventsCount, offset, limit);
  }

  incidentEventsCount(id: string): number {
    this.catchUp();
    return this.requireById(id).view.eventsCount;
  }

  /**
   * `PUT /api/incidents/{id}/transitions` on behalf of `subject` (the token's user). Checked
   * against the true current status, whatever the lagging read calls still show.
   */
  transitionFromApi(
    id: string,
    target: IncidentStatus,
    measures: string | null,
    message: string | null,
    subject: string,
  ) {
    this.applyTransition(this.requireById(id), target, message, measures, userIdFor(subject), "api");
  }

  /**
   * `PUT /api/incidents/{id}` (§6.3). Only `assigned` (a user id string, or null to unassign) is
   * applied; the other fields of the full body are accepted and ignored, `status` included (§10 #17).
   */
  updateFromApi(id: string, body: unknown, subject = "api"): void {
    const record = this.byId.get(id);
    const entry: UpdateRecord = {
      incidentId: id,
      key: record?.key ?? null,
      body: structuredClone(body),
      subject,
      at: formatInstant(instantFromMs(this.clock().getTime())),
      status: 204,
      error: null,
    };
    this.updateLog.push(entry);
    if (this.updateLog.length > MAX_UPDATE_LOG) this.updateLog.shift();
    try {
      if (!record) throw new EmulatorError(404, `Incident '${id}' was not found`);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new EmulatorError(400, 'The body must be a JSON object like {"assigned":"<user id>", …}');
      }
      const fields = body as Record<string, unknown>;
      const missing = UPDATE_REQUIRED_FIELDS.filter((f) => !(f in fields));
      if (missing.length > 0) {
        throw new EmulatorError(
          400,
          `The update must carry the full editable incident (as the details call returns it); missing: ${missing.join(", ")}`,
        );
      }
      const assigned = fields.assigned;
      if (assigned !== null && typeof assigned !== "string") {
        throw new EmulatorError(400, "assigned must be a user id string or null");
      }
      const next = assigned === null || assigned.trim() === "" ? null : assigned.trim();
      if (next === record.assignedId) return;
      this.applyAssignment(record, next);
    } catch (error) {
      if (error instanceof EmulatorError) {
        entry.status = error.status === 404 ? 404 : 400;
        entry.error = error.message;
      }
      throw error;
    }
  }

  /** Every `PUT /api/incidents/{id}` so far (the latest MAX_UPDATE_LOG), oldest first; optionally one incident's. */
  updatesOf(idOrKey?: string): UpdateRecord[] {
    const id = idOrKey === undefined ? undefined : this.require(idOrKey).id;
    return this.updateLog
      .filter((u) => id === undefined || u.incidentId === id)
      .map((u) => ({ ...u, body: structuredClone(u.body) }));
  }

  addUser(input: UserInput): EmulatorUser {
    return this.users.add(input);
  }

  /** `GET /api/incidentsReadModel/incidents/{id}/transitions` (§8.6). */
  incidentHistory(id: string): Record<string, unknown>[] {
    this.catchUp();
    const record = this.requireById(id);
    return record.history.slice(0, record.view.historyLength).map((h) => ({
      prevStatus: h.prevStatus,
      nextStatus: h.nextStatus,
      comment: h.comment,
      timestamp: h.timestamp,
      changedBy: { id: h.changedBy.id },
    }));
  }

  /** `GET /api/incidents/{id}/issues` (S2): the incident's tasks. */
  incidentIssues(id: string): EmulatorTask[] {
    return this.requireById(id).tasks.map((t) => ({ ...t, assigned: t.assigned ? { ...t.assigned } : null }));
  }

  /** `GET /api/incidents/{id}/issues/count` (S4). */
  incidentIssuesCount(id: string): number {
    return this.requireById(id).tasks.length;
  }

  /** The API addresses incidents by UUID only (a key is not an id, §4). */
  private requireById(id: string): IncidentRecord {
    const record = this.byId.get(id) ?? this.byId.get(id.toLowerCase());
    if (!record) throw new EmulatorError(404, `Incident with id '${id}' was not found`);
    return record;
  }

  // -------------------------------------------------------------------------------------------
  // Tokens

  issueTokens(
    subject: string,
    scope: string,
    withRefresh: boolean,
  ): { accessToken: string; refreshToken?: string } {
    const nowMs = this.clock().getTime();
    this.pruneTokens(nowMs);
    const accessToken = randomBytes(32).toString("base64url");
    this.accessTokens.set(accessToken, { expiresAtMs: nowMs + this.tokenTtlSec * 1000, subject, scope });
    if (!withRefresh) return { accessToken };
    const refreshToken = randomBytes(32).toString("hex");
    this.refreshTokens.set(refreshToken, { expiresAtMs: nowMs + REFRESH_TOKEN_TTL_MS, subject, scope });
    return { accessToken, refreshToken };
  }

  get tokenTtlSeconds(): number {
    return this.tokenTtlSec;
  }

  /** The subject a Bearer value belongs to, or null when it is unknown or expired. */
  authenticateBearer(token: string): string | null {
    if (this.personalTokens.has(token)) return `pat:${token.slice(0, 8)}`;
    const record = this.accessTokens.get(token);
    if (!record) return null;
    if (this.clock().getTime() >= record.expiresAtMs) {
      this.accessTokens.delete(token);
      return null;
    }
    return record.subject;
  }

  /** One-time use, like IdentityServer's default: the old refresh token dies when redeemed. */
  redeemRefreshToken(token: string): { subject: string; scope: string } | null {
    const record = this.refreshTokens.get(token);
    if (!record) return null;
    this.refreshTokens.delete(token);
    if (this.clock().getTime() >= record.expiresAtMs) return null;
    return { subject: record.subject, scope: record.scope };
  }

  /** Every issued access token (and Core's UI session cookie) stops working. Refresh tokens still work. */
  expireAllTokens(): number {
    const count = this.accessTokens.size;
    this.accessTokens.clear();
    this.uiSessions.clear();
    return count;
  }

  /** Access and refresh tokens and every UI login stop working; a client must log in with its password again. */
  revokeAllTokens(): void {
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.loginSessions.clear();
    this.authorizationCodes.clear();
    this.uiSessions.clear();
  }

  /** @internal UI login, step 1 (`POST :3334/ui/login`): the auth service's session cookie value. */
  startLoginSession(subject: string): string {
    return this.remember(this.loginSessions, subject, this.tokenTtlSec * 1000);
  }

  /** @internal The subject of a live auth-service login session, or null. */
  loginSessionSubject(id: string): string | null {
    return this.lookUp(this.loginSessions, id, false);
  }

  /** @internal `/connect/authorize` with a login session: a one-time code for Core's `/signin-oidc`. */
  issueAuthorizationCode(subject: string): string {
    return this.remember(this.authorizationCodes, subject, 5 * 60_000);
  }

  /** @internal Core's `/signin-oidc`: redeems a code (once) and starts a Core session; null if the code is bad. */
  redeemAuthorizationCode(code: string): string | null {
    const subject = this.lookUp(this.authorizationCodes, code, true);
    return subject === null ? null : this.remember(this.uiSessions, subject, this.tokenTtlSec * 1000);
  }

  /** The subject of Core's UI session cookie, or null when it is unknown or expired. */
  authenticateUiSession(id: string): string | null {
    return this.lookUp(this.uiSessions, id, false);
  }

  private remember(map: Map<string, TokenRecord>, subject: string, ttlMs: number): string {
    const nowMs = this.clock().getTime();
    if (map.size >= 1000) for (const [key, record] of map) if (record.expiresAtMs <= nowMs) map.delete(key);
    const value = randomBytes(24).toString("base64url");
    map.set(value, { expiresAtMs: nowMs + ttlMs, subject, scope: "" });
    return value;
  }

  private lookUp(map: Map<string, TokenRecord>, key: string, once: boolean): string | null {
    const record = map.get(key);
    if (!record) return null;
    if (once || this.clock().getTime() >= record.expiresAtMs) map.delete(key);
    return this.clock().getTime() < record.expiresAtMs ? record.subject : null;
  }

  /** Replaces the accepted personal access tokens (an empty list revokes them all). */
  setPersonalTokens(tokens: readonly string[]): void {
    this.personalTokens = new Set(tokens);
  }

  private pruneTokens(nowMs: number): void {
    // Bounded memory under a client that logs in on every poll (a soak test).
    if (this.accessTokens.size < 1000 && this.refreshTokens.size < 1000) return;
    for (const [token, record] of this.accessTokens)
      if (record.expiresAtMs <= nowMs) this.accessTokens.delete(token);
    for (const [token, record] of this.refreshTokens)
      if (record.expiresAtMs <= nowMs) this.refreshTokens.delete(token);
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /** Every /api call answers 503 for `seconds` (by the emulator's clock), or until cleared. */
  failWith503(seconds?: number, options: { includeAuth?: boolean } = {}): void {
    if (seconds !== undefined && (!Number.isFinite(seconds) || seconds <= 0)) {
      throw new EmulatorError(400, `seconds must be a positive number, got ${seconds}`);
    }
    this.unavailableUntilMs =
      seconds === undefined ? Number.POSITIVE_INFINITY : this.clock().getTime() + Math.round(seconds * 1000);
    this.unavailableIncludesAuth = options.includeAuth ?? false;
  }

  /** The next `count` list calls answer 200 with a body that is not valid JSON. */
  malformedJson(count: number): void {
    this.malformedListCalls = nonNegativeInteger(count, "count");
  }

  /** Every SIEM call (API and token endpoint) waits `ms` before it is handled. */
  setLatency(ms: number): void {
    this.latencyMs = nonNegativeInteger(ms, "ms");
  }

  /** The next `count` SIEM calls are accepted and never answered (to test client timeouts). */
  hang(count: number): void {
    this.hangCalls = nonNegativeInteger(count, "count");
  }

  /**
   * Calls about one incident (by id or key) fail: 500 or 403 with a JSON (or HTML) body, or 200
   * with a truncated JSON body, `count` times or until cleared. Other incidents keep working.
   * A failed call is not carried out (a faulted transition changes nothing).
   */
  failIncident(idOrKey: string, input: IncidentFaultInput = {}): IncidentFaultView {
    const record = this.require(idOrKey);
    const calls = new Set<IncidentCall>();
    for (const name of input.calls ?? INCIDENT_CALLS) {
      if (name === "transitions") {
        calls.add("history");
        calls.add("transition");
      } else if ((INCIDENT_CALLS as readonly string[]).includes(name)) {
        calls.add(name as IncidentCall);
      } else {
        throw new EmulatorError(
          400,
          `calls: '${name}' is unknown; use ${INCIDENT_CALLS.join(", ")} or transitions`,
        );
      }
    }
    if (calls.size === 0) throw new EmulatorError(400, "calls must name at least one call");
    const malformed = input.malformed ?? false;
    if (typeof malformed !== "boolean") throw new EmulatorError(400, "malformed must be a boolean");
    const status = malformed ? 200 : (input.status ?? 500);
    if (status !== 200 && status !== 500 && status !== 403) {
      throw new EmulatorError(400, `status must be 500 or 403, got ${status}`);
    }
    const count = input.count === undefined ? Number.POSITIVE_INFINITY : input.count;
    if (count !== Number.POSITIVE_INFINITY && (!Number.isInteger(count) || count < 1)) {
      throw new EmulatorError(400, `count must be a positive integer, got ${count}`);
    }
    const fault: StoredIncidentFault = {
      incidentId: record.id,
      calls,
      status,
      malformed,
      html: input.html === true,
      remaining: count,
    };
    this.incidentFaults.push(fault);
    return this.incidentFaultView(fault);
  }

  /** @internal for the HTTP layer: the fault this call about incident `id` must answer with, if any. */
  takeIncidentFault(id: string, call: IncidentCall): IncidentFault | null {
    const record = this.byId.get(id) ?? this.byId.get(id.toLowerCase());
    if (!record) return null;
    const index = this.incidentFaults.findIndex((f) => f.incidentId === record.id && f.calls.has(call));
    if (index < 0) return null;
    const fault = this.incidentFaults[index] as StoredIncidentFault;
    fault.remaining--;
    if (fault.remaining <= 0) this.incidentFaults.splice(index, 1);
    return { status: fault.status, malformed: fault.malformed, html: fault.html };
  }

  private incidentFaultView(f: StoredIncidentFault): IncidentFaultView {
    return {
      incidentId: f.incidentId,
      key: this.byId.get(f.incidentId)?.key ?? "",
      calls: INCIDENT_CALLS.filter((c) => f.calls.has(c)),
      status: f.status,
      malformed: f.malformed,
      html: f.html,
      remaining: f.remaining === Number.POSITIVE_INFINITY ? "until cleared" : f.remaining,
    };
  }

  /** Every fault off, the read-model lag included (what was pending becomes visible now). */
  clearFaults(): void {
    this.unavailableUntilMs = null;
    this.unavailableIncludesAuth = false;
    this.malformedListCalls = 0;
    this.latencyMs = 0;
    this.hangCalls = 0;
    this.incidentFaults = [];
    this.readLagMs = 0;
    this.flushReadModel();
  }

  faults(): FaultsView {
    this.catchUp(); // so pendingReadModelChanges counts only what is still hidden
    const until = this.activeUnavailableUntil();
    return {
      unavailableUntil:
        until === null
          ? null
          : until === Number.POSITIVE_INFINITY
            ? "until cleared"
            : formatInstant(instantFromMs(until)),
      unavailableIncludesAuth: until !== null && this.unavailableIncludesAuth,
      malformedListCalls: this.malformedListCalls,
      latencyMs: this.latencyMs,
      hangCalls: this.hangCalls,
      readModelLagMs: this.readLagMs,
      pendingReadModelChanges: this.pendingViews.length,
      incidentFaults: this.incidentFaults.map((f) => this.incidentFaultView(f)),
    };
  }

  private activeUnavailableUntil(): number | null {
    if (this.unavailableUntilMs !== null && this.clock().getTime() >= this.unavailableUntilMs) {
      this.unavailableUntilMs = null;
    }
    return this.unavailableUntilMs;
  }

  /** @internal for the HTTP layer */
  isUnavailable(listener: "api" | "auth"): boolean {
    return this.activeUnavailableUntil() !== null && (listener === "api" || this.unavailableIncludesAuth);
  }

  /** @internal for the HTTP layer: true (and counts down) when this list call must be malformed. */
  takeMalformedListCall(): boolean {
    if (this.malformedListCalls <= 0) return false;
    this.malformedListCalls--;
    return true;
  }

  /** @internal for the HTTP layer: true (and counts down) when this call must hang. */
  takeHang(): boolean {
    if (this.hangCalls <= 0) return false;
    this.hangCalls--;
    return true;
  }

  /** @internal */
  get currentLatencyMs(): number {
    return this.latencyMs;
  }

  // -------------------------------------------------------------------------------------------
  // Stats

  /** @internal */
  countRequest(route: string): void {
    this.requestCounts.set(route, (this.requestCounts.get(route) ?? 0) + 1);
  }

  /** @internal */
  countResponse(status: number): void {
    const key = String(status);
    this.responseCounts.set(key, (this.responseCounts.get(key) ?? 0) + 1);
  }

  /** @internal */
  countControlRequest(): void {
    this.controlRequestCount++;
  }

  stats(): EmulatorStats {
    let total = 0;
    for (const n of this.requestCounts.values()) total += n;
    const nowMs = this.clock().getTime();
    let active = 0;
    for (const record of this.accessTokens.values()) if (record.expiresAtMs > nowMs) active++;
    return {
      requests: Object.fromEntries(this.requestCounts),
      responses: Object.fromEntries(this.responseCounts),
      totalRequests: total,
      controlRequests: this.controlRequestCount,
      incidents: this.inKeyOrder.length,
      activeAccessTokens: active,
      since: this.statsSince.toISOString(),
    };
  }

  resetStats(): void {
    this.requestCounts = new Map();
    this.responseCounts = new Map();
    this.controlRequestCount = 0;
    this.statsSince = this.clock();
  }

  // -------------------------------------------------------------------------------------------
  // Background generator

  /**
   * New incidents at `ratePerMinute` (0 stops it), on a real-time unref'd timer. When `burstEvery`
   * is set, every burstEvery-th generated incident is followed by a burst of `burstSize`.
   */
  setGeneratorRate(ratePerMinute: number, burstEvery = 0, burstSize = 20): void {
    if (!Number.isFinite(ratePerMinute) || ratePerMinute < 0) {
      throw new EmulatorError(400, `ratePerMinute must be a non-negative number, got ${ratePerMinute}`);
    }
    if (this.generatorTimer) clearInterval(this.generatorTimer);
    this.generatorTimer = null;
    if (ratePerMinute === 0) return;
    const every = nonNegativeInteger(burstEvery, "burstEvery");
    const size = nonNegativeInteger(burstSize, "burstSize");
    this.generatorTimer = setInterval(
      () => {
        this.addIncident();
        this.generatedCount++;
        if (every > 0 && this.generatedCount % every === 0) this.addBurst(size);
      },
      Math.max(1, Math.round(60_000 / ratePerMinute)),
    );
    this.generatorTimer.unref();
  }

  /** Stops the background generator. */
  dispose(): void {
    if (this.generatorTimer) clearInterval(this.generatorTimer);
    this.generatorTimer = null;
  }
}

function totalEvents(record: IncidentRecord): number {
  return record.baseEventsCount + record.addedEvents.length;
}

/** The list and details show an assignee as a user object (S11: {id, firstName, lastName}), named when the user is known. */
function assignedView(userId: string | null, users: UserDirectory): Record<string, unknown> | null {
  if (userId === null) return null;
  const user = users.byId(userId);
  return { id: userId, firstName: user?.firstName ?? "", lastName: user?.lastName ?? "" };
}

const MAX_UPDATE_LOG = 10_000;

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new EmulatorError(400, `${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}
