// Reads the body of `POST /api/v2/incidents/` (mpsiem-api.md §3.1) into a query the state can run.
// Bad input gets a 400 whose message names the field, so a client bug shows up at once.

import { EmulatorError } from "./errors.js";
import { type Instant, parseTimeValue, TimeParseError } from "./instant.js";
import { compileWhere, type WherePredicate, WhereSyntaxError } from "./where.js";

/** Maximum page size; larger `limit`s are clamped (§3.1, S8 README; §10 #15). */
export const MAX_LIST_LIMIT = 1000;
/** Page size when the body has no `limit` (not documented anywhere; an assumption). */
export const DEFAULT_LIST_LIMIT = 100;

/** Which timestamp `timeFrom`/`timeTo` apply to (S2 `TimeFilterType`, §3.1). */
export type TimeFilterField =
  | "created"
  | "detected"
  | "modified"
  | "approval"
  | "inProgress"
  | "resolving"
  | "closing";

const TIME_FILTER_TYPES: Record<string, TimeFilterField> = {
  creation: "created",
  detection: "detected",
  lastmodification: "modified",
  approval: "approval",
  inprogress: "inProgress",
  resolving: "resolving",
  closing: "closing",
};

export const ORDER_FIELDS = [
  "created",
  "detected",
  "modified",
  "status",
  "severity",
  "key",
  "name",
  "category",
  "type",
  "id",
  "isConfirmed",
] as const;
export type OrderField = (typeof ORDER_FIELDS)[number];

const ORDER_FIELD_BY_LOWER: Record<string, OrderField> = {
  ...Object.fromEntries(ORDER_FIELDS.map((f) => [f.toLowerCase(), f])),
  lastmodification: "modified",
};

/** Fields a client may put in `filter.select`; items always carry the full list-item shape anyway. */
const SELECTABLE_FIELDS = new Set(
  [
    "id",
    "key",
    "name",
    "category",
    "type",
    "status",
    "severity",
    "created",
    "assigned",
    "isConfirmed",
    "detected",
    "modified",
  ].map((f) => f.toLowerCase()),
);

export interface OrderKey {
  field: OrderField;
  descending: boolean;
}

export interface ListQuery {
  from: Instant | null;
  to: Instant | null;
  timeField: TimeFilterField;
  /** null = no where clause (every incident in the window matches). */
  predicate: WherePredicate | null;
  order: OrderKey[];
  offset: number;
  limit: number;
}

/** Default order: newest `created` first (§8.11). */
export const DEFAULT_ORDER: readonly OrderKey[] = [{ field: "created", descending: true }];

// Clients poll with the same where clause every few seconds; compiling once keeps list calls cheap.
const whereCache = new Map<string, WherePredicate>();
const WHERE_CACHE_SIZE = 200;

function compileWhereCached(source: string): WherePredicate {
  const cached = whereCache.get(source);
  if (cached) return cached;
  const compiled = compileWhere(source);
  if (whereCache.size >= WHERE_CACHE_SIZE) whereCache.clear();
  whereCache.set(source, compiled);
  return compiled;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readInteger(body: Record<string, unknown>, field: string, fallback: number): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new EmulatorError(400, `${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function parseListRequest(body: unknown): ListQuery {
  if (!isRecord(body)) throw new EmulatorError(400, "The request body must be a JSON object");

  const offset = readInteger(body, "offset", 0);
  const limit = Math.min(readInteger(body, "limit", DEFAULT_LIST_LIMIT), MAX_LIST_LIMIT);

  let from: Instant | null;
  let to: Instant | null;
  try {
    from = parseTimeValue(body.timeFrom, "timeFrom");
    to = parseTimeValue(body.timeTo, "timeTo");
  } catch (error) {
    if (error instanceof TimeParseError) throw new EmulatorError(400, error.message);
    throw error;
  }

  let timeField: TimeFilterField = "created";
  if (body.filterTimeType !== undefined && body.filterTimeType !== null) {
    const mapped =
      typeof body.filterTimeType === "string"
        ? TIME_FILTER_TYPES[body.filterTimeType.trim().toLowerCase()]
        : undefined;
    if (!mapped) {
      throw new EmulatorError(
        400,
        `filterTimeType ${JSON.stringify(body.filterTimeType)} is unknown; use one of ${Object.keys(TIME_FILTER_TYPES).join(", ")} (lastModification in that spelling)`,
      );
    }
    timeField = mapped;
  }

  const filter = body.filter;
  if (!isRecord(filter)) {
    throw new EmulatorError(
      400,
      'filter is required: {"select":["key","name","category","type","status","created","assigned"]}',
    );
  }
  const select = filter.select;
  if (!Array.isArray(select) || select.length === 0) {
    throw new EmulatorError(400, "filter.select is required and must be a non-empty array of field names");
  }
  for (const field of select) {
    if (typeof field !== "string" || !SELECTABLE_FIELDS.has(field.toLowerCase())) {
      throw new EmulatorError(400, `filter.select has an unknown field ${JSON.stringify(field)}`);
    }
  }

  let predicate: WherePredicate | null = null;
  if (filter.where !== undefined && filter.where !== null) {
    if (typeof filter.where !== "string") throw new EmulatorError(400, "filter.where must be a string");
    if (filter.where.trim() !== "") {
      try {
        predicate = compileWhereCached(filter.where);
      } catch (error) {
        if (error instanceof WhereSyntaxError) {
          throw new EmulatorError(400, `filter.where: ${error.message}`);
        }
        throw error;
      }
    }
  }

  // The list API spells it `orderby`; `orderBy` (the events API's spelling) is accepted too.
  const rawOrder = filter.orderby ?? filter.orderBy;
  let order: OrderKey[] = [...DEFAULT_ORDER];
  if (rawOrder !== undefined && rawOrder !== null) {
    if (!Array.isArray(rawOrder))
      throw new EmulatorError(400, "filter.orderby must be an array of {field, sortOrder}");
    if (rawOrder.length > 0) order = rawOrder.map(parseOrderKey);
  }

  return { from, to, timeField, predicate, order, offset, limit };
}

function parseOrderKey(item: unknown): OrderKey {
  if (!isRecord(item) || typeof item.field !== "string") {
    throw new EmulatorError(
      400,
      "each filter.orderby item needs a string field, e.g. {field:'created',sortOrder:'descending'}",
    );
  }
  const field = ORDER_FIELD_BY_LOWER[item.field.toLowerCase()];
  if (!field) {
    throw new EmulatorError(
      400,
      `filter.orderby field ${JSON.stringify(item.field)} is unknown; use ${ORDER_FIELDS.join(", ")}`,
    );
  }
  const sortOrder = item.sortOrder ?? "ascending";
  if (typeof sortOrder !== "string" || !["ascending", "descending"].includes(sortOrder.toLowerCase())) {
    throw new EmulatorError(
      400,
      `filter.orderby sortOrder ${JSON.stringify(sortOrder)} must be ascending or descending`,
    );
  }
  return { field, descending: sortOrder.toLowerCase() === "descending" };
}
