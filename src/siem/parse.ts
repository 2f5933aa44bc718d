// Tolerant readers for MP SIEM answers. The field set differs between SIEM versions, so unknown
// fields are ignored and missing optional ones get a neutral default; only what a call cannot do
// without (an incident id, the `incidents` array) makes a body unusable. Nothing here throws.

import { z } from "zod";
import { parseSiemTime } from "./time.js";
import type {
  IncidentDetails,
  IncidentEvent,
  IncidentSummary,
  SiemAssignee,
  SiemUser,
  SystemInfo,
  TransitionEntry,
} from "./types.js";

/** A field that may be missing or of any type; `read` turns whatever came into the value we keep. */
function lenient<T>(read: (value: unknown) => T) {
  return z
    .unknown()
    .optional()
    .transform((value) => read(value));
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}

function asFlag(value: unknown): boolean {
  return value === true || (typeof value === "string" && value.trim().toLowerCase() === "true");
}

/** Rule names from 26.x `correlationRuleNames: string[]` and 27.x `correlationRules: [{correlationName}]`. */
function ruleNames(names: unknown, rules: unknown): string[] {
  const found: string[] = [];
  const add = (value: unknown) => {
    const name = asText(value).trim();
    if (name !== "" && !found.includes(name)) found.push(name);
  };
  if (Array.isArray(names)) for (const name of names) add(name);
  if (Array.isArray(rules)) {
    for (const rule of rules) {
      if (typeof rule === "object" && rule !== null) add((rule as Record<string, unknown>).correlationName);
      else add(rule);
    }
  }
  return found;
}

/** Details `assigned`: {id, firstName, lastName} (S11), or a bare id; null when nobody holds it. */
function readAssignee(value: unknown): SiemAssignee | null {
  if (typeof value === "string") return value.trim() === "" ? null : { id: value.trim(), name: "" };
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const id = asText(v.id).trim();
  if (id === "") return null;
  const name = [asText(v.firstName).trim(), asText(v.lastName).trim()].filter(Boolean).join(" ");
  return { id, name: name || asText(v.userName).trim() || asText(v.name).trim() };
}

/** How many names of one side (targets or attackers) are kept: the card shows the first few. */
const MAX_PARTIES = 10;
const PARTY_KINDS = ["assets", "addresses", "networks", "groups", "others"] as const;

/** `targets` / `attackers`: five arrays of {name, …} (or bare strings); names in that order, each once. */
function readParties(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [];
  const v = value as Record<string, unknown>;
  const found: string[] = [];
  for (const kind of PARTY_KINDS) {
    const items = v[kind];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      const name =
        typeof item === "object" && item !== null
          ? asText((item as Record<string, unknown>).name).trim() ||
            asText((item as Record<string, unknown>).id).trim()
          : asText(item).trim();
      if (name !== "" && !found.includes(name)) found.push(name);
      if (found.length >= MAX_PARTIES) return found;
    }
  }
  return found;
}

const text = lenient(asText);
const flag = lenient(asFlag);
const time = lenient(parseSiemTime);
const idField = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .pipe(z.string().min(1));

const summaryFields = {
  id: idField,
  key: text,
  name: text,
  category: text,
  type: text,
  status: text,
  severity: text,
  created: time,
  isConfirmed: flag,
};
const summarySchema = z.object(summaryFields);
const detailsSchema = z.object({
  ...summaryFields,
  id: lenient((value) => asText(value).trim()),
  description: text,
  detected: time,
  modified: time,
  correlationRuleNames: z.unknown().optional(),
  correlationRules: z.unknown().optional(),
  assigned: lenient(readAssignee),
  targets: lenient(readParties),
  attackers: lenient(readParties),
});
const listSchema = z.object({
  incidents: z.array(z.unknown()),
  totalItems: lenient((value) => (typeof value === "number" && Number.isFinite(value) ? value : null)),
});
const eventSchema = z.object({ id: text, date: time, description: text });
const countSchema = z.object({ count: z.coerce.number().int().nonnegative() });
const systemInfoSchema = z.object({ productVersion: text });
const tokenSchema = z.object({
  access_token: z.string().trim().min(1),
  expires_in: lenient((value) => {
    const seconds = typeof value === "string" ? Number(value) : value;
    return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? seconds : null;
  }),
  refresh_token: lenient((value) => (typeof value === "string" && value.trim() !== "" ? value.trim() : null)),
});

/** The Unix epoch stands in for a missing `created`, so such an incident sorts first and never moves a watermark. */
export const UNKNOWN_CREATED = new Date(0);

/** Why one list item was dropped or patched; the client logs these. */
export interface ParseNote {
  index: number;
  problem: string;
}

export type JsonResult = { ok: true; value: unknown } | { ok: false };

export function parseJson(body: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false };
  }
}

export interface IncidentPage {
  incidents: IncidentSummary[];
  /** How many items the page held, readable or not: the paging offset moves by this. */
  itemCount: number;
  totalItems: number | null;
  notes: ParseNote[];
}

/** A list answer; null when the body lacks the `incidents` array. */
export function parseIncidentPage(body: unknown): IncidentPage | null {
  const list = listSchema.safeParse(body);
  if (!list.success) return null;
  const incidents: IncidentSummary[] = [];
  const notes: ParseNote[] = [];
  list.data.incidents.forEach((raw, index) => {
    const item = summarySchema.safeParse(raw);
    if (!item.success) {
      notes.push({ index, problem: "skipped: no usable id" });
      return;
    }
    const { created, ...rest } = item.data;
    if (created === null) notes.push({ index, problem: `incident ${rest.id}: no readable created time` });
    incidents.push({ ...rest, created: created ?? UNKNOWN_CREATED });
  });
  return { incidents, itemCount: list.data.incidents.length, totalItems: list.data.totalItems, notes };
}

/** A details answer; null when it is not an object. A missing id is taken from the request. */
export function parseIncidentDetails(body: unknown, requestedId: string): IncidentDetails | null {
  const details = detailsSchema.safeParse(body);
  if (!details.success) return null;
  const { created, id, correlationRuleNames, correlationRules, assigned, ...rest } = details.data;
  return {
    ...rest,
    assignee: assigned,
    id: id || requestedId,
    created: created ?? UNKNOWN_CREATED,
    correlationRules: ruleNames(correlationRuleNames, correlationRules),
  };
}

/** An events answer: a bare array (or, on the event-store API, `{events: [...]}`); null otherwise. */
export function parseEvents(body: unknown): IncidentEvent[] | null {
  const items = Array.isArray(body)
    ? body
    : typeof body === "object" && body !== null && Array.isArray((body as { events?: unknown }).events)
      ? ((body as { events: unknown[] }).events as unknown[])
      : null;
  if (items === null) return null;
  const events: IncidentEvent[] = [];
  for (const raw of items) {
    const event = eventSchema.safeParse(raw);
    if (event.success) events.push(event.data);
  }
  return events;
}

export function parseEventCount(body: unknown): number | null {
  const count = countSchema.safeParse(body);
  return count.success ? count.data.count : null;
}

export function parseSystemInfo(body: unknown): SystemInfo | null {
  const info = systemInfoSchema.safeParse(body);
  return info.success ? info.data : null;
}

export interface TokenGrant {
  accessToken: string;
  /** Seconds, or null when the server did not say. */
  expiresInSec: number | null;
  refreshToken: string | null;
}

export function parseTokenResponse(body: unknown): TokenGrant | null {
  const token = tokenSchema.safeParse(body);
  if (!token.success) return null;
  return {
    accessToken: token.data.access_token,
    expiresInSec: token.data.expires_in,
    refreshToken: token.data.refresh_token,
  };
}

/**
 * The human part of an error body: `message`, OAuth `error_description`/`error`, the event-store
 * `errors[].error.message`, or else the raw text. Always short and on one line.
 */
export function errorMessageOf(bodyText: string, maxLength = 300): string {
  const parsed = parseJson(bodyText);
  let message = "";
  if (parsed.ok && typeof parsed.value === "object" && parsed.value !== null) {
    const body = parsed.value as Record<string, unknown>;
    const nested = Array.isArray(body.errors)
      ? asText((body.errors[0] as { error?: { message?: unknown } } | undefined)?.error?.message)
      : "";
    message =
      asText(body.message) ||
      [asText(body.error), asText(body.error_description)].filter(Boolean).join(": ") ||
      asText(body.title) ||
      nested;
  } else if (parsed.ok && typeof parsed.value === "string") {
    message = parsed.value;
  }
  if (message === "" && !parsed.ok) message = bodyText;
  const oneLine = message.replace(/\s+/g, " ").trim();
  return oneLine.length > maxLength ? `${oneLine.slice(0, maxLength)}…` : oneLine;
}

/** The users query answer `{items: [{id, userName, status, …}]}`; null when it has no `items` array. */
export function parseUsers(body: unknown): SiemUser[] | null {
  if (typeof body !== "object" || body === null) return null;
  const items = (body as { items?: unknown }).items;
  if (!Array.isArray(items)) return null;
  const users: SiemUser[] = [];
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const u = item as Record<string, unknown>;
    const id = asText(u.id).trim();
    const userName = asText(u.userName).trim();
    if (id !== "" && userName !== "") users.push({ id, userName, status: asText(u.status) });
  }
  return users;
}

/** The status history: an array of {prevStatus, nextStatus, comment, timestamp, changedBy:{id}}; null otherwise. */
export function parseTransitionHistory(body: unknown): TransitionEntry[] | null {
  if (!Array.isArray(body)) return null;
  const out: TransitionEntry[] = [];
  for (const item of body) {
    if (typeof item !== "object" || item === null) continue;
    const h = item as Record<string, unknown>;
    const by = h.changedBy;
    const changedBy =
      typeof by === "object" && by !== null ? asText((by as Record<string, unknown>).id).trim() : "";
    out.push({
      prevStatus: asText(h.prevStatus),
      nextStatus: asText(h.nextStatus),
      comment: asText(h.comment),
      at: parseSiemTime(h.timestamp),
      changedBy: changedBy || null,
    });
  }
  return out;
}
