// The MP SIEM Core listener: every `/api/...` route a client of this project may call
// (mpsiem-api.md §3–§8), the injected faults, and the control API under /__emulator.
//
//   POST /api/v2/incidents[/]                                  list (§3, §8.2)
//   GET  /api/incidentsReadModel/incidents/{id}                details (§4, §8.3); also the ≤R23 path /api/incidents/{id}
//   GET  /api/incidents/{id}/events[?offset=&limit=]           events, a bare array (§5.1, §8.4)
//   GET  /api/incidents/{id}/events/count                      {"count": n}
//   PUT  /api/incidents/{id}/transitions                       status change → 204 (§6.1, §8.5)
//   PUT  /api/incidents/{id}                                   update with the full body; only `assigned` is applied → 204; partial → 400 (§6.3)
//   GET  /api/incidentsReadModel/incidents/{id}/transitions    history (§6.2, §8.6); also /api/incidents/{id}/transitions
//   GET  /api/incidents/{id}/issues, /issues/count             tasks (§4, S2, S4)
//   GET  /api/incidents/settings                               {"showContentFromDescendants": false} (§4, S4)
//   GET  /api/deployment_configuration/v1/system_info          {"productVersion": "26.1.7351", …} (§2.3, §8.8)
//   GET  /api/statuses, /api/severities and their /localizations (§8.9)
//   GET  /api/scopes/v2/scopes                                 the PAT check some tools use (§2.2)
// Outside /api: GET /account/login, POST /signin-oidc and GET / for the cookie (UI) login (§2.3,
// ui-login.ts). Every answer carries a `Date` header from the emulator's clock.

import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { EmulatorError } from "./errors.js";
import {
  BodyTooLargeError,
  parseJsonBody,
  pathOf,
  readBody,
  sendJson,
  sendNoContent,
  sendRaw,
  trackedDelay,
} from "./http-util.js";
import { parseListRequest } from "./list-request.js";
import { canonicalStatus, DEFAULT_PRODUCT_VERSION, type EmulatorState, type IncidentCall } from "./state.js";
import { CORE_SESSION_COOKIE, cookieValue, type UiLoginRoutes } from "./ui-login.js";

/** The default profile's product version. */
export const PRODUCT_VERSION = DEFAULT_PRODUCT_VERSION;

/** §7.4, §10 #3: the ASP.NET Web API wording that S13 compares verbatim. */
export const UNAUTHORIZED_BODY = { message: "Authorization has been denied for this request." };

const UNAVAILABLE_HTML =
  "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>" +
  "<body><h1>503 Service Unavailable</h1><p>The service is temporarily unavailable (MP SIEM emulator fault).</p></body></html>";

const MALFORMED_LIST_BODY = '{"incidents":[{"id":"cc51f4c0-4052-4d8b-8726-fb0912ab34cd","key":"INC-';

// Bodies of a per-incident fault. The JSON ones follow ASP.NET Web API's `{"message"}` (§7.4);
// the HTML ones are what a reverse proxy in front of Core shows. Both are assumptions.
const INCIDENT_FAULT_JSON: Record<number, { message: string }> = {
  500: { message: "An error has occurred." },
  403: { message: "Access to this incident is denied for the current user." },
};
const INCIDENT_FAULT_HTML: Record<number, string> = {
  500:
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>" +
    "<body><h1>500 Internal Server Error</h1><p>MP SIEM emulator fault.</p></body></html>",
  403:
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head>" +
    "<body><h1>403 Forbidden</h1><p>MP SIEM emulator fault.</p></body></html>",
};

const STATUS_LOCALIZATIONS = [
  { key: "New", value: "Новый" },
  { key: "Approved", value: "Подтвержден" },
  { key: "InProgress", value: "В работе" },
  { key: "Resolved", value: "Разрешен" },
  { key: "Closed", value: "Закрыт" },
];
const SEVERITY_LOCALIZATIONS = [
  { key: "High", value: "Высокая" },
  { key: "Medium", value: "Средняя" },
  { key: "Low", value: "Низкая" },
];

interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  /** Who the Bearer token belongs to. */
  subject: string;
  state: EmulatorState;
}

interface ApiRoute {
  method: "GET" | "POST" | "PUT";
  pattern: RegExp;
  /** The key in stats().requests. */
  name: string;
  /** For routes about one incident (its id is the first parameter): the name a per-incident fault uses. */
  incidentCall?: IncidentCall;
  handle(request: ApiRequest): Promise<void> | void;
}

const ID = "([^/]+)";

function readQueryInteger(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw.trim() === "") return undefined;
  if (!/^\d+$/.test(raw.trim()))
    throw new EmulatorError(400, `${name} must be a non-negative integer, got '${raw}'`);
  return Number(raw.trim());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalText(body: Record<string, unknown>, field: string): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new EmulatorError(400, `${field} must be a string or null`);
  return value;
}

const ROUTES: readonly ApiRoute[] = [
  {
    method: "POST",
    pattern: /^\/api\/v2\/incidents\/?$/i,
    name: "POST /api/v2/incidents",
    async handle({ req, res, state }) {
      const text = await readBody(req);
      if (state.takeMalformedListCall()) {
        // A 200 whose body stops mid-object, as a proxy cutting the stream would leave it.
        sendRaw(res, 200, "application/json; charset=utf-8", MALFORMED_LIST_BODY);
        return;
      }
      const query = parseListRequest(parseJsonBody(text, {}));
      sendJson(res, 200, state.queryIncidents(query));
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/incidentsReadModel/incidents/${ID}/?$`, "i"),
    name: "GET /api/incidentsReadModel/incidents/{id}",
    incidentCall: "details",
    handle: ({ res, params, state }) => sendJson(res, 200, state.incidentDetails(params[0] as string)),
  },
  {
    // Before the ≤R23 `/api/incidents/{id}`: "settings" is not an incident id.
    method: "GET",
    pattern: /^\/api\/incidents\/settings\/?$/i,
    name: "GET /api/incidents/settings",
    handle: ({ res }) => sendJson(res, 200, { showContentFromDescendants: false }),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/incidents/${ID}/issues/count/?$`, "i"),
    name: "GET /api/incidents/{id}/issues/count",
    incidentCall: "issues",
    handle: ({ res, params, state }) =>
      sendJson(res, 200, { count: state.incidentIssuesCount(params[0] as string) }),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/incidents/${ID}/issues/?$`, "i"),
    name: "GET /api/incidents/{id}/issues",
    incidentCall: "issues",
    handle: ({ res, params, state }) => sendJson(res, 200, state.incidentIssues(params[0] as string)),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/incidents/${ID}/events/count/?$`, "i"),
    name: "GET /api/incidents/{id}/events/count",
    incidentCall: "eventsCount",
    handle: ({ res, params, state }) =>
      sendJson(res, 200, { count: state.incidentEventsCount(params[0] as string) }),
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/incidents/${ID}/events/?$`, "i"),
    name: "GET /api/incidents/{id}/events",
    incidentCall: "events",
    handle({ res, params, query, state }) {
      const offset = readQueryInteger(query, "offset") ?? 0;
      const limit = readQueryInteger(query, "limit");
      sendJson(res, 200, state.incidentEvents(params[0] as string, offset, limit));
    },
  },
  {
    method: "PUT",
    pattern: new RegExp(`^/api/incidents/${ID}/transitions/?$`, "i"),
    name: "PUT /api/incidents/{id}/transitions",
    incidentCall: "transition",
    async handle({ req, res, params, state, subject }) {
      const body = parseJsonBody(await readBody(req));
      if (!isRecord(body)) {
        throw new EmulatorError(
          400,
          'The body must be a JSON object like {"id":"Approved","measures":"…","message":"…"}',
        );
      }
      const target = canonicalStatus(body.id);
      if (!target) {
        throw new EmulatorError(
          400,
          `Transition id ${JSON.stringify(body.id)} is not a status; use New, Approved, InProgress, Resolved or Closed`,
        );
      }
      state.transitionFromApi(
        params[0] as string,
        target,
        optionalText(body, "measures"),
        optionalText(body, "message"),
        subject,
      );
      sendNoContent(res);
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/api/incidentsReadModel/incidents/${ID}/transitions/?$`, "i"),
    name: "GET /api/incidentsReadModel/incidents/{id}/transitions",
    incidentCall: "history",
    handle: ({ res, params, state }) => sendJson(res, 200, state.incidentHistory(params[0] as string)),
  },
  {
    // The ≤R23 history path (S2).
    method: "GET",
    pattern: new RegExp(`^/api/incidents/${ID}/transitions/?$`, "i"),
    name: "GET /api/incidents/{id}/transitions",
    incidentCall: "history",
    handle: ({ res, params, state }) => sendJson(res, 200, state.incidentHistory(params[0] as string)),
  },
  {
    // The ≤R23 details path (S2).
    method: "GET",
    pattern: new RegExp(`^/api/incidents/${ID}/?$`, "i"),
    name: "GET /api/incidents/{id}",
    incidentCall: "details",
    handle: ({ res, params, state }) => sendJson(res, 200, state.incidentDetails(params[0] as string)),
  },
  {
    // §6.3: the full editable incident; only `assigned` is applied.
    method: "PUT",
    pattern: new RegExp(`^/api/incidents/${ID}/?$`, "i"),
    name: "PUT /api/incidents/{id}",
    incidentCall: "update",
    async handle({ req, res, params, state, subject }) {
      // Recorded even when refused (a partial body, not JSON-object), so tests can see what was sent.
      const body = parseJsonBody(await readBody(req));
      state.updateFromApi(params[0] as string, body, subject);
      sendNoContent(res);
    },
  },
  {
    method: "GET",
    pattern: /^\/api\/deployment_configuration\/v1\/system_info\/?$/i,
    name: "GET /api/deployment_configuration/v1/system_info",
    // Only productVersion is known (§8.8); `emulated` tells a person reading logs what answered.
    handle: ({ res, state }) => sendJson(res, 200, { productVersion: state.productVersion, emulated: true }),
  },
  {
    method: "GET",
    pattern: /^\/api\/statuses\/?$/i,
    name: "GET /api/statuses",
    handle: ({ res }) =>
      sendJson(
        res,
        200,
        STATUS_LOCALIZATIONS.map((s) => s.key),
      ),
  },
  {
    method: "GET",
    pattern: /^\/api\/statuses\/localizations\/?$/i,
    name: "GET /api/statuses/localizations",
    handle: ({ res }) => sendJson(res, 200, STATUS_LOCALIZATIONS),
  },
  {
    method: "GET",
    pattern: /^\/api\/severities\/?$/i,
    name: "GET /api/severities",
    handle: ({ res }) =>
      sendJson(
        res,
        200,
        SEVERITY_LOCALIZATIONS.map((s) => s.key),
      ),
  },
  {
    method: "GET",
    pattern: /^\/api\/severities\/localizations\/?$/i,
    name: "GET /api/severities/localizations",
    handle: ({ res }) => sendJson(res, 200, SEVERITY_LOCALIZATIONS),
  },
  {
    method: "GET",
    pattern: /^\/api\/scopes\/v2\/scopes\/?$/i,
    name: "GET /api/scopes/v2/scopes",
    handle: ({ res }) =>
      sendJson(res, 200, [{ id: "00000000-0000-0000-0000-000000000005", name: "Default", isDefault: true }]),
  },
];

function matchRoute(
  method: string,
  path: string,
): { route: ApiRoute; params: string[] } | { methodNotAllowed: true } | null {
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      pathMatched = true;
      continue;
    }
    return { route, params: m.slice(1).map(safeDecode) };
  }
  return pathMatched ? { methodNotAllowed: true } : null;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a stray '%' is just an unknown id, answered with 404
  }
}

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S.*)$/i.exec(header.trim());
  return m ? (m[1] as string).trim() : null;
}

/** Answers an error thrown while handling a SIEM or control route. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof EmulatorError) {
    sendJson(res, error.status, { message: error.message });
  } else if (error instanceof BodyTooLargeError) {
    sendJson(res, 413, { message: error.message });
  } else {
    sendJson(res, 500, {
      message: `Emulator internal error: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

export interface CoreHandlerDeps {
  state: EmulatorState;
  /** The cookie (UI) login pages served on Core. */
  ui: UiLoginRoutes;
  /** Latency timers, cancelled when the emulator closes. */
  timers: Set<NodeJS.Timeout>;
  /** Handles /__emulator/*. */
  control: (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => Promise<void>;
}

export function createCoreHandler(deps: CoreHandlerDeps): RequestListener {
  return (req, res) => {
    // The SIEM's clock, not the host's: a test can give the SIEM a clock of its own.
    res.setHeader("Date", deps.state.now().toUTCString());
    handleCore(deps, req, res).catch((error: unknown) => sendError(res, error));
  };
}

/** Answers a per-incident fault instead of carrying out the call. */
function sendIncidentFault(
  res: ServerResponse,
  fault: { status: number; malformed: boolean; html: boolean },
  id: string,
): void {
  if (fault.malformed) {
    // A 200 whose body stops mid-object.
    sendRaw(res, 200, "application/json; charset=utf-8", `{"id":${JSON.stringify(id)},"key":"INC-`);
  } else if (fault.html) {
    sendRaw(res, fault.status, "text/html; charset=utf-8", INCIDENT_FAULT_HTML[fault.status] ?? "");
  } else {
    sendJson(res, fault.status, INCIDENT_FAULT_JSON[fault.status] ?? { message: "Error" });
  }
}

async function handleCore(deps: CoreHandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state } = deps;
  const { path, query } = pathOf(req);
  if (path === "/__emulator" || path.startsWith("/__emulator/")) {
    state.countControlRequest();
    await deps.control(req, res, path, query);
    return;
  }

  const method = (req.method ?? "GET").toUpperCase();
  const isApi = /^\/api(\/|$)/i.test(path);
  const match = isApi ? matchRoute(method, path) : null;
  const uiRoute = isApi ? null : deps.ui.match(method, path);
  state.countRequest(
    match && "route" in match
      ? match.route.name
      : uiRoute
        ? uiRoute.name
        : `${method} ${isApi ? "/api/(unknown)" : "(unknown)"}`,
  );
  res.on("finish", () => state.countResponse(res.statusCode));

  if (uiRoute) {
    await uiRoute.handle(req, res, query);
    return;
  }
  if (!isApi) {
    sendJson(res, 404, {
      message: `The MP SIEM emulator serves /api/... here; '${path}' is not one of its routes`,
    });
    return;
  }
  if (state.takeHang()) {
    // Accept the request and never answer: the client's own timeout must fire.
    req.resume();
    return;
  }
  if (state.currentLatencyMs > 0) await trackedDelay(state.currentLatencyMs, deps.timers);
  if (state.isUnavailable("api")) {
    req.resume();
    sendRaw(res, 503, "text/html; charset=utf-8", UNAVAILABLE_HTML);
    return;
  }
  if (!match) {
    req.resume();
    sendJson(res, 404, { message: `No HTTP resource was found that matches the request URI '${path}'.` });
    return;
  }
  if ("methodNotAllowed" in match) {
    req.resume();
    sendJson(res, 405, { message: `The requested resource does not support http method '${method}'.` });
    return;
  }

  const token = bearerToken(req);
  // A Bearer token, or the session cookie of a UI login (§2.3).
  const bearerSubject = token ? state.authenticateBearer(token) : null;
  const sessionId = cookieValue(req, CORE_SESSION_COOKIE);
  const subject = bearerSubject ?? (sessionId ? state.authenticateUiSession(sessionId) : null);
  if (!subject) {
    req.resume();
    sendJson(res, 401, UNAUTHORIZED_BODY, { "WWW-Authenticate": "Bearer" });
    return;
  }
  const incidentCall = match.route.incidentCall;
  if (incidentCall) {
    const id = match.params[0] as string;
    const fault = state.takeIncidentFault(id, incidentCall);
    if (fault) {
      req.resume();
      sendIncidentFault(res, fault, id);
      return;
    }
  }
  await match.route.handle({ req, res, params: match.params, query, subject, state });
}
