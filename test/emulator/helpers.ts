// Shared helpers for the emulator tests: real HTTP against a real emulator on 127.0.0.1.

import type { RunningEmulator } from "../../src/emulator/index.js";

export const SEVEN_DIGITS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

/** The exact select list every public client sends (mpsiem-api.md §3.1). */
export const CANONICAL_SELECT = ["key", "name", "category", "type", "status", "created", "assigned"];

/** A controllable clock for `now` injection. */
export function manualClock(startIso: string): {
  now: () => Date;
  advance(ms: number): void;
  set(iso: string): void;
} {
  let current = Date.parse(startIso);
  return {
    now: () => new Date(current),
    advance(ms) {
      current += ms;
    },
    set(iso) {
      current = Date.parse(iso);
    },
  };
}

export async function login(
  emu: RunningEmulator,
  fields: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({
    username: "siem",
    password: "siem",
    client_id: "mpx",
    client_secret: "emulator-secret",
    grant_type: "password",
    response_type: "code id_token",
    scope: "authorization offline_access mpx.api ptkb.api",
    ...fields,
  });
  const res = await fetch(`${emu.authUrl}/connect/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form.toString(),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function accessToken(emu: RunningEmulator): Promise<string> {
  const { status, body } = await login(emu);
  if (status !== 200 || typeof body.access_token !== "string") throw new Error(`login failed: ${status}`);
  return body.access_token;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined && options.token !== null)
    headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined
      ? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }
      : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface ListBody {
  offset?: number;
  limit?: number;
  timeFrom?: unknown;
  timeTo?: unknown;
  filterTimeType?: string;
  where?: string;
  orderby?: Array<{ field: string; sortOrder: string }>;
}

/** The S1 list body (§8.2) with overrides. */
export function listBody(options: ListBody = {}): Record<string, unknown> {
  return {
    offset: options.offset ?? 0,
    limit: options.limit ?? 50,
    groups: { filterType: "no_filter" },
    timeFrom: "timeFrom" in options ? options.timeFrom : "2000-01-01T00:00:00.000Z",
    timeTo: "timeTo" in options ? options.timeTo : null,
    filterTimeType: options.filterTimeType ?? "creation",
    filter: {
      select: CANONICAL_SELECT,
      ...(options.where !== undefined ? { where: options.where } : {}),
      orderby: options.orderby ?? [
        { field: "created", sortOrder: "descending" },
        { field: "status", sortOrder: "ascending" },
        { field: "severity", sortOrder: "descending" },
      ],
    },
    queryIds: ["all_incidents"],
  };
}

export interface ListResult {
  incidents: Array<Record<string, unknown> & { id: string; key: string; created: string; status: string }>;
  totalItems: number;
}

export async function list(emu: RunningEmulator, token: string, options: ListBody = {}): Promise<ListResult> {
  const res = await call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body: listBody(options) });
  if (res.status !== 200) throw new Error(`list failed: ${res.status} ${res.text}`);
  return res.json as ListResult;
}

export function keysOf(result: ListResult): string[] {
  return result.incidents.map((i) => i.key);
}

/** The `PUT /api/incidents/{id}` body S11 builds from the details (§6.3, §8.7), `assigned` as given there. */
export function fullUpdateBody(details: Record<string, unknown>): Record<string, unknown> {
  const ids = (set: unknown) => {
    const s = (set ?? {}) as Record<string, Array<{ id?: unknown; name?: unknown }>>;
    const pick = (k: string, by: "id" | "name") => (s[k] ?? []).map((x) => x[by] ?? x.name ?? x.id);
    return {
      groups: pick("groups", "id"),
      assets: pick("assets", "id"),
      networks: pick("networks", "id"),
      addresses: pick("addresses", "name"),
      others: pick("others", "name"),
    };
  };
  const assigned = details.assigned as { id?: string } | null;
  return {
    assigned: assigned?.id ?? null,
    attackers: ids(details.attackers),
    targets: ids(details.targets),
    description: details.description,
    detected: details.detected,
    groups: ((details.groups ?? []) as Array<{ id: string }>).map((g) => g.id),
    influence: details.influence ?? "",
    name: details.name,
    parameters: details.parameters ?? [],
    severity: details.severity,
    source: details.source ?? "",
    type: details.type,
  };
}
