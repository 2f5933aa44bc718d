// Per-incident faults: only the chosen incident's calls fail; every other incident keeps working.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { accessToken, call, manualClock } from "./helpers.js";

describe("per-incident faults", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  let token: string;
  let broken: { id: string; key: string };
  let healthy: { id: string; key: string };

  beforeAll(async () => {
    emu = await startEmulator({ seed: 81, now: clock.now });
    broken = emu.state.addIncident({ eventsCount: 3 });
    healthy = emu.state.addIncident({ eventsCount: 3 });
    token = await accessToken(emu);
  });
  afterEach(() => emu.state.clearFaults());
  afterAll(() => emu.close());

  const get = (path: string) => call(emu.coreUrl, "GET", path, { token });
  const fault = (body: unknown) => call(emu.coreUrl, "POST", "/__emulator/faults/incident", { body });
  const paths = (id: string) => ({
    details: `/api/incidentsReadModel/incidents/${id}`,
    events: `/api/incidents/${id}/events`,
    eventsCount: `/api/incidents/${id}/events/count`,
    history: `/api/incidentsReadModel/incidents/${id}/transitions`,
    issues: `/api/incidents/${id}/issues`,
  });

  it("500 with a JSON body on the chosen calls of one incident, until cleared", async () => {
    const res = await fault({ key: broken.key, calls: ["details", "events"], status: 500 });
    expect(res.status).toBe(200);
    expect((res.json as { incidentFaults: unknown[] }).incidentFaults).toEqual([
      {
        incidentId: broken.id,
        key: broken.key,
        calls: ["details", "events"],
        status: 500,
        malformed: false,
        html: false,
        remaining: "until cleared",
      },
    ]);
    for (let i = 0; i < 3; i++) {
      const details = await get(paths(broken.id).details);
      expect(details.status).toBe(500);
      expect(details.headers.get("content-type")).toContain("application/json");
      expect(details.json).toEqual({ message: "An error has occurred." });
      expect((await get(paths(broken.id).events)).status).toBe(500);
    }
    // Calls not named keep working for that incident …
    expect((await get(paths(broken.id).eventsCount)).json).toEqual({ count: 3 });
    expect((await get(paths(broken.id).history)).status).toBe(200);
    // … and every call keeps working for the others.
    for (const path of Object.values(paths(healthy.id))) expect((await get(path)).status, path).toBe(200);
    const listed = await call(emu.coreUrl, "POST", "/api/v2/incidents/", {
      token,
      body: { filter: { select: ["key"] }, timeFrom: null },
    });
    expect(listed.status).toBe(200);

    expect((await call(emu.coreUrl, "POST", "/__emulator/faults/clear", { body: {} })).status).toBe(200);
    expect((await get(paths(broken.id).details)).status).toBe(200);
  });

  it("403 with an HTML page, for a count of calls, by id; a faulted transition changes nothing", async () => {
    expect(
      (await fault({ id: broken.id, calls: ["transitions"], status: 403, html: true, count: 2 })).status,
    ).toBe(200);
    const put = () =>
      call(emu.coreUrl, "PUT", `/api/incidents/${broken.id}/transitions`, {
        token,
        body: { id: "Approved", measures: "", message: "" },
      });
    const first = await put();
    expect(first.status).toBe(403);
    expect(first.headers.get("content-type")).toContain("text/html");
    expect(first.text).toContain("403 Forbidden");
    expect(emu.state.get(broken.id)?.status).toBe("New");
    expect(emu.state.faults().incidentFaults[0]?.remaining).toBe(1);
    expect((await get(paths(broken.id).history)).status).toBe(403);
    expect(emu.state.faults().incidentFaults).toEqual([]);
    expect((await put()).status).toBe(204);
    expect(emu.state.get(broken.id)?.status).toBe("Approved");
  });

  it("malformed: 200 with a truncated JSON body; with no calls named, every incident call", async () => {
    expect((await fault({ key: healthy.key, malformed: true, count: 6 })).status).toBe(200);
    for (const path of Object.values(paths(healthy.id))) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(() => JSON.parse(res.text), path).toThrow();
    }
    expect((await get(paths(broken.id).details)).status).toBe(200);
  });

  it("the fault hits the ≤R23 paths too, and comes after auth", async () => {
    emu.state.failIncident(broken.key, { calls: ["details", "history"], status: 500 });
    expect((await get(`/api/incidents/${broken.id}`)).status).toBe(500);
    expect((await get(`/api/incidents/${broken.id}/transitions`)).status).toBe(500);
    expect((await call(emu.coreUrl, "GET", `/api/incidents/${broken.id}`)).status).toBe(401);
  });

  it("refuses unknown incidents, calls and statuses", async () => {
    expect((await fault({ key: "INC-404404", status: 500 })).status).toBe(404);
    expect((await fault({ key: broken.key, calls: ["everything"] })).status).toBe(400);
    expect((await fault({ key: broken.key, status: 502 })).status).toBe(400);
    expect((await fault({ calls: ["details"] })).status).toBe(400);
    expect((await fault({ key: broken.key, count: 0 })).status).toBe(400);
  });
});
