import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type EmulatorIncident,
  HOSTILE_NAME,
  type RunningEmulator,
  runEmulatorCommand,
  SCENARIO_NAMES,
  startEmulator,
} from "../../src/emulator/index.js";
import { accessToken, call, list, listBody, manualClock, SEVEN_DIGITS } from "./helpers.js";

describe("control API", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  const control = (method: string, path: string, body?: unknown) =>
    call(emu.coreUrl, method, `/__emulator${path}`, body === undefined ? {} : { body });

  beforeAll(async () => {
    emu = await startEmulator({ seed: 31, now: clock.now });
  });
  afterAll(() => emu.close());

  it("lists its routes", async () => {
    const res = await control("GET", "");
    expect(res.status).toBe(200);
    const routes = (res.json as { routes: string[] }).routes;
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes.some((r) => r.startsWith("POST /__emulator/incidents/burst"))).toBe(true);
  });

  it("adds one incident with custom fields, including a late one", async () => {
    const res = await control("POST", "/incidents", {
      name: "Custom_rule",
      description: "Описание",
      severity: "Low",
      status: "InProgress",
      eventsCount: 4,
      created: "2024-03-11T10:00:00.1234567Z",
    });
    expect(res.status).toBe(201);
    const incident = res.json as EmulatorIncident;
    expect(incident).toMatchObject({
      key: "INC-1",
      name: "Custom_rule",
      description: "Описание",
      severity: "Low",
      status: "InProgress",
      eventsCount: 4,
      created: "2024-03-11T10:00:00.1234567Z",
    });
    const fetched = await control("GET", `/incidents/${incident.id}`);
    expect(fetched.json).toEqual(incident);
    expect((await control("GET", "/incidents/INC-1")).json).toEqual(incident);
    expect((await control("GET", "/incidents/INC-999")).status).toBe(404);

    const events = await control("GET", `/incidents/${incident.id}/events?offset=1&limit=2`);
    expect((events.json as unknown[]).length).toBe(2);
  });

  it("adds explicit events", async () => {
    const res = await control("POST", "/incidents", {
      events: [{ description: "first", date: "2024-03-12T05:59:00Z" }, { description: "second" }],
    });
    const incident = res.json as EmulatorIncident;
    expect(incident.eventsCount).toBe(2);
    const events = emu.state.eventsOf(incident.id);
    expect(events.map((e) => e.description)).toEqual(["first", "second"]);
    expect(events[0]?.date).toBe("2024-03-12T05:59:00.0000000Z");
  });

  it("adds a burst, keys in creation order", async () => {
    const before = emu.state.incidentCount;
    const res = await control("POST", "/incidents/burst", { count: 30, severity: "High" });
    expect(res.status).toBe(201);
    const incidents = (res.json as { incidents: EmulatorIncident[] }).incidents;
    expect(incidents).toHaveLength(30);
    expect(incidents.map((i) => i.key)).toEqual(
      Array.from({ length: 30 }, (_, i) => `INC-${before + i + 1}`),
    );
    expect(incidents.every((i) => i.severity === "High")).toBe(true);
    expect((await control("POST", "/incidents/burst", { count: -1 })).status).toBe(400);
    expect((await control("POST", "/incidents/burst", {})).status).toBe(400);
  });

  it("changes status as the SIEM UI would, with history, and refuses the same status", async () => {
    const { id } = emu.state.addIncident();
    clock.advance(1_000);
    const res = await control("POST", `/incidents/${id}/status`, { status: "Approved", comment: "через UI" });
    expect(res.status).toBe(200);
    const changed = res.json as EmulatorIncident;
    expect(changed.status).toBe("Approved");
    expect(changed.isConfirmed).toBe(true);
    expect(changed.modified > changed.created).toBe(true);
    const history = (await control("GET", `/incidents/${id}/transitions`)).json as Array<
      Record<string, unknown>
    >;
    expect(history).toEqual([
      expect.objectContaining({ prevStatus: "New", nextStatus: "Approved", comment: "через UI", via: "ui" }),
    ]);
    expect((await control("POST", `/incidents/${id}/status`, { status: "Approved" })).status).toBe(400);
    expect((await control("POST", `/incidents/${id}/status`, { status: "Gone" })).status).toBe(400);
    expect((await control("POST", "/incidents/nope/status", { status: "Closed" })).status).toBe(404);
  });

  it("lists everything in creation order", async () => {
    const res = await control("GET", "/incidents");
    const all = res.json as EmulatorIncident[];
    expect(all.length).toBe(emu.state.incidentCount);
    expect(all.map((i) => i.key)).toEqual(all.map((_, n) => `INC-${n + 1}`));
  });

  it("expires and revokes tokens, and replaces personal tokens", async () => {
    const token = await accessToken(emu);
    const probe = (t: string) => call(emu.coreUrl, "GET", "/api/statuses", { token: t });
    expect((await probe(token)).status).toBe(200);
    const expired = await control("POST", "/tokens/expire");
    expect((expired.json as { expired: number }).expired).toBeGreaterThanOrEqual(1);
    expect((await probe(token)).status).toBe(401);

    expect((await control("PUT", "/tokens/personal", { tokens: ["pat_abc"] })).status).toBe(200);
    expect((await probe("pat_abc")).status).toBe(200);
    expect((await control("PUT", "/tokens/personal", { tokens: "pat_abc" })).status).toBe(400);

    const second = await accessToken(emu);
    expect((await control("POST", "/tokens/revoke")).status).toBe(200);
    expect((await probe(second)).status).toBe(401);
  });

  it("counts SIEM requests by route, apart from control calls, and resets", async () => {
    expect((await control("POST", "/stats/reset")).status).toBe(200);
    const token = await accessToken(emu);
    await list(emu, token);
    await call(emu.coreUrl, "POST", "/api/v2/incidents", { token, body: listBody() });
    await call(emu.coreUrl, "GET", "/api/statuses");
    const stats = (await control("GET", "/stats")).json as {
      requests: Record<string, number>;
      responses: Record<string, number>;
      totalRequests: number;
      controlRequests: number;
    };
    expect(stats.requests).toEqual({
      "POST /connect/token": 1,
      "POST /api/v2/incidents": 2,
      "GET /api/statuses": 1,
    });
    expect(stats.responses).toEqual({ "200": 3, "401": 1 });
    expect(stats.totalRequests).toBe(4);
    expect(stats.controlRequests).toBe(1); // this GET /stats (the reset zeroed the counter)
  });

  it("answers unknown routes with 404, wrong methods with 405, bad bodies with 400, and ca.pem without TLS with 404", async () => {
    expect((await control("GET", "/nothing")).status).toBe(404);
    expect((await control("DELETE", "/incidents")).status).toBe(405);
    expect((await control("POST", "/incidents", { severity: 5 })).status).toBe(400);
    expect((await control("POST", "/incidents", "[1,2")).status).toBe(400);
    expect((await control("POST", "/incidents", { created: "not a date" })).status).toBe(400);
    expect((await control("GET", "/ca.pem")).status).toBe(404);
  });
});

describe("hostile incident", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 32 });
  });
  afterAll(() => emu.close());

  it("carries HTML/Markdown specials, a 5,000-character description, emoji and RTL text, over HTTP intact", async () => {
    const created = (await call(emu.coreUrl, "POST", "/__emulator/incidents/hostile", { body: {} }))
      .json as EmulatorIncident;
    expect(created.name).toBe(HOSTILE_NAME);
    for (const ch of ["<b>", "&", "_", "*", "["]) expect(created.name).toContain(ch);
    expect(Array.from(created.description)).toHaveLength(5000);
    expect(created.description).toMatch(/\p{Extended_Pictographic}/u);
    expect(created.description).toMatch(/[\u0590-\u05FF\u0600-\u06FF]/); // Hebrew / Arabic
    expect(created.description).toContain("\u202E"); // right-to-left override

    const token = await accessToken(emu);
    const details = (
      await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${created.id}`, { token })
    ).json as Record<string, string>;
    expect(details.name).toBe(created.name);
    expect(details.description).toBe(created.description);

    const events = (await call(emu.coreUrl, "GET", `/api/incidents/${created.id}/events`, { token }))
      .json as Array<{
      description: string;
    }>;
    expect(events.length).toBeGreaterThanOrEqual(5);
    const text = events.map((e) => e.description).join("\n");
    for (const ch of ["<", "&", "_", "*", "[", "\u202E"]) expect(text).toContain(ch);
    expect(text).toMatch(/\p{Extended_Pictographic}/u);
    expect(Math.max(...events.map((e) => Array.from(e.description).length))).toBe(5000);
  });
});

describe("deterministic generator", () => {
  async function generate(seed: number): Promise<{ incidents: EmulatorIncident[]; events: unknown[] }> {
    const clock = manualClock("2024-03-12T06:00:00Z");
    const emu = await startEmulator({ seed, now: clock.now });
    try {
      for (let i = 0; i < 20; i++) {
        emu.state.addIncident();
        clock.advance(1_234);
      }
      emu.state.addBurst(5);
      const incidents = emu.state.listAll();
      return { incidents, events: incidents.map((i) => emu.state.eventsOf(i.id)) };
    } finally {
      await emu.close();
    }
  }

  it("gives identical incidents and events for the same seed, different ones for another seed", async () => {
    const a = await generate(42);
    const b = await generate(42);
    const c = await generate(43);
    expect(b).toEqual(a);
    expect(c.incidents.map((i) => i.id)).not.toEqual(a.incidents.map((i) => i.id));
    expect(c.incidents.map((i) => i.name)).not.toEqual(a.incidents.map((i) => i.name));
  });

  it("produces plausible content: known rule names, three severities, 0–300 Russian events, 7-digit distinct times", async () => {
    const { incidents, events } = await generate(7);
    for (const incident of incidents) {
      expect(SCENARIO_NAMES).toContain(incident.name);
      expect(["High", "Medium", "Low"]).toContain(incident.severity);
      expect(incident.eventsCount).toBeGreaterThanOrEqual(0);
      expect(incident.eventsCount).toBeLessThanOrEqual(300);
      expect(incident.description).toMatch(/[а-яё]/i);
      for (const field of ["created", "detected", "modified"] as const)
        expect(incident[field]).toMatch(SEVEN_DIGITS);
      expect(incident.detected <= incident.created).toBe(true);
    }
    const created = incidents.map((i) => i.created);
    expect(new Set(created).size).toBe(created.length);
    expect([...created].sort()).toEqual(created);
    events.forEach((list, n) => {
      expect(list).toHaveLength(incidents[n]!.eventsCount);
    });
    expect(incidents.map((i) => i.key)).toEqual(incidents.map((_, n) => `INC-${n + 1}`));
  });

  it("a larger sample covers every scenario and severity", async () => {
    const emu = await startEmulator({ seed: 99 });
    try {
      const sample = emu.state.addBurst(300);
      expect(new Set(sample.map((i) => i.name))).toEqual(new Set(SCENARIO_NAMES));
      expect(new Set(sample.map((i) => i.severity))).toEqual(new Set(["High", "Medium", "Low"]));
      const counts = sample.map((i) => i.eventsCount);
      expect(counts.some((n) => n === 0)).toBe(true);
      expect(counts.some((n) => n > 150)).toBe(true);
    } finally {
      await emu.close();
    }
  });
});

describe("background generator and CLI runner", () => {
  it("generates incidents at ratePerMinute with bursts, and stops on close()", async () => {
    const emu = await startEmulator({ seed: 51, ratePerMinute: 3000, burstEvery: 2, burstSize: 5 }); // one per 20 ms
    try {
      const deadline = Date.now() + 5_000;
      while (emu.state.incidentCount < 12 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      // At least 2 generated incidents each followed by a burst of 5.
      expect(emu.state.incidentCount).toBeGreaterThanOrEqual(12);
    } finally {
      await emu.close();
    }
    const after = emu.state.incidentCount;
    await new Promise((r) => setTimeout(r, 120));
    expect(emu.state.incidentCount).toBe(after);
  });

  it("the generator can be switched on and off through the control API", async () => {
    const emu = await startEmulator({ seed: 52 });
    try {
      const on = await call(emu.coreUrl, "POST", "/__emulator/generator", { body: { ratePerMinute: 6000 } });
      expect(on.status).toBe(200);
      const deadline = Date.now() + 5_000;
      while (emu.state.incidentCount < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(emu.state.incidentCount).toBeGreaterThanOrEqual(3);
      await call(emu.coreUrl, "POST", "/__emulator/generator", { body: { ratePerMinute: 0 } });
      const stopped = emu.state.incidentCount;
      await new Promise((r) => setTimeout(r, 100));
      expect(emu.state.incidentCount).toBe(stopped);
      expect(
        (await call(emu.coreUrl, "POST", "/__emulator/generator", { body: { ratePerMinute: -1 } })).status,
      ).toBe(400);
    } finally {
      await emu.close();
    }
  });

  it("runEmulatorCommand prints one line per listener and the account", async () => {
    const lines: string[] = [];
    const emu = await runEmulatorCommand({
      seed: 53,
      username: "analyst",
      print: (line) => lines.push(line),
    });
    try {
      expect(lines).toEqual([
        `MP SIEM emulator core API: ${emu.coreUrl}`,
        `MP SIEM emulator auth: ${emu.authUrl}`,
        "account: analyst / siem, client secret emulator-secret",
      ]);
      const res = await fetch(`${emu.authUrl}/connect/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "grant_type=password&username=analyst&password=siem&client_id=mpx&client_secret=emulator-secret",
      });
      expect(res.status).toBe(200);
    } finally {
      await emu.close();
    }
  });

  it("names the busy port when it cannot listen", async () => {
    const first = await startEmulator({ seed: 54 });
    try {
      const port = Number(new URL(first.coreUrl).port);
      await expect(startEmulator({ port })).rejects.toThrow(new RegExp(`port ${port}.*in use`));
      await expect(startEmulator({ port: 70_000 })).rejects.toThrow(/port must be an integer/);
    } finally {
      await first.close();
    }
  });
});
