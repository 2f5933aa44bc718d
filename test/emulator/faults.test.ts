import { generate as generateCertificate } from "selfsigned";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, runEmulatorCommand, startEmulator } from "../../src/emulator/index.js";
import { accessToken, call, listBody, login, manualClock } from "./helpers.js";

describe("faults", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 21, now: clock.now });
    emu.state.addBurst(3);
    token = await accessToken(emu);
  });
  afterEach(() => emu.state.clearFaults());
  afterAll(() => emu.close());

  const listCall = () => call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body: listBody() });

  it("503 for N seconds: every /api call gets an HTML 503, the control API and login keep working", async () => {
    emu.state.failWith503(30);
    const res = await listCall();
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.text).toContain("503");
    expect((await call(emu.coreUrl, "GET", "/api/statuses", { token })).status).toBe(503);
    expect((await call(emu.coreUrl, "GET", "/api/statuses")).status).toBe(503); // before auth, like a gateway
    expect((await login(emu)).status).toBe(200);
    const faults = await call(emu.coreUrl, "GET", "/__emulator/faults");
    expect(faults.status).toBe(200);
    expect((faults.json as { unavailableUntil: string }).unavailableUntil).toBe(
      "2024-03-12T06:00:30.0000000Z",
    );

    clock.advance(29_000);
    expect((await listCall()).status).toBe(503);
    clock.advance(2_000);
    expect((await listCall()).status).toBe(200);
  });

  it("503 until cleared, optionally on /connect/token too", async () => {
    emu.state.failWith503(undefined, { includeAuth: true });
    clock.advance(3_600_000);
    expect((await listCall()).status).toBe(503);
    const loginRes = await fetch(`${emu.authUrl}/connect/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=password",
    });
    expect(loginRes.status).toBe(503);
    emu.state.clearFaults();
    expect((await listCall()).status).toBe(200);
    expect((await login(emu)).status).toBe(200);
  });

  it("malformed JSON for the next N list calls only", async () => {
    emu.state.malformedJson(2);
    // Other routes are not affected and do not use up the count.
    expect((await call(emu.coreUrl, "GET", "/api/statuses", { token })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await listCall();
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(() => JSON.parse(res.text)).toThrow();
    }
    const ok = await listCall();
    expect((ok.json as { totalItems: number }).totalItems).toBe(3);
  });

  it("latency delays every SIEM call but not the control API", async () => {
    emu.state.setLatency(200);
    const started = performance.now();
    expect((await listCall()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect((await call(emu.coreUrl, "GET", "/__emulator/stats")).status).toBe(200);
    emu.state.setLatency(0);
    expect(emu.state.faults().latencyMs).toBe(0);
  });

  it("hang: the next N calls are accepted and never answered, then service resumes", async () => {
    emu.state.hang(2);
    await expect(
      call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body: listBody(), timeoutMs: 300 }),
    ).rejects.toThrow(/abort|timeout/i);
    await expect(
      fetch(`${emu.authUrl}/connect/token`, { method: "POST", signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow(/abort|timeout/i);
    expect(emu.state.faults().hangCalls).toBe(0);
    expect((await listCall()).status).toBe(200);
  });

  it("clearFaults turns everything off at once", async () => {
    emu.state.failWith503(60);
    emu.state.malformedJson(5);
    emu.state.setLatency(5_000);
    emu.state.hang(5);
    emu.state.setReadModelLag(10_000);
    emu.state.failIncident("INC-1", { status: 500 });
    emu.state.clearFaults();
    expect(emu.state.faults()).toEqual({
      unavailableUntil: null,
      unavailableIncludesAuth: false,
      malformedListCalls: 0,
      latencyMs: 0,
      hangCalls: 0,
      readModelLagMs: 0,
      pendingReadModelChanges: 0,
      incidentFaults: [],
    });
    expect((await listCall()).status).toBe(200);
  });

  it("the same faults are reachable through the control API", async () => {
    const post = (path: string, body?: unknown) => call(emu.coreUrl, "POST", path, { body: body ?? {} });
    expect((await post("/__emulator/faults/503", { seconds: 10 })).status).toBe(200);
    expect((await listCall()).status).toBe(503);
    expect((await post("/__emulator/faults/clear")).status).toBe(200);
    expect((await post("/__emulator/faults/malformed", { count: 1 })).status).toBe(200);
    expect((await listCall()).json).toBeUndefined();
    expect((await post("/__emulator/faults/latency", { ms: 150 })).status).toBe(200);
    const started = performance.now();
    await listCall();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect((await post("/__emulator/faults/latency", { ms: 0 })).status).toBe(200);
    expect((await post("/__emulator/faults/hang", { count: 1 })).status).toBe(200);
    await expect(
      call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body: listBody(), timeoutMs: 300 }),
    ).rejects.toThrow(/abort|timeout/i);
    expect((await post("/__emulator/faults/503", { seconds: -1 })).status).toBe(400);
    expect((await post("/__emulator/faults/hang", {})).status).toBe(400);
    expect((await listCall()).status).toBe(200);
  });

  it("close() returns promptly even with a hanging request open", async () => {
    const other = await startEmulator({ seed: 22 });
    other.state.hang(1);
    const pending = fetch(`${other.coreUrl}/api/statuses`, { signal: AbortSignal.timeout(5_000) }).catch(
      (error: unknown) => error,
    );
    // Wait (bounded) until the server has taken the request.
    for (let i = 0; i < 100 && other.state.faults().hangCalls > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    await other.close();
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("TLS mode", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 23, tls: true });
  });
  afterAll(() => emu.close());

  it("serves both listeners over https with a certificate the caller can trust", async () => {
    expect(emu.coreUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.authUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.caCertPem).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const trusting = new Agent({ connect: { ca: emu.caCertPem } });
    try {
      const tokenRes = await undiciFetch(`${emu.authUrl}/connect/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "username=siem&password=siem&client_id=mpx&client_secret=emulator-secret&grant_type=password&scope=mpx.api",
        dispatcher: trusting,
      });
      expect(tokenRes.status).toBe(200);
      const { access_token } = (await tokenRes.json()) as { access_token: string };
      const info = await undiciFetch(`${emu.coreUrl}/api/deployment_configuration/v1/system_info`, {
        headers: { Authorization: `Bearer ${access_token}` },
        dispatcher: trusting,
      });
      expect(info.status).toBe(200);
      const pem = await undiciFetch(`${emu.coreUrl}/__emulator/ca.pem`, { dispatcher: trusting });
      expect(await pem.text()).toBe(emu.caCertPem);
      // The certificate also names localhost.
      const viaName = await undiciFetch(
        `${emu.coreUrl.replace("127.0.0.1", "localhost")}/__emulator/faults`,
        {
          dispatcher: trusting,
        },
      );
      expect(viaName.status).toBe(200);
    } finally {
      await trusting.close();
    }
  });

  it("fails verification for a caller that does not trust the certificate", async () => {
    const strict = new Agent();
    try {
      const error = await undiciFetch(`${emu.coreUrl}/api/statuses`, { dispatcher: strict }).then(
        () => null,
        (e: unknown) => e as Error & { cause?: { code?: string } },
      );
      expect(error).not.toBeNull();
      expect(error?.cause?.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    } finally {
      await strict.close();
    }
  });

  it("the CLI runner says where to get the certificate", async () => {
    const lines: string[] = [];
    const running = await runEmulatorCommand({ seed: 25, tls: true, print: (line) => lines.push(line) });
    try {
      expect(lines).toHaveLength(4);
      expect(lines[0]).toBe(`MP SIEM emulator core API: ${running.coreUrl}`);
      expect(lines[3]).toContain(`${running.coreUrl}/__emulator/ca.pem`);
    } finally {
      await running.close();
    }
  });

  it("uses a caller-supplied certificate and key as given", async () => {
    const pems = await generateCertificate([{ name: "commonName", value: "localhost" }], {
      keyType: "ec",
      algorithm: "sha256",
    });
    const second = await startEmulator({ seed: 24, tls: { cert: pems.cert, key: pems.private } });
    const agent = new Agent({ connect: { ca: pems.cert } });
    try {
      expect(second.caCertPem).toBe(pems.cert);
      const res = await undiciFetch(`${second.coreUrl.replace("127.0.0.1", "localhost")}/__emulator/faults`, {
        dispatcher: agent,
      });
      expect(res.status).toBe(200);
    } finally {
      await agent.close();
      await second.close();
    }
  });
});
