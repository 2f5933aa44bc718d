// The emulator's own control API, on the Core listener under /__emulator (JSON in and out, no
// auth: the emulator listens on loopback for tests and demos). It mirrors EmulatorState.
//
//   GET  /__emulator                                 this list of routes
//   GET  /__emulator/incidents                       every incident, creation order (EmulatorIncident[])
//   POST /__emulator/incidents                       add one; body: IncidentInput (all optional) → 201 incident
//   POST /__emulator/incidents/burst                 {"count": n, ...IncidentInput} → 201 {"incidents": [...]}
//   POST /__emulator/incidents/hostile               add the hostile incident (body: optional IncidentInput) → 201
//   GET  /__emulator/incidents/{idOrKey}             one incident → 200, or 404
//   GET  /__emulator/incidents/{idOrKey}/events      ?offset=&limit= → events, newest first
//   GET  /__emulator/incidents/{idOrKey}/transitions history with measures and via ("api" | "ui")
//   POST /__emulator/incidents/{idOrKey}/status      {"status": "Closed", "comment": "…"} as if in the SIEM UI
//   POST /__emulator/incidents/{idOrKey}/assign      {"userId": "…" | null} as if in the SIEM UI
//   GET  /__emulator/incidents/{idOrKey}/updates     every PUT /api/incidents/{id} for it (body, status, error)
//   GET  /__emulator/updates                         every PUT /api/incidents/{id} (UpdateRecord[])
//   GET  /__emulator/users                           the MP users (id, userName, names, status)
//   POST /__emulator/users                           {"userName", "firstName"?, "lastName"?, "status"?} → 201 user
//   POST /__emulator/incidents/{idOrKey}/events      {"count"?: n, "events"?: [...], "touchModified": bool} correlation adds events
//   GET  /__emulator/incidents/{idOrKey}/issues      its tasks
//   POST /__emulator/incidents/{idOrKey}/issues      TaskInput → 201 task
//   POST /__emulator/tokens/expire                   issued access tokens stop working → {"expired": n}
//   POST /__emulator/tokens/revoke                   access and refresh tokens stop working
//   PUT  /__emulator/tokens/personal                 {"tokens": ["pat_…"]} replaces the accepted PATs
//   GET  /__emulator/faults                          the active faults (FaultsView)
//   POST /__emulator/faults/503                      {"seconds"?: n, "includeAuth"?: bool}: 503 on /api (and /connect/token)
//   POST /__emulator/faults/malformed                {"count": n}: the next n list calls return broken JSON
//   POST /__emulator/faults/latency                  {"ms": n}: every SIEM call waits n ms
//   POST /__emulator/faults/hang                     {"count": n}: the next n SIEM calls never answer
//   POST /__emulator/faults/read-lag                 {"ms": n}: read calls show changes n ms late
//   POST /__emulator/faults/incident                 {"id"|"key", calls?, status?, malformed?, html?, count?}: one incident's calls fail
//   POST /__emulator/faults/clear                    all faults off
//   POST /__emulator/generator                       {"ratePerMinute": n, "burstEvery"?: n, "burstSize"?: n}
//   GET  /__emulator/stats                           request counters (EmulatorStats)
//   POST /__emulator/stats/reset                     counters back to zero
//   GET  /__emulator/ca.pem                          the certificate to trust (TLS mode only)

import type { IncomingMessage, ServerResponse } from "node:http";
import { EmulatorError } from "./errors.js";
import { parseJsonBody, readBody, sendJson, sendRaw } from "./http-util.js";
import {
  canonicalStatus,
  type EmulatorState,
  type IncidentFaultInput,
  type IncidentInput,
  type TaskInput,
} from "./state.js";

interface ControlRoute {
  method: "GET" | "POST" | "PUT";
  pattern: RegExp;
  doc: string;
  handle(request: { body: unknown; params: string[]; query: URLSearchParams; res: ServerResponse }): void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (!isRecord(body)) throw new EmulatorError(400, "The body must be a JSON object");
  return body;
}

function numberField(body: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new EmulatorError(400, `${name} is required`);
    return undefined;
  }
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new EmulatorError(400, `${name} must be a number`);
  return value;
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new EmulatorError(400, `${name} must be a string`);
  return value;
}

/** Reads IncidentInput from JSON, checking each field's type. */
export function incidentInputFromJson(raw: unknown): IncidentInput {
  const body = bodyObject(raw);
  const input: IncidentInput = {};
  for (const name of ["name", "description", "created", "detected"] as const) {
    const value = stringField(body, name);
    if (value !== undefined) input[name] = value;
  }
  // An explicit JSON null is kept: real Core returns null for these on some incidents.
  for (const name of ["severity", "category", "type"] as const) {
    if (body[name] === null) input[name] = null;
    else {
      const value = stringField(body, name);
      if (value !== undefined) input[name] = value;
    }
  }
  const createdOffsetMs = numberField(body, "createdOffsetMs", false);
  if (createdOffsetMs !== undefined) input.createdOffsetMs = createdOffsetMs;
  if (body.status !== undefined && body.status !== null) {
    const status = canonicalStatus(body.status);
    if (!status) throw new EmulatorError(400, "status must be New, Approved, InProgress, Resolved or Closed");
    input.status = status;
  }
  if (body.isConfirmed !== undefined && body.isConfirmed !== null) {
    if (typeof body.isConfirmed !== "boolean") throw new EmulatorError(400, "isConfirmed must be a boolean");
    input.isConfirmed = body.isConfirmed;
  }
  const eventsCount = numberField(body, "eventsCount", false);
  if (eventsCount !== undefined) input.eventsCount = eventsCount;
  if (body.events !== undefined && body.events !== null) {
    if (!Array.isArray(body.events))
      throw new EmulatorError(400, "events must be an array of {description, date?}");
    input.events = body.events.map((event, i) => {
      if (!isRecord(event) || typeof event.description !== "string") {
        throw new EmulatorError(400, `events[${i}] needs a string description`);
      }
      const date = stringField(event, "date");
      return date === undefined
        ? { description: event.description }
        : { description: event.description, date };
    });
  }
  return input;
}

function taskInputFromJson(raw: unknown): TaskInput {
  const body = bodyObject(raw);
  const input: TaskInput = {};
  for (const name of ["name", "description", "type", "status"] as const) {
    const value = stringField(body, name);
    if (value !== undefined) input[name] = value;
  }
  if (body.assignedId === null) input.assignedId = null;
  else {
    const assignedId = stringField(body, "assignedId");
    if (assignedId !== undefined) input.assignedId = assignedId;
  }
  if (body.estimatedTime === null) input.estimatedTime = null;
  else {
    const estimatedTime = numberField(body, "estimatedTime", false);
    if (estimatedTime !== undefined) input.estimatedTime = estimatedTime;
  }
  return input;
}

function incidentFaultFromJson(object: Record<string, unknown>): {
  idOrKey: string;
  input: IncidentFaultInput;
} {
  const idOrKey = stringField(object, "id") ?? stringField(object, "key") ?? stringField(object, "idOrKey");
  if (!idOrKey) throw new EmulatorError(400, "id or key of the incident is required");
  const input: IncidentFaultInput = {};
  if (object.calls !== undefined && object.calls !== null) {
    if (!Array.isArray(object.calls) || !object.calls.every((c) => typeof c === "string")) {
      throw new EmulatorError(400, 'calls must be an array of call names, e.g. ["details", "events"]');
    }
    input.calls = object.calls as string[];
  }
  const status = numberField(object, "status", false);
  if (status !== undefined) {
    if (status !== 500 && status !== 403)
      throw new EmulatorError(400, `status must be 500 or 403, got ${status}`);
    input.status = status;
  }
  for (const name of ["malformed", "html"] as const) {
    const value = object[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== "boolean") throw new EmulatorError(400, `${name} must be a boolean`);
    input[name] = value;
  }
  const count = numberField(object, "count", false);
  if (count !== undefined) input.count = count;
  return { idOrKey, input };
}

export function createControlHandler(state: EmulatorState, caCertPem: string | undefined) {
  const routes: ControlRoute[] = [
    {
      method: "GET",
      pattern: /^\/__emulator\/?$/,
      doc: "GET /__emulator — this list",
      handle: ({ res }) => sendJson(res, 200, { routes: routes.map((r) => r.doc) }),
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/incidents\/?$/,
      doc: "GET /__emulator/incidents — every incident in creation order",
      handle: ({ res }) => sendJson(res, 200, state.listAll()),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/?$/,
      doc: "POST /__emulator/incidents {IncidentInput} — add one incident",
      handle: ({ res, body }) => sendJson(res, 201, state.addIncident(incidentInputFromJson(body))),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/burst\/?$/,
      doc: "POST /__emulator/incidents/burst {count, ...IncidentInput} — add count incidents at once",
      handle({ res, body }) {
        const object = bodyObject(body);
        const count = numberField(object, "count", true) as number;
        const { count: _ignored, ...rest } = object;
        sendJson(res, 201, { incidents: state.addBurst(count, incidentInputFromJson(rest)) });
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/hostile\/?$/,
      doc: "POST /__emulator/incidents/hostile {IncidentInput?} — add the hostile incident",
      handle: ({ res, body }) => sendJson(res, 201, state.addHostileIncident(incidentInputFromJson(body))),
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/?$/,
      doc: "GET /__emulator/incidents/{idOrKey} — one incident",
      handle({ res, params }) {
        const incident = state.get(params[0] as string);
        if (!incident) throw new EmulatorError(404, `Incident '${params[0]}' was not found`);
        sendJson(res, 200, incident);
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/events\/?$/,
      doc: "GET /__emulator/incidents/{idOrKey}/events?offset=&limit= — its events, newest first",
      handle({ res, params, query }) {
        const offset = Number(query.get("offset") ?? 0);
        const limitText = query.get("limit");
        const limit = limitText === null ? undefined : Number(limitText);
        if (
          !Number.isInteger(offset) ||
          offset < 0 ||
          (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
        ) {
          throw new EmulatorError(400, "offset and limit must be non-negative integers");
        }
        sendJson(res, 200, state.eventsOf(params[0] as string, offset, limit));
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/transitions\/?$/,
      doc: "GET /__emulator/incidents/{idOrKey}/transitions — status history incl. measures and via",
      handle: ({ res, params }) => sendJson(res, 200, state.transitionsOf(params[0] as string)),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/status\/?$/,
      doc: "POST /__emulator/incidents/{idOrKey}/status {status, comment?} — change status as in the SIEM UI",
      handle({ res, params, body }) {
        const object = bodyObject(body);
        const status = canonicalStatus(object.status);
        if (!status)
          throw new EmulatorError(400, "status must be New, Approved, InProgress, Resolved or Closed");
        sendJson(res, 200, state.setStatus(params[0] as string, status, stringField(object, "comment")));
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/assign\/?$/,
      doc: "POST /__emulator/incidents/{idOrKey}/assign {userId: string | null} — assign (or unassign) as in the SIEM UI",
      handle({ res, params, body }) {
        const object = bodyObject(body);
        if (!("userId" in object))
          throw new EmulatorError(400, "userId is required (a user id, or null to unassign)");
        const userId = object.userId === null ? null : stringField(object, "userId");
        if (userId === undefined || userId === "")
          throw new EmulatorError(400, "userId must be a non-empty string or null");
        sendJson(res, 200, state.assign(params[0] as string, userId));
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/updates\/?$/,
      doc: "GET /__emulator/incidents/{idOrKey}/updates — every PUT /api/incidents/{id} for it",
      handle: ({ res, params }) => sendJson(res, 200, state.updatesOf(params[0] as string)),
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/updates\/?$/,
      doc: "GET /__emulator/updates — every PUT /api/incidents/{id}, oldest first",
      handle: ({ res }) => sendJson(res, 200, state.updatesOf()),
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/users\/?$/,
      doc: "GET /__emulator/users — the MP users",
      handle: ({ res }) => sendJson(res, 200, state.users.list()),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/users\/?$/,
      doc: "POST /__emulator/users {userName, firstName?, lastName?, status?} — add an MP user",
      handle({ res, body }) {
        const object = bodyObject(body);
        const userName = stringField(object, "userName");
        if (userName === undefined) throw new EmulatorError(400, "userName is required");
        const status = object.status;
        if (status !== undefined && status !== "active" && status !== "blocked")
          throw new EmulatorError(400, "status must be active or blocked");
        sendJson(
          res,
          201,
          state.addUser({
            userName,
            firstName: stringField(object, "firstName") ?? "",
            lastName: stringField(object, "lastName") ?? "",
            ...(status !== undefined ? { status } : {}),
          }),
        );
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/events\/?$/,
      doc: "POST /__emulator/incidents/{idOrKey}/events {count? | events?, touchModified} — correlation adds events",
      handle({ res, params, body }) {
        const object = bodyObject(body);
        if (typeof object.touchModified !== "boolean") {
          throw new EmulatorError(
            400,
            "touchModified is required: true moves the incident's modified time, false adds the events silently",
          );
        }
        const count = numberField(object, "count", false);
        const events =
          object.events === undefined || object.events === null
            ? undefined
            : incidentInputFromJson({ events: object.events }).events;
        if (count !== undefined && events !== undefined)
          throw new EmulatorError(400, "give count or events, not both");
        sendJson(
          res,
          200,
          state.addEvents(params[0] as string, {
            touchModified: object.touchModified,
            ...(count !== undefined ? { count } : {}),
            ...(events !== undefined ? { events } : {}),
          }),
        );
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/issues\/?$/,
      doc: "GET /__emulator/incidents/{idOrKey}/issues — its tasks",
      handle({ res, params }) {
        const incident = state.get(params[0] as string);
        if (!incident) throw new EmulatorError(404, `Incident '${params[0]}' was not found`);
        sendJson(res, 200, state.incidentIssues(incident.id));
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/incidents\/([^/]+)\/issues\/?$/,
      doc: "POST /__emulator/incidents/{idOrKey}/issues {TaskInput} — add a task",
      handle: ({ res, params, body }) =>
        sendJson(res, 201, state.addTask(params[0] as string, taskInputFromJson(body))),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/tokens\/expire\/?$/,
      doc: "POST /__emulator/tokens/expire — issued access tokens stop working (refresh tokens still work)",
      handle: ({ res }) => sendJson(res, 200, { expired: state.expireAllTokens() }),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/tokens\/revoke\/?$/,
      doc: "POST /__emulator/tokens/revoke — access and refresh tokens stop working",
      handle({ res }) {
        state.revokeAllTokens();
        sendJson(res, 200, { revoked: true });
      },
    },
    {
      method: "PUT",
      pattern: /^\/__emulator\/tokens\/personal\/?$/,
      doc: "PUT /__emulator/tokens/personal {tokens: string[]} — replace the accepted personal access tokens",
      handle({ res, body }) {
        const tokens = bodyObject(body).tokens;
        if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === "string" && t.length > 0)) {
          throw new EmulatorError(400, "tokens must be an array of non-empty strings");
        }
        state.setPersonalTokens(tokens as string[]);
        sendJson(res, 200, { count: tokens.length });
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/faults\/?$/,
      doc: "GET /__emulator/faults — the active faults",
      handle: ({ res }) => sendJson(res, 200, state.faults()),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/503\/?$/,
      doc: "POST /__emulator/faults/503 {seconds?, includeAuth?} — 503 on every /api call (and /connect/token if includeAuth)",
      handle({ res, body }) {
        const object = bodyObject(body);
        const includeAuth = object.includeAuth;
        if (includeAuth !== undefined && typeof includeAuth !== "boolean") {
          throw new EmulatorError(400, "includeAuth must be a boolean");
        }
        state.failWith503(numberField(object, "seconds", false), { includeAuth: includeAuth ?? false });
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/malformed\/?$/,
      doc: "POST /__emulator/faults/malformed {count} — the next count list calls return broken JSON with 200",
      handle({ res, body }) {
        state.malformedJson(numberField(bodyObject(body), "count", true) as number);
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/latency\/?$/,
      doc: "POST /__emulator/faults/latency {ms} — every SIEM call waits ms first (0 = off)",
      handle({ res, body }) {
        state.setLatency(numberField(bodyObject(body), "ms", true) as number);
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/hang\/?$/,
      doc: "POST /__emulator/faults/hang {count} — the next count SIEM calls are accepted and never answered",
      handle({ res, body }) {
        state.hang(numberField(bodyObject(body), "count", true) as number);
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/read-lag\/?$/,
      doc: "POST /__emulator/faults/read-lag {ms} — read calls show each later change ms after it happened (0 = at once)",
      handle({ res, body }) {
        state.setReadModelLag(numberField(bodyObject(body), "ms", true) as number);
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/incident\/?$/,
      doc: "POST /__emulator/faults/incident {id | key, calls?, status?: 500|403, malformed?, html?, count?} — one incident's calls fail",
      handle({ res, body }) {
        const { idOrKey, input } = incidentFaultFromJson(bodyObject(body));
        state.failIncident(idOrKey, input);
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/faults\/clear\/?$/,
      doc: "POST /__emulator/faults/clear — all faults off, read-model lag included",
      handle({ res }) {
        state.clearFaults();
        sendJson(res, 200, state.faults());
      },
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/generator\/?$/,
      doc: "POST /__emulator/generator {ratePerMinute, burstEvery?, burstSize?} — background incidents (0 = off)",
      handle({ res, body }) {
        const object = bodyObject(body);
        const rate = numberField(object, "ratePerMinute", true) as number;
        state.setGeneratorRate(
          rate,
          numberField(object, "burstEvery", false),
          numberField(object, "burstSize", false),
        );
        sendJson(res, 200, { ratePerMinute: rate });
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/stats\/?$/,
      doc: "GET /__emulator/stats — request counters by route",
      handle: ({ res }) => sendJson(res, 200, state.stats()),
    },
    {
      method: "POST",
      pattern: /^\/__emulator\/stats\/reset\/?$/,
      doc: "POST /__emulator/stats/reset — counters back to zero",
      handle({ res }) {
        state.resetStats();
        sendJson(res, 200, state.stats());
      },
    },
    {
      method: "GET",
      pattern: /^\/__emulator\/ca\.pem$/,
      doc: "GET /__emulator/ca.pem — the certificate to trust (TLS mode only)",
      handle({ res }) {
        if (!caCertPem)
          throw new EmulatorError(404, "The emulator runs without TLS; there is no certificate");
        sendRaw(res, 200, "application/x-pem-file", caCertPem);
      },
    },
  ];

  return async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> => {
    const method = (req.method ?? "GET").toUpperCase();
    const text = await readBody(req);
    let pathMatched = false;
    for (const route of routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        pathMatched = true;
        continue;
      }
      const params = m.slice(1).map((p) => decodeURIComponent(p));
      route.handle({ body: parseJsonBody(text), params, query, res });
      return;
    }
    if (pathMatched)
      throw new EmulatorError(405, `${method} is not allowed on ${path}; GET /__emulator lists the routes`);
    throw new EmulatorError(404, `Unknown control route ${method} ${path}; GET /__emulator lists the routes`);
  };
}
