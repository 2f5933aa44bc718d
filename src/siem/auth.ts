// Bearer tokens for MP SIEM: a personal access token as is, or an OAuth password grant at
// `${authUrl}/connect/token`, renewed (refresh grant first) before it runs out. One renewal at a
// time: concurrent callers wait on the same promise instead of logging in in parallel.

import type { SiemConfig } from "../config/types.js";
import { errorMessageOf, parseJson, parseTokenResponse, type TokenGrant } from "./parse.js";
import { SiemError } from "./types.js";

/** The scope MP SIEM tools ask for; `offline_access` brings a refresh token. */
const SCOPE = "authorization offline_access mpx.api ptkb.api";
const RESPONSE_TYPE = "code id_token";
/** Renew when this share of a token's lifetime has passed. */
const RENEW_AT_SHARE = 0.8;
/** Assumed lifetime when the token answer has no `expires_in` (real SIEMs say 86400). */
const DEFAULT_LIFETIME_SEC = 3600;

/** POSTs a form to `${authUrl}/connect/token`; returns status and body text, or throws SiemError (network/timeout/tls). */
export type TokenPoster = (call: string, form: URLSearchParams) => Promise<{ status: number; body: string }>;

export interface AuthLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

interface HeldToken {
  accessToken: string;
  refreshToken: string | null;
  renewAt: number;
}

export interface TokenSource {
  /** A token to send now: the held one while it is fresh, else a renewed one. */
  current(): Promise<string>;
  /** After a 401 with `rejected`: drop it (unless another caller already replaced it) and get a new one. */
  renewAfterRejection(rejected: string): Promise<string>;
  /** True for a personal access token, which cannot be renewed. */
  readonly isStatic: boolean;
}

export function createTokenSource(options: {
  config: SiemConfig;
  post: TokenPoster;
  now: () => number;
  logger: AuthLogger;
  redact: (text: string) => string;
}): TokenSource {
  const { config, post, now, logger, redact } = options;

  if (config.token) {
    const token = config.token;
    return {
      isStatic: true,
      current: async () => token,
      renewAfterRejection: async () => token,
    };
  }

  let held: HeldToken | null = null;
  let renewal: Promise<string> | null = null;

  function baseForm(grantType: string): URLSearchParams {
    const form = new URLSearchParams({ grant_type: grantType, client_id: config.clientId });
    if (config.clientSecret) form.set("client_secret", config.clientSecret);
    form.set("scope", SCOPE);
    form.set("response_type", RESPONSE_TYPE);
    return form;
  }

  async function requestToken(call: string, form: URLSearchParams, refreshing: boolean): Promise<TokenGrant> {
    const answer = await post(call, form);
    if (answer.status >= 200 && answer.status < 300) {
      const json = parseJson(answer.body);
      const grant = json.ok ? parseTokenResponse(json.value) : null;
      if (grant === null) {
        throw new SiemError(
          "malformed",
          call,
          "the token endpoint answered without an access_token",
          answer.status,
        );
      }
      return grant;
    }
    const reason = redact(errorMessageOf(answer.body, 200));
    if (answer.status >= 500) {
      throw new SiemError(
        "server",
        call,
        `the token endpoint failed with HTTP ${answer.status}: ${reason}`,
        answer.status,
      );
    }
    if (!refreshing && (answer.status === 400 || answer.status === 401 || answer.status === 403)) {
      throw credentialsError(call, answer.status, reason);
    }
    throw new SiemError(
      "http",
      call,
      `the token endpoint answered HTTP ${answer.status}: ${reason}`,
      answer.status,
    );
  }

  function credentialsError(call: string, status: number, reason: string): SiemError {
    const hint = /invalid_client/i.test(reason)
      ? "check MPSIEM_CLIENT_ID and MPSIEM_CLIENT_SECRET"
      : /invalid_username_or_password/i.test(reason)
        ? "check MPSIEM_USERNAME and MPSIEM_PASSWORD"
        : "check MPSIEM_USERNAME/MPSIEM_PASSWORD and MPSIEM_CLIENT_SECRET";
    return new SiemError(
      "credentials",
      call,
      `the SIEM refused the login (HTTP ${status}${reason ? `, ${reason}` : ""}); ${hint}`,
      status,
    );
  }

  async function passwordLogin(): Promise<TokenGrant> {
    if (!config.username || !config.password) {
      throw new SiemError(
        "credentials",
        "login",
        "no way to log in: set MPSIEM_USERNAME and MPSIEM_PASSWORD (with MPSIEM_CLIENT_SECRET), or MPSIEM_TOKEN",
      );
    }
    const form = baseForm("password");
    form.set("username", config.username);
    form.set("password", config.password);
    return requestToken("login", form, false);
  }

  async function refreshGrant(refreshToken: string): Promise<TokenGrant> {
    const form = baseForm("refresh_token");
    form.set("refresh_token", refreshToken);
    return requestToken("refresh token", form, true);
  }

  function hold(grant: TokenGrant, obtainedAt: number, how: string): string {
    const lifetimeSec = grant.expiresInSec ?? DEFAULT_LIFETIME_SEC;
    held = {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      renewAt: obtainedAt + lifetimeSec * 1000 * RENEW_AT_SHARE,
    };
    logger.debug({ how, lifetimeSec, refreshable: grant.refreshToken !== null }, "MP SIEM token obtained");
    return grant.accessToken;
  }

  async function renew(allowRefresh: boolean): Promise<string> {
    const refreshToken = allowRefresh ? held?.refreshToken : null;
    const startedAt = now();
    if (refreshToken) {
      try {
        return hold(await refreshGrant(refreshToken), startedAt, "refresh");
      } catch (error) {
        const kind = error instanceof SiemError ? error.kind : "unknown";
        logger.warn({ kind }, "MP SIEM token refresh failed; logging in with the password");
      }
    }
    return hold(await passwordLogin(), startedAt, "password");
  }

  function startRenewal(allowRefresh: boolean): Promise<string> {
    if (renewal === null) {
      renewal = renew(allowRefresh).finally(() => {
        renewal = null;
      });
    }
    return renewal;
  }

  return {
    isStatic: false,
    async current() {
      if (renewal) return renewal;
      if (held && now() < held.renewAt) return held.accessToken;
      return startRenewal(true);
    },
    async renewAfterRejection(rejected) {
      if (renewal) return renewal;
      if (held && held.accessToken !== rejected) return held.accessToken;
      // A rejected token's refresh token may still be good (the SIEM revokes access tokens on its own);
      // if the refresh grant fails too, renew() falls back to the password.
      if (held) held = { ...held, renewAt: Number.NEGATIVE_INFINITY };
      return startRenewal(true);
    },
  };
}
