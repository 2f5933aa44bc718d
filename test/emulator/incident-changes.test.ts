// Events that correlation adds to an existing incident, incidents dated in the future, and the
// SIEM's own clock in the Date header.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { accessToken, call, list, login, manualClock, SEVEN_DIGITS } from "./helpers.js";

describe("events added to an existing incident", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 71, now: clock.now });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  const events = async (id: string, query = "") =>
    (await call(emu.coreUrl, "GET", `/api/incidents/${id}/events${query}`, { token })).json as Array<{
      id: string;
      date: string;
      description: string;
    }>;
  const count = async (id: string) =>
    (
      (await call(emu.coreUrl, "GET", `/api/incidents/${id}/events/count`, { token })).json as {
        count: number;
      }
    ).count;
  const addEvents = (idOrKey: string, body: unknown) =>
    call(emu.coreUrl, "POST", `/__emulator/incidents/${idOrKey}/events`, { body });
  const modifiedWindow = (from: string, key: string) =>
    list(emu, token, { filterTimeType: "lastModification", timeFrom: from, where: `key = "${key}"` });

  it("touchModified: true — new events come first, the count grows, and modified moves", async () => {
    const incident = emu.state.addIncident({ eventsCount: 3 });
    const firstEvents = await events(incident.id);
    clock.advance(120_000);
    const since = clock.now().toISOString();
    expect((await modifiedWindow(since, incident.key)).totalItems).toBe(0);

    const res = await addEvents(incident.key, { count: 2, touchModified: true });
    expect(res.status).toBe(200);
    const after = res.json as { eventsCount: number; modified: string };
    expect(after.eventsCount).toBe(5);
    expect(after.modified >= since.replace("Z", "")).toBe(true);

    expect(await count(incident.id)).toBe(5);
    const all = await events(incident.id);
    expect(all).toHaveLength(5);
    // Newest first: the two new ones, dated now, then the incident's own, unchanged.
    expect(all.slice(2)).toEqual(firstEvents);
    for (const e of all.slice(0, 2)) {
      expect(e.date).toBe("2024-03-12T06:02:00.0000000Z");
      expect(e.description).toMatch(/[а-яё]/i);
    }
    expect(new Set(all.map((e) => e.id)).size).toBe(5);
    expect(await events(incident.id, "?offset=1&limit=2")).toEqual(all.slice(1, 3));

    const listed = await modifiedWindow(since, incident.key);
    expect(listed.totalItems).toBe(1);
    const details = await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${incident.id}`, {
      token,
    });
    expect((details.json as { modified: string }).modified).toBe(after.modified);
    expect(after.modified).toMatch(SEVEN_DIGITS);
  });

  it("touchModified: false — events and count change, modified does not, so lastModification does not list it", async () => {
    const incident = emu.state.addIncident({ eventsCount: 0 });
    clock.advance(120_000);
    const since = clock.now().toISOString();
    const res = await addEvents(incident.id, {
      touchModified: false,
      events: [{ description: "Второе" }, { description: "Первое", date: "2024-03-12T06:03:30Z" }],
    });
    expect(res.status).toBe(200);
    expect((res.json as { modified: string }).modified).toBe(incident.modified);
    expect(await count(incident.id)).toBe(2);
    const all = await events(incident.id);
    expect(all.map((e) => e.description)).toEqual(["Второе", "Первое"]);
    expect(all[1]?.date).toBe("2024-03-12T06:03:30.0000000Z");
    expect((await modifiedWindow(since, incident.key)).totalItems).toBe(0);
  });

  it("refuses a body without touchModified, or with both count and events, or an unknown incident", async () => {
    const incident = emu.state.addIncident();
    expect((await addEvents(incident.key, { count: 1 })).status).toBe(400);
    expect(
      (await addEvents(incident.key, { count: 1, events: [{ description: "x" }], touchModified: true }))
        .status,
    ).toBe(400);
    expect((await addEvents(incident.key, { count: 0, touchModified: true })).status).toBe(400);
    expect((await addEvents("INC-999999", { count: 1, touchModified: true })).status).toBe(404);
  });
});

describe("incidents dated in the future", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 72, now: clock.now });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("takes createdOffsetMs or an absolute time, filters them like any other, and keeps later incidents in the present", async () => {
    const before = emu.state.addIncident();
    const relative = await call(emu.coreUrl, "POST", "/__emulator/incidents", {
      body: { createdOffsetMs: 3 * 3_600_000 },
    });
    expect(relative.status).toBe(201);
    const ahead = relative.json as { key: string; created: string; modified: string };
    expect(ahead.created.startsWith("2024-03-12T09:00:00.000")).toBe(true);
    expect(ahead.modified).toBe(ahead.created);
    const absolute = emu.state.addIncident({ created: "2024-03-13T00:00:00Z" });

    // Later incidents made "now" get the present, not a time after the future-dated ones.
    clock.advance(1_000);
    const after = emu.state.addIncident();
    expect(after.created.startsWith("2024-03-12T06:00:01.000")).toBe(true);
    expect(after.created > before.created).toBe(true);

    // A window ending now does not see them; one reaching into the future does.
    const now = await list(emu, token, { timeFrom: "2024-03-12T00:00:00Z", timeTo: "2024-03-12T06:00:02Z" });
    expect(now.incidents.map((i) => i.key).sort()).toEqual([before.key, after.key].sort());
    const future = await list(emu, token, {
      timeFrom: "2024-03-12T08:59:59Z",
      timeTo: "2024-03-13T00:00:00Z",
    });
    expect(future.incidents.map((i) => i.key)).toEqual([absolute.key, ahead.key]);
    // Default order (created, descending): the future ones first.
    expect((await list(emu, token, { timeFrom: null })).incidents.slice(0, 2).map((i) => i.key)).toEqual([
      absolute.key,
      ahead.key,
    ]);
  });

  it("refuses created together with createdOffsetMs", async () => {
    const res = await call(emu.coreUrl, "POST", "/__emulator/incidents", {
      body: { created: "2024-03-12T06:00:00Z", createdOffsetMs: 1000 },
    });
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/not both/);
  });
});

describe("the SIEM's clock in the Date header", () => {
  const clock = manualClock("2031-07-04T10:20:30.250Z");
  let emu: RunningEmulator;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 73, now: clock.now });
  });
  afterAll(() => emu.close());

  it("every Core, control and auth answer carries the emulator's time, not the host's", async () => {
    const token = await accessToken(emu);
    const expected = "Fri, 04 Jul 2031 10:20:30 GMT";
    const answers = [
      await call(emu.coreUrl, "GET", "/api/statuses", { token }),
      await call(emu.coreUrl, "GET", "/api/statuses"), // 401
      await call(emu.coreUrl, "GET", "/api/nothing-here", { token }), // 404
      await call(emu.coreUrl, "GET", "/__emulator/faults"),
    ];
    for (const res of answers) expect(res.headers.get("date")).toBe(expected);
    const tokenRes = await fetch(`${emu.authUrl}/connect/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=password",
    });
    expect(tokenRes.status).toBe(400);
    expect(tokenRes.headers.get("date")).toBe(expected);

    clock.advance(3_600_000);
    const later = await call(emu.coreUrl, "GET", "/api/statuses", { token });
    expect(later.headers.get("date")).toBe("Fri, 04 Jul 2031 11:20:30 GMT");
    emu.state.failWith503();
    expect((await call(emu.coreUrl, "GET", "/api/statuses", { token })).headers.get("date")).toBe(
      "Fri, 04 Jul 2031 11:20:30 GMT",
    );
    emu.state.clearFaults();
    expect((await login(emu)).status).toBe(200);
  });
});
