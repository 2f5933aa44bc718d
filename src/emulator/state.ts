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
  generateEvent,
  generateStory,
  HOSTILE_NAME,
  hostileEventDescriptions,
  hostileText,
} from "./scenarios.js";
import type { WhereField, WhereFieldReader } from "./where.js";

// ---------------------------------------------------------------------------------------------
// Public shapes

/** What a caller may fix when adding an incident; everything else is generated from the seed. */
export interface IncidentInput {
  name?: string;
  description?: string;
  /** High / Medium / Low on a real SIEM; any string is stored verbatim (to test odd values). */
  severity?: string;
  status?: IncidentStatus;
  category?: string;
  type?: string;
  /** When the incident was created; may be in the past (a "late" incident). Default: now. */
  created?: Date | string;
  /** When the correlation fired. Default: a few seconds to minutes before `created`. */
  detected?: Date | string;
  isConfirmed?: boolean;
  /** How many generated events (0..n). Ignored when `events` is given. */
  eventsCount?: number;
  /** Exact events, newest first. */
  events?: Array<{ description: string; date?: Date | string }>;
}

/** A snapshot of an incident as the emulator holds it (JSON-ready; times as the SIEM prints them). */
export interface EmulatorIncident {
  id: string;
  key: string;
  name: string;
  description: string;
  category: string;
  type: string;
  severity: string;
  status: IncidentStatus;
  isConfirmed: boolean;
  created: string;
  detected: string;
  modified: string;
  assigned: null;
  eventsCount: number;
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

export interface FaultsView {
  /** 503 on every /api call: until this time (ISO), "until cleared", or null when off. */
  unavailableUntil: string | null;
  unavailableIncludesAuth: boolean;
  malformedListCalls: number;
  latencyMs: number;
  hangCalls: number;
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
}

// ---------------------------------------------------------------------------------------------
// Internal record

interface StoredEvent {
  id: string;
  date: Instant;
  description: string;
}

interface IncidentRecord {
  number: number;
  id: string;
  key: string;
  name: string;
  description: string;
  category: string;
  type: string;
  severity: string;
  status: IncidentStatus;
  isConfirmed: boolean;
  created: Instant;
  createdText: string;
  detected: Instant;
  modified: Instant;
  modifiedText: string;
  /** When the incident last entered each status (for filterTimeType approval/inProgress/…). */
  statusTimes: Partial<Record<IncidentStatus, Instant>>;
  story: GeneratedStory;
  eventsCount: number;
  customEvents: StoredEvent[] | null;
  assetId: string;
  groupId: string;
  history: TransitionRecord[];
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
export function userIdFor(subject: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) hash = Math.imul(hash ^ subject.charCodeAt(i), 0x01000193);
  return new Random(hash >>> 0).uuid();
}

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

function byModified(a: IncidentRecord, b: IncidentRecord): number {
  return compareInstants(a.modified, b.modified) || a.number - b.number;
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

function readField(record: IncidentRecord, field: WhereField): string {
  switch (field) {
    case "isconfirmed":
      return String(record.isConfirmed);
    case "id":
      return record.id;
    case "key":
      return record.key;
    case "name":
      return record.name;
    case "status":
      return record.status;
    case "severity":
      return record.severity;
    case "category":
      return record.category;
    case "type":
      return record.type;
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
      return compareInstants(a.modified, b.modified);
    case "status":
      return (STATUS_RANK.get(a.status) ?? -1) - (STATUS_RANK.get(b.status) ?? -1);
    case "severity":
      return (SEVERITY_RANK.get(a.severity) ?? -1) - (SEVERITY_RANK.get(b.severity) ?? -1);
    case "key":
      return a.number - b.number;
    case "isConfirmed":
      return Number(a.isConfirmed) - Number(b.isConfirmed);
    default: {
      const x = a[field];
      const y = b[field];
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

  private unavailableUntilMs: number | null = null;
  private unavailableIncludesAuth = false;
  private malformedListCalls = 0;
  private latencyMs = 0;
  private hangCalls = 0;

  private requestCounts = new Map<string, number>();
  private responseCounts = new Map<string, number>();
  private controlRequestCount = 0;
  private statsSince: Date;

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

  /** Events newest first; `limit` undefined = all. */
  eventsOf(idOrKey: string, offset = 0, limit?: number): EmulatorEvent[] {
    return this.eventViews(this.require(idOrKey), offset, limit);
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

    const fromClock = input.created === undefined;
    const created = this.uniqueCreated(
      input.created === undefined ? this.nextNowInstant() : toInstant(input.created, "created"),
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

    const record: IncidentRecord = {
      number,
      id,
      key: `INC-${number}`,
      name: input.name ?? story.name,
      description: input.description ?? story.description,
      category: input.category ?? story.category,
      type: input.type ?? story.type,
      severity: input.severity ?? story.severity,
      status,
      isConfirmed: input.isConfirmed ?? status === "Approved",
      created,
      createdText: formatInstant(created),
      detected,
      modified: created,
      modifiedText: formatInstant(created),
      statusTimes: { [status]: created },
      story,
      eventsCount,
      customEvents,
      assetId,
      groupId,
      history: [],
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
    const at = this.nextNowInstant();
    // Re-sort by the new modification time: remove, update, insert.
    this.sortedByModified.splice(findPosition(this.sortedByModified, record, byModified), 1);
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
    record.modifiedText = formatInstant(at);
    this.sortedByModified.splice(findPosition(this.sortedByModified, record, byModified), 0, record);
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
      modified: r.modifiedText,
      assigned: null,
      eventsCount: r.eventsCount,
    };
  }

  private eventViews(record: IncidentRecord, offset: number, limit?: number): EmulatorEvent[] {
    const start = Math.max(0, offset);
    const end =
      limit === undefined ? record.eventsCount : Math.min(record.eventsCount, start + Math.max(0, limit));
    const events: EmulatorEvent[] = [];
    for (let i = start; i < end; i++) {
      if (record.customEvents) {
        const e = record.customEvents[i] as StoredEvent;
        events.push({ id: e.id, date: formatInstant(e.date), description: e.description });
      } else {
        const e = generateEvent(record.story, i, record.eventsCount, record.created.ms, record.detected.ms);
        events.push({ id: e.id, date: formatInstant(instantFromMs(e.dateMs)), description: e.description });
      }
    }
    return events;
  }

  // -------------------------------------------------------------------------------------------
  // What the SIEM API routes call (JSON-ready views, shapes per mpsiem-api.md §8)

  /** `POST /api/v2/incidents/`: the page and the count before paging. */
  queryIncidents(query: ListQuery): { incidents: Record<string, unknown>[]; totalItems: number } {
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
        query.timeField === "created" ? (r: IncidentRecord) => r.created : (r: IncidentRecord) => r.modified;
      const lo = from ? lowerBound(sorted, from, get) : 0;
      const hi = to ? lowerBound(sorted, to, get, true) : sorted.length;
      const slice = lo === 0 && hi === sorted.length ? sorted : sorted.slice(lo, hi);
      return { candidates: slice, presorted: query.timeField === "created" };
    }
    const status = TIME_FIELD_STATUS[query.timeField];
    const get = (r: IncidentRecord): Instant | undefined => (status ? r.statusTimes[status] : r.detected);
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
      status: r.status,
      severity: r.severity,
      created: r.createdText,
      assigned: null,
      isConfirmed: r.isConfirmed,
    };
  }

  /** `GET /api/incidentsReadModel/incidents/{id}` (§8.3). */
  incidentDetails(id: string): Record<string, unknown> {
    const r = this.requireById(id);
    const { host, attackerIp } = r.story.params;
    return {
      id: r.id,
      key: r.key,
      name: r.name,
      description: r.description,
      isConfirmed: r.isConfirmed,
      status: r.status,
      category: r.category,
      type: r.type,
      severity: r.severity,
      source: "Correlation",
      created: r.createdText,
      detected: formatInstant(r.detected),
      modified: r.modifiedText,
      assigned: null,
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
      correlationRules: [{ correlationName: r.story.name }],
    };
  }

  incidentEvents(id: string, offset: number, limit?: number): EmulatorEvent[] {
    return this.eventViews(this.requireById(id), offset, limit);
  }

  incidentEventsCount(id: string): number {
    return this.requireById(id).eventsCount;
  }

  /** `PUT /api/incidents/{id}/transitions` on behalf of `subject` (the token's user). */
  transitionFromApi(
    id: string,
    target: IncidentStatus,
    measures: string | null,
    message: string | null,
    subject: string,
  ) {
    this.applyTransition(this.requireById(id), target, message, measures, userIdFor(subject), "api");
  }

  /** `GET /api/incidentsReadModel/incidents/{id}/transitions` (§8.6). */
  incidentHistory(id: string): Record<string, unknown>[] {
    return this.requireById(id).history.map((h) => ({
      prevStatus: h.prevStatus,
      nextStatus: h.nextStatus,
      comment: h.comment,
      timestamp: h.timestamp,
      changedBy: { id: h.changedBy.id },
    }));
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

  /** Every issued access token stops working (as if its lifetime passed). Refresh tokens still work. */
  expireAllTokens(): number {
    const count = this.accessTokens.size;
    this.accessTokens.clear();
    return count;
  }

  /** Access and refresh tokens stop working; a client must log in with its password again. */
  revokeAllTokens(): void {
    this.accessTokens.clear();
    this.refreshTokens.clear();
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

  clearFaults(): void {
    this.unavailableUntilMs = null;
    this.unavailableIncludesAuth = false;
    this.malformedListCalls = 0;
    this.latencyMs = 0;
    this.hangCalls = 0;
  }

  faults(): FaultsView {
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

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new EmulatorError(400, `${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}
