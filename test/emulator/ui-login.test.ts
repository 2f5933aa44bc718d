// The cookie (UI) login of mpsiem-api.md §2.3, walked step by step over real HTTP with a small
// cookie jar, as a browser-like client does it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { call } from "./helpers.js";

/** Cookies by name; the emulator's listeners share a host, so one jar serves both (cookies ignore ports). */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = (pair as string).indexOf("=");
      this.cookies.set((pair as string).slice(0, eq).trim(), (pair as string).slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

/** Follows redirects by hand so every Set-Cookie lands in the jar; returns the last answer and its URL. */
async function go(
  jar: Jar,
  url: string,
  init: { method?: string; body?: string; contentType?: string } = {},
): Promise<{ res: Response; url: string; text: string }> {
  let current = url;
  let method = init.method ?? "GET";
  let body = init.body;
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { cookie: jar.header() };
    if (init.contentType && body !== undefined) headers["content-type"] = init.contentType;
    const res = await fetch(current, {
      method,
      headers,
      redirect: "manual",
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    jar.take(res);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      current = new URL(location, current).toString();
      method = "GET";
      body = undefined;
      continue;
    }
    return { res, url: current, text: await res.text() };
  }
  throw new Error("too many redirects");
}

function formOf(html: string): { action: string; fields: URLSearchParams } {
  const action = /action=['"]([^'"]*)['"]/.exec(html)?.[1];
  if (!action) throw new Error(`no form in ${html}`);
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/name=['"]([^'"]*)['"] value=['"]([^'"]*)['"]/g)) {
    fields.set(m[1] as string, (m[2] as string).replace(/&#39;/g, "'").replace(/&amp;/g, "&"));
  }
  return { action: action.replace(/&amp;/g, "&"), fields };
}

describe("cookie (UI) login", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 95, username: "analyst", password: "S3cret-pass" });
  });
  afterAll(() => emu.close());

  const uiLogin = (jar: Jar, password: string) =>
    go(jar, `${emu.authUrl}/ui/login`, {
      method: "POST",
      contentType: "application/json",
      body: JSON.stringify({ authType: 0, username: "analyst", password, newPassword: null }),
    });

  it("login page → /ui/login → auto-submit form → /signin-oidc gives a session cookie that opens /api", async () => {
    const jar = new Jar();
    const landing = `${emu.coreUrl}/account/login?returnUrl=/`;
    // Before logging in, Core sends the client to the auth service's login page.
    const start = await go(jar, landing);
    expect(start.res.status).toBe(200);
    expect(new URL(start.url).origin).toBe(emu.authUrl);
    expect(start.text).not.toContain("<form");

    const login = await uiLogin(jar, "S3cret-pass");
    expect(login.res.status).toBe(200);
    expect(login.text).not.toContain('"requiredPasswordChange":true');
    expect(jar.has("idsrv")).toBe(true);

    // Now the same URL ends in an OIDC form_post page; posting it lands on Core's UI with a session.
    const formPage = await go(jar, landing);
    expect(formPage.res.status).toBe(200);
    expect(formPage.text).toContain("<form");
    const { action, fields } = formOf(formPage.text);
    expect(action).toBe(`${emu.coreUrl}/signin-oidc`);
    expect(fields.get("code")).toBeTruthy();
    const done = await go(jar, action, {
      method: "POST",
      contentType: "application/x-www-form-urlencoded",
      body: fields.toString(),
    });
    expect(done.res.status).toBe(200);
    expect(done.text).not.toContain("<form");
    expect(done.url).not.toContain("access_denied");
    expect(jar.has(".AspNetCore.Cookies")).toBe(true);

    const info = await fetch(`${emu.coreUrl}/api/deployment_configuration/v1/system_info`, {
      headers: { cookie: jar.header() },
    });
    expect(info.status).toBe(200);
    expect(((await info.json()) as { productVersion: string }).productVersion).toBe("26.1.7351");

    // The code is single-use.
    const replay = await go(jar, action, {
      method: "POST",
      contentType: "application/x-www-form-urlencoded",
      body: fields.toString(),
    });
    expect(replay.url).toContain("access_denied");

    // Expiring tokens ends the Core session too.
    emu.state.expireAllTokens();
    const after = await fetch(`${emu.coreUrl}/api/statuses`, { headers: { cookie: jar.header() } });
    expect(after.status).toBe(401);
  });

  it("a wrong password gives 400 with a message and no cookie", async () => {
    const jar = new Jar();
    const res = await uiLogin(jar, "wrong");
    expect(res.res.status).toBe(400);
    expect(JSON.parse(res.text)).toHaveProperty("message");
    expect(jar.has("idsrv")).toBe(false);
    // Without a session nothing on /api opens.
    expect((await call(emu.coreUrl, "GET", "/api/statuses")).status).toBe(401);
  });

  it("/connect/authorize refuses a redirect_uri that is not a /signin-oidc", async () => {
    const res = await fetch(
      `${emu.authUrl}/connect/authorize?redirect_uri=${encodeURIComponent("https://evil.invalid/x")}`,
      {
        redirect: "manual",
      },
    );
    expect(res.status).toBe(400);
  });
});
