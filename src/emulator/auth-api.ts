// The MP SIEM Management & Configuration listener (port 3334 on a real appliance): the
// IdentityServer-style token endpoint `POST /connect/token` (mpsiem-api.md §2.1, §8.1).
//
// Grants: password, refresh_token (one-time refresh tokens, a new pair each time),
// client_credentials. Quirks tolerated on purpose (§2.1): values are trimmed (S1's body ends in a
// space), any response_type is accepted, the Authorization header is ignored (S1 sends
// "Bearer undefined").
// Also the auth service's side of the cookie (UI) login (ui-login.ts). Every answer carries a
// `Date` header from the emulator's clock.

import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { sendError, UNAUTHORIZED_BODY } from "./core-api.js";
import { parseJsonBody, pathOf, readBody, sendJson, trackedDelay } from "./http-util.js";
import type { EmulatorState } from "./state.js";
import type { UiLoginRoutes } from "./ui-login.js";

export interface Account {
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
}

export interface AuthHandlerDeps {
  state: EmulatorState;
  account: Account;
  timers: Set<NodeJS.Timeout>;
  /** `/ui/login`, `/connect/authorize` and the login page. */
  ui: UiLoginRoutes;
}

/** Scope granted when the request names none (an assumption; IdentityServer grants the client's defaults). */
const DEFAULT_SCOPE = "authorization mpx.api ptkb.api";

const UNAVAILABLE_HTML =
  "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>503 Service Unavailable</h1></body></html>";

function normaliseScope(raw: string): string {
  const scopes = [...new Set(raw.split(/\s+/).filter(Boolean))].sort();
  return scopes.length > 0 ? scopes.join(" ") : DEFAULT_SCOPE;
}

function tokenError(res: ServerResponse, error: string, description?: string): void {
  sendJson(res, 400, description ? { error, error_description: description } : { error }, {
    "Cache-Control": "no-store",
    Pragma: "no-cache",
  });
}

const USERS_QUERY_RE = /^\/ptms\/api\/sso\/v1\/users\/query\/?$/i;
const USERS_QUERY_ROUTE = "POST /ptms/api/sso/v1/users/query";

/** The MP users query (§7.1, S2), Bearer-authenticated like Core; faults and latency apply as to any call. */
async function handleUsersQuery(
  state: EmulatorState,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const text = await readBody(req);
  if (method !== "POST") {
    sendJson(res, 405, { message: `The requested resource does not support http method '${method}'.` });
    return;
  }
  const header = req.headers.authorization ?? "";
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token || state.authenticateBearer(token) === null) {
    sendJson(res, 401, UNAUTHORIZED_BODY, { "WWW-Authenticate": "Bearer" });
    return;
  }
  sendJson(res, 200, state.users.query(parseJsonBody(text, {})));
}

export function createAuthHandler(deps: AuthHandlerDeps): RequestListener {
  return (req, res) => {
    res.setHeader("Date", deps.state.now().toUTCString());
    handleAuth(deps, req, res).catch((error: unknown) => sendError(res, error));
  };
}

async function handleAuth(deps: AuthHandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { state, account } = deps;
  const { path, query } = pathOf(req);
  const method = (req.method ?? "GET").toUpperCase();
  const isToken = /^\/connect\/token\/?$/i.test(path);
  const isUsersQuery = USERS_QUERY_RE.test(path);
  const uiRoute = isToken || isUsersQuery ? null : deps.ui.match(method, path);
  state.countRequest(
    isToken
      ? "POST /connect/token"
      : isUsersQuery
        ? USERS_QUERY_ROUTE
        : (uiRoute?.name ?? `${method} (unknown auth route)`),
  );
  res.on("finish", () => state.countResponse(res.statusCode));

  if (!isToken && !isUsersQuery && !uiRoute) {
    req.resume();
    sendJson(res, 404, {
      message: `The MP SIEM emulator's auth listener serves POST /connect/token and the UI login; not '${path}'`,
    });
    return;
  }
  if (state.takeHang()) {
    req.resume();
    return;
  }
  if (state.currentLatencyMs > 0) await trackedDelay(state.currentLatencyMs, deps.timers);
  if (state.isUnavailable("auth")) {
    req.resume();
    res.writeHead(503, { "Content-Type": "text/html; charset=utf-8" });
    res.end(UNAVAILABLE_HTML);
    return;
  }
  if (isUsersQuery) {
    await handleUsersQuery(state, method, req, res);
    return;
  }
  if (uiRoute) {
    await uiRoute.handle(req, res, query);
    return;
  }
  if (method !== "POST") {
    req.resume();
    sendJson(res, 405, { error: "invalid_request", error_description: "Use POST for /connect/token" });
    return;
  }
  const contentType = (req.headers["content-type"] ?? "").toLowerCase();
  const body = await readBody(req);
  if (!contentType.startsWith("application/x-www-form-urlencoded")) {
    tokenError(res, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    return;
  }

  const form = new URLSearchParams(body);
  const field = (name: string): string => (form.get(name) ?? "").trim();

  // IdentityServer checks the client before the grant.
  if (field("client_id") !== account.clientId || field("client_secret") !== account.clientSecret) {
    tokenError(res, "invalid_client");
    return;
  }

  const grantType = field("grant_type");
  let subject: string;
  let scope: string;
  switch (grantType) {
    case "password": {
      if (field("username") !== account.username || field("password") !== account.password) {
        tokenError(res, "invalid_grant", "invalid_username_or_password");
        return;
      }
      subject = account.username;
      scope = normaliseScope(field("scope"));
      break;
    }
    case "refresh_token": {
      const redeemed = state.redeemRefreshToken(field("refresh_token"));
      if (!redeemed) {
        tokenError(res, "invalid_grant", "invalid_refresh_token");
        return;
      }
      subject = redeemed.subject;
      scope = redeemed.scope;
      break;
    }
    case "client_credentials": {
      subject = `client:${account.clientId}`;
      // No user, so no offline access (RFC 6749 §4.4.3: no refresh token here).
      scope = normaliseScope(
        field("scope")
          .split(/\s+/)
          .filter((s) => s !== "offline_access")
          .join(" "),
      );
      break;
    }
    case "":
      tokenError(res, "invalid_request", "grant_type is required");
      return;
    default:
      tokenError(res, "unsupported_grant_type");
      return;
  }

  const withRefresh = scope.split(" ").includes("offline_access");
  const issued = state.issueTokens(subject, scope, withRefresh);
  sendJson(
    res,
    200,
    {
      access_token: issued.accessToken,
      expires_in: state.tokenTtlSeconds,
      token_type: "Bearer",
      ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
      scope,
    },
    { "Cache-Control": "no-store", Pragma: "no-cache" },
  );
}
