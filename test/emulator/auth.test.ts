import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { accessToken, call, listBody, login, manualClock } from "./helpers.js";

const S1_PASSWORD = "SI3M-P@$$w0rd";

describe("emulator auth: POST /connect/token", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;

  beforeAll(async () => {
    emu = await startEmulator({
      seed: 1,
      now: clock.now,
      password: S1_PASSWORD,
      tokenTtlSec: 600,
      personalTokens: ["pat_123456789"],
    });
    emu.state.addIncident();
  });
  afterAll(() => emu.close());

  const systemInfo = (token: string | null) =>
    call(emu.coreUrl, "GET", "/api/deployment_configuration/v1/system_info", { token });

  it("accepts the seed's hand-built body: quoted password, trailing space, Bearer undefined header", async () => {
    // Byte for byte what S1 sends (§8.1): only the password is URL-quoted, and the body ends in a space.
    const body =
      "username=siem&password=SI3M-P%40%24%24w0rd&client_id=mpx&client_secret=emulator-secret" +
      "&grant_type=password&response_type=code%20id_token&scope=authorization%20offline_access%20mpx.api%20ptkb.api ";
    const res = await fetch(`${emu.authUrl}/connect/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Bearer undefined" },
      body,
    });
    expect(res.status).toBe(200);
    const token = (await res.json()) as Record<string, unknown>;
    expect(token.token_type).toBe("Bearer");
    expect(token.expires_in).toBe(600);
    expect(token.scope).toBe("authorization mpx.api offline_access ptkb.api");
    expect(typeof token.access_token).toBe("string");
    expect(typeof token.refresh_token).toBe("string");
    expect((await systemInfo(token.access_token as string)).status).toBe(200);
  });

  it("accepts any response_type and trims padded values", async () => {
    const { status } = await login(emu, {
      username: "  siem ",
      password: `${S1_PASSWORD} `,
      response_type: "id_token",
      scope: "mpx.api",
    });
    expect(status).toBe(200);
  });

  it("gives no refresh token without offline_access", async () => {
    const { status, body } = await login(emu, {
      password: S1_PASSWORD,
      scope: "authorization mpx.api ptkb.api",
    });
    expect(status).toBe(200);
    expect(body.refresh_token).toBeUndefined();
    expect(body.scope).toBe("authorization mpx.api ptkb.api");
  });

  it("answers a wrong password or user with 400 invalid_username_or_password", async () => {
    for (const fields of [{ password: "wrong" }, { username: "nobody", password: S1_PASSWORD }]) {
      const res = await fetch(`${emu.authUrl}/connect/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          username: "siem",
          client_id: "mpx",
          client_secret: "emulator-secret",
          grant_type: "password",
          ...fields,
        }).toString(),
      });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain("invalid_username_or_password"); // what S1 and S15 look for
      expect(JSON.parse(text)).toEqual({
        error: "invalid_grant",
        error_description: "invalid_username_or_password",
      });
    }
  });

  it("answers a wrong client secret or client id with 400 invalid_client", async () => {
    const wrongClients: Array<Record<string, string>> = [{ client_secret: "nope" }, { client_id: "ptkb" }];
    for (const fields of wrongClients) {
      const { status, body } = await login(emu, { password: S1_PASSWORD, ...fields });
      expect(status).toBe(400);
      expect(body).toEqual({ error: "invalid_client" });
    }
  });

  it("refuses a JSON body and an unknown grant type", async () => {
    const json = await fetch(`${emu.authUrl}/connect/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "siem", password: S1_PASSWORD }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe("invalid_request");

    const { status, body } = await login(emu, { password: S1_PASSWORD, grant_type: "implicit" });
    expect(status).toBe(400);
    expect(body.error).toBe("unsupported_grant_type");
  });

  it("refresh_token grant returns a new pair; the old refresh token is single-use", async () => {
    const first = await login(emu, { password: S1_PASSWORD });
    const refresh = first.body.refresh_token as string;
    const second = await login(emu, {
      grant_type: "refresh_token",
      refresh_token: refresh,
      username: "",
      password: "",
    });
    expect(second.status).toBe(200);
    expect(second.body.access_token).not.toBe(first.body.access_token);
    expect(typeof second.body.refresh_token).toBe("string");
    expect(second.body.refresh_token).not.toBe(refresh);
    expect((await systemInfo(second.body.access_token as string)).status).toBe(200);

    const reused = await login(emu, { grant_type: "refresh_token", refresh_token: refresh });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe("invalid_grant");
  });

  it("client_credentials returns a working access token without a refresh token", async () => {
    const { status, body } = await login(emu, {
      grant_type: "client_credentials",
      username: "",
      password: "",
      scope: "authorization mpx.api ptkb.api offline_access",
    });
    expect(status).toBe(200);
    expect(body.refresh_token).toBeUndefined();
    expect((await systemInfo(body.access_token as string)).status).toBe(200);
  });

  it("tokens expire after tokenTtlSec by the injected clock", async () => {
    const { body } = await login(emu, { password: S1_PASSWORD });
    const token = body.access_token as string;
    clock.advance(599_000);
    expect((await systemInfo(token)).status).toBe(200);
    clock.advance(2_000);
    expect((await systemInfo(token)).status).toBe(401);
  });

  it("expireAllTokens turns issued tokens into 401s, while their refresh tokens still work", async () => {
    const { body } = await login(emu, { password: S1_PASSWORD });
    expect((await systemInfo(body.access_token as string)).status).toBe(200);
    expect(emu.state.expireAllTokens()).toBeGreaterThan(0);
    expect((await systemInfo(body.access_token as string)).status).toBe(401);
    const refreshed = await login(emu, {
      grant_type: "refresh_token",
      refresh_token: body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    expect((await systemInfo(refreshed.body.access_token as string)).status).toBe(200);
  });

  it("accepts configured personal access tokens, and only those", async () => {
    expect((await systemInfo("pat_123456789")).status).toBe(200);
    expect((await systemInfo("pat_000")).status).toBe(401);
    emu.state.setPersonalTokens([]);
    expect((await systemInfo("pat_123456789")).status).toBe(401);
    emu.state.setPersonalTokens(["pat_123456789"]);
  });
});

describe("emulator core: 401 for /api without a valid Bearer", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 2 });
    emu.state.addIncident();
  });
  afterAll(() => emu.close());

  it("answers no token, 'Bearer None' and an unknown token with the ASP.NET 401 body and WWW-Authenticate", async () => {
    const id = emu.state.listAll()[0]!.id;
    const attempts: Array<[string, string, Record<string, string>]> = [
      ["POST", "/api/v2/incidents/", {}],
      ["POST", "/api/v2/incidents/", { Authorization: "Bearer None" }],
      ["GET", `/api/incidents/${id}/events`, { Authorization: "Bearer not-a-token" }],
      ["GET", `/api/incidentsReadModel/incidents/${id}`, { Authorization: "Basic c2llbTpzaWVt" }],
      ["GET", "/api/statuses", {}],
    ];
    for (const [method, path, headers] of attempts) {
      const res = await fetch(`${emu.coreUrl}${path}`, {
        method,
        headers: { "Content-Type": "application/json", ...headers },
        ...(method === "POST" ? { body: JSON.stringify(listBody()) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(await res.json()).toEqual({ message: "Authorization has been denied for this request." });
    }
  });

  it("lets the same call through with a token from the default account", async () => {
    const token = await accessToken(emu);
    const res = await call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body: listBody() });
    expect(res.status).toBe(200);
    expect((res.json as { totalItems: number }).totalItems).toBe(1);
  });
});
