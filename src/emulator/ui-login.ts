// The cookie (UI) login of mpsiem-api.md §2.3 and §8.8, as tools such as mpsiemlib (S2) walk it:
//
//   1. GET  core/account/login?returnUrl=…   → 302 to auth/connect/authorize (OIDC, form_post)
//      GET  auth/connect/authorize            → without a login cookie: 302 to auth/account/login (the login page)
//   2. POST auth/ui/login {authType, username, password, newPassword}
//                                             → 200 {"requiredPasswordChange":false} + the login cookie; 400 if wrong
//   3. GET  core/account/login again          → 302 to auth/connect/authorize → 200 an auto-submit HTML form
//      POST core/signin-oidc (the form)       → Core's session cookie + 302 to the return URL (GET / = the UI page)
//   4. /api/... with Core's session cookie works like a Bearer token.
//
// The page texts, cookie names and the form's fields are modelled on IdentityServer/ASP.NET
// defaults; only the steps and the substrings clients test for (`<form`, `name='…' value='…'`,
// `"requiredPasswordChange":true`, `access_denied`) come from the reference.

import type { IncomingMessage, ServerResponse } from "node:http";
import { parseJsonBody, readBody, sendJson, sendRaw } from "./http-util.js";
import type { EmulatorState } from "./state.js";

/** Core's session cookie after `/signin-oidc`. */
export const CORE_SESSION_COOKIE = ".AspNetCore.Cookies";
/** The auth service's login cookie after `/ui/login`. */
export const LOGIN_SESSION_COOKIE = "idsrv";

export interface UiRoute {
  /** The key in stats().requests. */
  name: string;
  handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void>;
}

export interface UiLoginRoutes {
  match(method: string, path: string): UiRoute | null;
}

/** The value of cookie `name` in the request, or null. */
export function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function escapeAttribute(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/'/g, "&#39;")
    .replace(/"/g, "&quot;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(302, {
    Location: location,
    "Content-Length": 0,
    ...(cookie ? { "Set-Cookie": cookie } : {}),
  });
  res.end();
}

function sessionCookie(name: string, value: string, secure: boolean): string {
  return `${name}=${value}; path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

/** The origin a client used to reach this listener (its Host header), e.g. https://siem.local. */
function originOf(req: IncomingMessage, scheme: "http" | "https"): string {
  return `${scheme}://${req.headers.host ?? "127.0.0.1"}`;
}

const UI_PAGE =
  "<!DOCTYPE html><html><head><meta charset='utf-8'><title>MaxPatrol 10 (emulator)</title></head>" +
  "<body><div id='root'>MP SIEM emulator: the web UI is not emulated.</div></body></html>";
const LOGIN_PAGE =
  "<!DOCTYPE html><html><head><meta charset='utf-8'><title>MaxPatrol 10 — вход (emulator)</title></head>" +
  "<body><div id='login'>Log in with POST /ui/login.</div></body></html>";

function route(name: string, handle: UiRoute["handle"]): UiRoute {
  return { name, handle };
}

/** Core's part: `/account/login`, `/signin-oidc` and the UI page `/`. */
export function createCoreUiRoutes(deps: {
  state: EmulatorState;
  scheme: "http" | "https";
  /** e.g. https://127.0.0.1:3334, known once the auth listener listens. */
  authOrigin: () => string;
}): UiLoginRoutes {
  const secure = deps.scheme === "https";
  const accountLogin = route("GET /account/login", async (req, res, query) => {
    req.resume();
    const returnUrl = query.get("returnUrl") ?? query.get("ReturnUrl") ?? "/";
    const authorize = new URL("/connect/authorize", deps.authOrigin());
    authorize.searchParams.set("client_id", "mpx");
    authorize.searchParams.set("redirect_uri", `${originOf(req, deps.scheme)}/signin-oidc`);
    authorize.searchParams.set("response_type", "code id_token");
    authorize.searchParams.set("scope", "openid profile mpx.api");
    authorize.searchParams.set("response_mode", "form_post");
    authorize.searchParams.set("state", returnUrl);
    redirect(res, authorize.toString());
  });
  const signIn = route("POST /signin-oidc", async (req, res) => {
    const form = new URLSearchParams(await readBody(req));
    const sessionId = deps.state.redeemAuthorizationCode(form.get("code") ?? "");
    if (!sessionId) {
      // What an OIDC client does with a bad or reused code: back to the start, refused.
      redirect(res, "/#/authorization/landing?error=access_denied");
      return;
    }
    const state = form.get("state") ?? "/";
    const target = state.startsWith("/") && !state.startsWith("//") ? state : "/";
    redirect(res, target, sessionCookie(CORE_SESSION_COOKIE, sessionId, secure));
  });
  const page = route("GET /", async (req, res) => {
    req.resume();
    sendRaw(res, 200, "text/html; charset=utf-8", UI_PAGE);
  });
  return {
    match(method, path) {
      if (method === "GET" && /^\/account\/login\/?$/i.test(path)) return accountLogin;
      if (method === "POST" && /^\/signin-oidc\/?$/i.test(path)) return signIn;
      if (method === "GET" && (path === "/" || path === "/index.html")) return page;
      return null;
    },
  };
}

/** The auth service's part: `/ui/login`, `/connect/authorize` and its login page `/account/login`. */
export function createAuthUiRoutes(deps: {
  state: EmulatorState;
  scheme: "http" | "https";
  account: { username: string; password: string };
}): UiLoginRoutes {
  const secure = deps.scheme === "https";
  const uiLogin = route("POST /ui/login", async (req, res) => {
    const body = parseJsonBody(await readBody(req));
    const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
    const username = typeof fields.username === "string" ? fields.username.trim() : "";
    const password = typeof fields.password === "string" ? fields.password : "";
    if (username !== deps.account.username || password !== deps.account.password) {
      // S14 reads 400 as bad credentials; S9 reads any JSON `message` as an error.
      sendJson(res, 400, { message: "Invalid username or password" });
      return;
    }
    const session = deps.state.startLoginSession(username);
    sendJson(
      res,
      200,
      { requiredPasswordChange: false },
      {
        "Set-Cookie": sessionCookie(LOGIN_SESSION_COOKIE, session, secure),
      },
    );
  });
  const authorize = route("GET /connect/authorize", async (req, res, query) => {
    req.resume();
    const redirectUri = query.get("redirect_uri") ?? "";
    let target: URL | null = null;
    try {
      target = new URL(redirectUri);
    } catch {
      target = null;
    }
    if (!target || !/^https?:$/.test(target.protocol) || !/\/signin-oidc\/?$/i.test(target.pathname)) {
      sendJson(res, 400, {
        error: "invalid_request",
        error_description: "redirect_uri must be Core's /signin-oidc",
      });
      return;
    }
    const loginId = cookieValue(req, LOGIN_SESSION_COOKIE);
    const subject = loginId ? deps.state.loginSessionSubject(loginId) : null;
    if (!subject) {
      const back = `/connect/authorize?${query.toString()}`;
      redirect(res, `/account/login?ReturnUrl=${encodeURIComponent(back)}`);
      return;
    }
    const fields: Array<[string, string]> = [
      ["code", deps.state.issueAuthorizationCode(subject)],
      ["scope", query.get("scope") ?? "openid profile"],
      ["state", query.get("state") ?? ""],
      ["session_state", loginId?.slice(0, 16) ?? ""],
    ];
    // IdentityServer's form_post page: single quotes, name before value, and a script that submits it.
    const inputs = fields
      .map(([name, value]) => `<input type='hidden' name='${name}' value='${escapeAttribute(value)}' />`)
      .join("");
    sendRaw(
      res,
      200,
      "text/html; charset=utf-8",
      `<html><head><base target='_self'/></head><body><form method='post' action='${escapeAttribute(target.toString())}'>` +
        `${inputs}<noscript><button>Click to continue</button></noscript></form>` +
        "<script>window.addEventListener('load', function(){document.forms[0].submit();});</script></body></html>",
    );
  });
  const loginPage = route("GET /account/login", async (req, res) => {
    req.resume();
    sendRaw(res, 200, "text/html; charset=utf-8", LOGIN_PAGE);
  });
  return {
    match(method, path) {
      if (method === "POST" && /^\/ui\/login\/?$/i.test(path)) return uiLogin;
      if (method === "GET" && /^\/connect\/authorize\/?$/i.test(path)) return authorize;
      if (method === "GET" && /^\/account\/login\/?$/i.test(path)) return loginPage;
      return null;
    },
  };
}
