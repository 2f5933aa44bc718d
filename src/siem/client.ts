// The MP SIEM client: the only code that talks to the SIEM. It logs in, pages through incident
// lists, reads details and events, changes status, and turns every failure into a SiemError.
// It also keeps the SIEM's clock, as told by the Date header of its answers.

import { setTimeout as sleep } from "node:timers/promises";
import type { SiemConfig } from "../config/types.js";
import { redactSecrets } from "../log/logger.js";
import { createTokenSource } from "./auth.js";
import {
  errorMessageOf,
  type IncidentPage,
  parseEventCount,
  parseEvents,
  parseIncidentDetails,
  parseIncidentPage,
  parseJson,
  parseSystemInfo,
  parseTransitionHistory,
  parseUsers,
} from "./parse.js";
import { formatSiemTime } from "./time.js";
import { createAgent, exchange, type HttpAnswer, type HttpCall } from "./transport.js";
import {
  type IncidentDetails,
  type IncidentEvents,
  type IncidentQuery,
  type IncidentQueryPage,
  type IncidentSummary,
  type ListIncidentsQuery,
  type SiemClient,
  SiemError,
  type SiemErrorKind,
  type SiemUser,
  type SystemInfo,
  type TransitionEntry,
  type TransitionTarget,
} from "./types.js";
import { updateBodyOf } from "./update-body.js";

/** Pino-compatible: the client always calls `(fields, message)`. */
export interface SiemLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface SiemClientOptions {
  config: SiemConfig;
  logger?: SiemLogger;
  /** Retries of read calls; transitions are never retried blindly. */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  connectTimeoutMs?: number;
  /** Incidents per list page, at most 1000 (the SIEM's cap). */
  pageSize?: number;
  /** Local clock: token lifetimes, and the time passed since the SIEM last said what time it is. */
  now?: () => number;
}

const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 500, maxDelayMs: 5_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_PAGE_SIZE = 500;
const MAX_PAGE_SIZE = 1000;
const MAX_EVENTS_PER_CALL = 1000;
/** A server that keeps sending full pages and no total would page forever; stop well past any real window. */
const MAX_PAGES = 1000;
/** Kinds worth another try of a read call (an `unauthorized` already had its re-login). */
const RETRIED_KINDS: ReadonlySet<SiemErrorKind> = new Set(["network", "timeout", "server", "malformed"]);
/** Failures after which a transition may or may not have happened. */
const UNCLEAR_KINDS: ReadonlySet<SiemErrorKind> = new Set(["network", "timeout", "server"]);
/** The select every MP SIEM version accepts (others gave 400/500 on R27.6); `id` and `severity` come anyway. */
const LIST_SELECT = ["key", "name", "category", "type", "status", "created", "assigned"];
const USER_AGENT = "mpsiem-telegram";
const MAX_REMEMBERED_TOKENS = 16;
/** Key lookups search from here: before any MP SIEM 10 incident, so every incident is found by its key. */
const KEY_LOOKUP_FROM = new Date("2000-01-01T00:00:00.000Z");
/** INC- and 1 to 12 digits (no leading zero): the only key shape that goes into a filter expression. */
const INCIDENT_KEY = /^INC-([1-9][0-9]{0,11})$/;

/** `inc-12` → `INC-12`; null for anything else. */
export function canonicalIncidentKey(key: string): string | null {
  const upper = key.trim().toUpperCase();
  return INCIDENT_KEY.test(upper) ? upper : null;
}

const silentLogger: SiemLogger = { debug() {}, info() {}, warn() {}, error() {} };

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function clampInt(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

function asSiemError(error: unknown, call: string): SiemError {
  if (error instanceof SiemError) return error;
  // Only a bug can get here; keep the contract (SiemError only) and keep the cause for the logs.
  return new SiemError("http", call, "unexpected failure inside the SIEM client", undefined, {
    cause: error,
  });
}

export function createSiemClient(opts: SiemClientOptions): SiemClient {
  const { config } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  const retry = { ...DEFAULT_RETRY, ...opts.retry };
  const attempts = Math.max(1, Math.floor(retry.attempts));
  const defaultPageSize = clampInt(opts.pageSize ?? DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const coreUrl = withoutTrailingSlash(config.url);
  const authUrl = withoutTrailingSlash(config.authUrl);
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

  // Tokens we were issued are secrets too; they join the configured ones. The list is rebuilt
  // (a new array) whenever it changes: redactSecrets caches its work per array.
  const issuedTokens = new Set<string>();
  let secrets: string[] = [];
  function rebuildSecrets(): void {
    secrets = [config.password, config.clientSecret, config.token, ...issuedTokens].filter(
      (secret): secret is string => typeof secret === "string" && secret.length > 0,
    );
  }
  rebuildSecrets();
  /** The project's one redaction routine; short secrets are hidden only as whole words. */
  function redact(text: string): string {
    return redactSecrets(text, secrets);
  }

  const agent = createAgent(config, connectTimeoutMs);
  const transportOptions = { config, connectTimeoutMs, redact };
  let closed = false;
  /** The SIEM's clock from the latest answer's Date header, and the local time that answer arrived. */
  let siemClock: { siemMs: number; localMs: number } | null = null;

  async function send(httpCall: HttpCall): Promise<HttpAnswer> {
    if (closed) throw new SiemError("network", httpCall.call, "the SIEM client is closed");
    const answer = await exchange(agent, httpCall, transportOptions);
    const siemMs = answer.date === null ? Number.NaN : Date.parse(answer.date);
    if (Number.isFinite(siemMs)) siemClock = { siemMs, localMs: now() };
    return answer;
  }

  const tokens = createTokenSource({
    config,
    now,
    logger,
    redact,
    post: async (call, form) => {
      const answer = await send({
        call,
        method: "POST",
        url: `${authUrl}/connect/token`,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "user-agent": USER_AGENT,
        },
        body: form.toString(),
      });
      if (answer.status >= 200 && answer.status < 300) {
        const json = parseJson(answer.body);
        const value = json.ok ? (json.value as Record<string, unknown> | null) : null;
        for (const field of ["access_token", "refresh_token"]) {
          const token = value?.[field];
          if (typeof token === "string" && token.length > 0) issuedTokens.add(token);
        }
        // Only recent tokens can still show up anywhere; keep the set small over a long run.
        for (const stale of issuedTokens) {
          if (issuedTokens.size <= MAX_REMEMBERED_TOKENS) break;
          issuedTokens.delete(stale);
        }
        rebuildSecrets();
      }
      return answer;
    },
  });

  /** A Core API call with a bearer token; on 401 logs in again once and repeats the call. */
  async function api(
    call: string,
    method: HttpCall["method"],
    path: string,
    json?: unknown,
    baseUrl: string = coreUrl,
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": USER_AGENT };
    if (json !== undefined) headers["content-type"] = "application/json";
    const body = json === undefined ? undefined : JSON.stringify(json);
    const attempt = (token: string) =>
      send({
        call,
        method,
        url: `${baseUrl}${path}`,
        headers: { ...headers, authorization: `Bearer ${token}` },
        body,
      });

    const token = await tokens.current();
    const first = await attempt(token);
    if (first.status !== 401) return first;
    if (tokens.isStatic) {
      throw new SiemError(
        "credentials",
        call,
        "the SIEM refused MPSIEM_TOKEN (HTTP 401); check that the personal access token is valid and not expired",
        401,
      );
    }
    logger.info({ call }, "MP SIEM rejected the token; logging in again");
    const second = await attempt(await tokens.renewAfterRejection(token));
    if (second.status === 401) {
      throw new SiemError(
        "unauthorized",
        call,
        "HTTP 401 even with a fresh token; check that the SIEM account may use the API",
        401,
      );
    }
    return second;
  }

  /** Throws the SiemError an unwanted status means; `notFound` marks calls about one incident id. */
  function requireSuccess(call: string, answer: HttpAnswer, notFound = false): void {
    const { status } = answer;
    if (status >= 200 && status < 300) return;
    const reason = redact(errorMessageOf(answer.body));
    const suffix = reason ? `: ${reason}` : "";
    if (status === 404 && notFound)
      throw new SiemError("not_found", call, `no such incident${suffix}`, status);
    if (status === 403) throw forbidden(call, suffix);
    if (status >= 500)
      throw new SiemError("server", call, `the SIEM failed with HTTP ${status}${suffix}`, status);
    throw new SiemError("http", call, `unexpected HTTP ${status}${suffix}`, status);
  }

  function forbidden(call: string, suffix: string): SiemError {
    // Logged in fine, but this account may not do this (often: may not see this incident).
    return new SiemError(
      "forbidden",
      call,
      `the SIEM refused access (HTTP 403)${suffix}; check the rights of the SIEM account in MP SIEM`,
      403,
    );
  }

  function readJson(call: string, answer: HttpAnswer): unknown {
    const json = parseJson(answer.body);
    if (!json.ok) throw new SiemError("malformed", call, "the SIEM answered with something that is not JSON");
    return json.value;
  }

  async function withRetry<T>(call: string, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const failure = asSiemError(error, call);
        if (closed || attempt >= attempts || !RETRIED_KINDS.has(failure.kind)) throw failure;
        const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        // Half fixed, half random: spreads retries from several callers without ever retrying at once.
        const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
        logger.warn(
          { call, kind: failure.kind, attempt, delayMs, error: failure.message },
          "MP SIEM call failed; retrying",
        );
        await sleep(delayMs);
      }
    }
  }

  async function fetchIncidentPage(
    query: ListIncidentsQuery,
    offset: number,
    limit: number,
  ): Promise<IncidentPage> {
    const call = "list incidents";
    const answer = await api(call, "POST", "/api/v2/incidents/", {
      offset,
      limit,
      groups: { filterType: "no_filter" },
      timeFrom: formatSiemTime(query.from),
      timeTo: query.to ? formatSiemTime(query.to) : null,
      filterTimeType: query.timeType,
      filter: {
        select: LIST_SELECT,
        orderby: [{ field: "created", sortOrder: "ascending" }],
      },
      queryIds: ["all_incidents"],
    });
    requireSuccess(call, answer);
    const page = parseIncidentPage(readJson(call, answer));
    if (page === null) throw new SiemError("malformed", call, "the answer has no `incidents` array");
    for (const note of page.notes)
      logger.warn({ call, offset, index: note.index }, `MP SIEM list item ${note.problem}`);
    return page;
  }

  async function listIncidents(query: ListIncidentsQuery): Promise<IncidentSummary[]> {
    const call = "list incidents";
    if (Number.isNaN(query.from.getTime()) || (query.to && Number.isNaN(query.to.getTime()))) {
      throw new SiemError("http", call, "invalid query: `from`/`to` is not a valid date");
    }
    const limit = query.pageSize === undefined ? defaultPageSize : clampInt(query.pageSize, 1, MAX_PAGE_SIZE);
    // Items can shift between pages while new incidents arrive; the id map keeps each one once.
    const byId = new Map<string, IncidentSummary>();
    let offset = 0;
    for (let pageNumber = 1; ; pageNumber++) {
      const page = await withRetry(call, () => fetchIncidentPage(query, offset, limit));
      for (const incident of page.incidents) if (!byId.has(incident.id)) byId.set(incident.id, incident);
      offset += page.itemCount;
      if (page.itemCount < limit) break;
      if (page.totalItems !== null && offset >= page.totalItems) break;
      if (pageNumber >= MAX_PAGES) {
        logger.warn(
          { call, pages: pageNumber, incidents: byId.size },
          "MP SIEM list paging stopped at the page limit",
        );
        break;
      }
    }
    return [...byId.values()].sort((a, b) => a.created.getTime() - b.created.getTime());
  }

  function incidentPath(id: string): string {
    return `/api/incidents/${encodeURIComponent(id)}`;
  }

  async function getIncident(id: string): Promise<IncidentDetails> {
    const call = "incident details";
    return withRetry(call, async () => {
      const answer = await api(call, "GET", `/api/incidentsReadModel/incidents/${encodeURIComponent(id)}`);
      requireSuccess(call, answer, true);
      const details = parseIncidentDetails(readJson(call, answer), id);
      if (details === null) throw new SiemError("malformed", call, "the answer is not an incident object");
      return details;
    });
  }

  async function countEvents(id: string): Promise<number> {
    const call = "count events";
    return withRetry(call, async () => {
      const answer = await api(call, "GET", `${incidentPath(id)}/events/count`);
      requireSuccess(call, answer, true);
      const count = parseEventCount(readJson(call, answer));
      if (count === null) throw new SiemError("malformed", call, "the answer has no `count`");
      return count;
    });
  }

  async function countEventsIfPossible(id: string): Promise<number | null> {
    const call = "count events";
    try {
      return await countEvents(id);
    } catch (error) {
      // The count only adds "and N more"; the events themselves still matter.
      logger.warn({ call, kind: asSiemError(error, call).kind }, "MP SIEM event count unavailable");
      return null;
    }
  }

  async function getEvents(id: string, limit: number): Promise<IncidentEvents> {
    const call = "incident events";
    const wanted = clampInt(limit, 0, MAX_EVENTS_PER_CALL);
    const eventsPromise =
      wanted === 0
        ? Promise.resolve([])
        : withRetry(call, async () => {
            const answer = await api(call, "GET", `${incidentPath(id)}/events?limit=${wanted}&offset=0`);
            requireSuccess(call, answer, true);
            const events = parseEvents(readJson(call, answer));
            if (events === null)
              throw new SiemError("malformed", call, "the answer is not an array of events");
            return events.slice(0, wanted);
          });
    const [events, count] = await Promise.all([eventsPromise, countEventsIfPossible(id)]);
    return { events, total: Math.max(events.length, count ?? 0) };
  }

  async function transition(
    id: string,
    target: TransitionTarget,
    comment: { measures: string; message: string },
  ): Promise<void> {
    const call = "transition";
    try {
      const answer = await api(call, "PUT", `${incidentPath(id)}/transitions`, {
        id: target,
        measures: comment.measures,
        message: comment.message,
      });
      const { status } = answer;
      if (status >= 200 && status < 300) return;
      const reason = redact(errorMessageOf(answer.body));
      if (status === 404)
        throw new SiemError("not_found", call, `no such incident${reason ? `: ${reason}` : ""}`, status);
      if (status === 403) throw forbidden(call, reason ? `: ${reason}` : "");
      if (status >= 400 && status < 500) {
        throw new SiemError(
          "refused",
          call,
          reason || `the SIEM refused the change to ${target} (HTTP ${status})`,
          status,
        );
      }
      requireSuccess(call, answer);
    } catch (error) {
      const failure = asSiemError(error, call);
      if (!UNCLEAR_KINDS.has(failure.kind) || closed) throw failure;
      // The change may have been applied before the failure: the incident's status tells.
      logger.warn({ call, kind: failure.kind }, "MP SIEM transition result unclear; re-reading the incident");
      const status = await getIncident(id).then(
        (incident) => incident.status,
        () => null,
      );
      if (status === target) return;
      throw failure;
    }
  }

  async function systemInfo(): Promise<SystemInfo> {
    const call = "system info";
    return withRetry(call, async () => {
      const answer = await api(call, "GET", "/api/deployment_configuration/v1/system_info");
      requireSuccess(call, answer);
      const info = parseSystemInfo(readJson(call, answer));
      if (info === null) throw new SiemError("malformed", call, "the answer is not a system info object");
      return info;
    });
  }

  // --- Working an incident (issue 14): users, assignment, history ---

  async function findUser(login: string): Promise<SiemUser | null> {
    const call = "users query";
    const wanted = login.trim().toLowerCase();
    if (wanted === "") return null;
    const users = await withRetry(call, async () => {
      // The body S2 sends: every auth type and status; roles are not needed (§7.1).
      const answer = await api(
        call,
        "POST",
        "/ptms/api/sso/v1/users/query",
        { authTypes: [1, 0], statuses: ["active", "blocked"], withoutRoles: true },
        authUrl,
      );
      requireSuccess(call, answer);
      const parsed = parseUsers(readJson(call, answer));
      if (parsed === null) throw new SiemError("malformed", call, "the answer has no `items` array");
      return parsed;
    });
    return users.find((u) => u.userName.toLowerCase() === wanted) ?? null;
  }

  async function assign(id: string, userId: string | null): Promise<void> {
    const call = "assign";
    // The update takes the full editable incident (§6.3): read it raw, send it back with `assigned` set.
    const raw = await withRetry(call, async () => {
      const answer = await api(call, "GET", `/api/incidentsReadModel/incidents/${encodeURIComponent(id)}`);
      requireSuccess(call, answer, true);
      const json = readJson(call, answer);
      if (typeof json !== "object" || json === null || Array.isArray(json))
        throw new SiemError("malformed", call, "the answer is not an incident object");
      return json as Record<string, unknown>;
    });
    const body = updateBodyOf(raw, userId);
    // Setting the same assignee twice is harmless, so a failed attempt may be repeated.
    await withRetry(call, async () => {
      const answer = await api(call, "PUT", incidentPath(id), body);
      const { status } = answer;
      if (status >= 200 && status < 300) return;
      const reason = redact(errorMessageOf(answer.body));
      if (status === 404)
        throw new SiemError("not_found", call, `no such incident${reason ? `: ${reason}` : ""}`, status);
      if (status === 403) throw forbidden(call, reason ? `: ${reason}` : "");
      if (status >= 400 && status < 500)
        throw new SiemError(
          "refused",
          call,
          reason || `the SIEM refused the assignment (HTTP ${status})`,
          status,
        );
      requireSuccess(call, answer);
    });
  }

  async function transitionHistory(id: string): Promise<TransitionEntry[]> {
    const call = "transition history";
    return withRetry(call, async () => {
      const answer = await api(
        call,
        "GET",
        `/api/incidentsReadModel/incidents/${encodeURIComponent(id)}/transitions`,
      );
      requireSuccess(call, answer, true);
      const history = parseTransitionHistory(readJson(call, answer));
      if (history === null) throw new SiemError("malformed", call, "the answer is not an array");
      return history;
    });
  }

  /**
   * The incident with this key (`INC-123`), found through the list call's `key = "…"` filter over all
   * time, then read in full; null when the SIEM has none. Only the `INC-<digits>` shape is sent: the key
   * goes into a filter expression. Read calls are retried like the others.
   */
  async function findIncidentByKey(key: string): Promise<IncidentDetails | null> {
    const call = "find incident by key";
    const canonical = canonicalIncidentKey(key);
    if (canonical === null) {
      throw new SiemError("http", call, "invalid key: expected INC- and a number, e.g. INC-123");
    }
    const found = await withRetry(call, async () => {
      const answer = await api(call, "POST", "/api/v2/incidents/", {
        offset: 0,
        // Two, not one: a second match would mean the filter was not applied, and is then checked below.
        limit: 2,
        groups: { filterType: "no_filter" },
        timeFrom: formatSiemTime(KEY_LOOKUP_FROM),
        timeTo: null,
        filterTimeType: "creation",
        filter: {
          select: LIST_SELECT,
          where: `key = "${canonical}"`,
          orderby: [{ field: "created", sortOrder: "descending" }],
        },
        queryIds: ["all_incidents"],
      });
      requireSuccess(call, answer);
      const page = parseIncidentPage(readJson(call, answer));
      if (page === null) throw new SiemError("malformed", call, "the answer has no `incidents` array");
      return page.incidents.find((item) => item.key.trim().toUpperCase() === canonical);
    });
    if (found === undefined) return null;
    try {
      return await getIncident(found.id);
    } catch (error) {
      // Deleted between the two calls.
      if (error instanceof SiemError && error.kind === "not_found") return null;
      throw error;
    }
  }

  async function queryIncidents(query: IncidentQuery): Promise<IncidentQueryPage> {
    const call = "query incidents";
    if (Number.isNaN(query.from.getTime()) || (query.to && Number.isNaN(query.to.getTime()))) {
      throw new SiemError("http", call, "invalid query: `from`/`to` is not a valid date");
    }
    return withRetry(call, async () => {
      const answer = await api(call, "POST", "/api/v2/incidents/", {
        offset: Math.max(0, Math.floor(query.offset)),
        limit: clampInt(query.limit, 1, MAX_PAGE_SIZE),
        groups: { filterType: "no_filter" },
        timeFrom: formatSiemTime(query.from),
        timeTo: query.to ? formatSiemTime(query.to) : null,
        filterTimeType: "creation",
        filter: {
          select: LIST_SELECT,
          where: query.where,
          orderby: [{ field: "created", sortOrder: query.order ?? "descending" }],
        },
        queryIds: ["all_incidents"],
      });
      requireSuccess(call, answer);
      const page = parseIncidentPage(readJson(call, answer));
      if (page === null) throw new SiemError("malformed", call, "the answer has no `incidents` array");
      for (const note of page.notes)
        logger.warn({ call, offset: query.offset, index: note.index }, `MP SIEM list item ${note.problem}`);
      return { incidents: page.incidents, totalItems: page.totalItems };
    });
  }

  function guarded<A extends unknown[], R>(call: string, fn: (...args: A) => Promise<R>) {
    return async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (error) {
        throw asSiemError(error, call);
      }
    };
  }

  return {
    listIncidents: guarded("list incidents", listIncidents),
    getIncident: guarded("incident details", getIncident),
    getEvents: guarded("incident events", getEvents),
    countEvents: guarded("count events", countEvents),
    transition: guarded("transition", transition),
    systemInfo: guarded("system info", systemInfo),
    findUser: guarded("users query", findUser),
    assign: guarded("assign", assign),
    transitionHistory: guarded("transition history", transitionHistory),
    findIncidentByKey: guarded("find incident by key", findIncidentByKey),
    queryIncidents: guarded("query incidents", queryIncidents),
    siemNow() {
      return siemClock === null ? null : siemClock.siemMs + (now() - siemClock.localMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      await agent.destroy().catch(() => undefined);
    },
  };
}
