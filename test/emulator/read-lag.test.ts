// Read-model lag: the SIEM's read calls show a change only some time after it happened (by the
// emulator's clock), while the write side checks against the true state at once.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { accessToken, call, fullUpdateBody, list, manualClock } from "./helpers.js";

describe("read-model lag", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 61, now: clock.now, readModelLagMs: 5_000 });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  const details = async (id: string) => {
    const res = await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}`, { token });
    expect(res.status).toBe(200);
    return res.json as Record<string, unknown>;
  };
  const history = async (id: string) =>
    (await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}/transitions`, { token }))
      .json as unknown[];
  const transition = (id: string, target: string) =>
    call(emu.coreUrl, "PUT", `/api/incidents/${id}/transitions`, {
      token,
      body: { id: target, measures: "m", message: "c" },
    });

  it("an API transition answers 204 at once and shows in details, list and history only after the lag", async () => {
    const incident = emu.state.addIncident({ eventsCount: 1 });
    const before = await details(incident.id);
    clock.advance(1_000);

    const put = await transition(incident.id, "Approved");
    expect(put.status).toBe(204);
    // The write side knows at once.
    expect(emu.state.get(incident.id)?.status).toBe("Approved");

    clock.advance(4_999);
    const stale = await details(incident.id);
    expect(stale.status).toBe("New");
    expect(stale.isConfirmed).toBe(false);
    expect(stale.modified).toBe(before.modified);
    expect(await history(incident.id)).toEqual([]);
    const listed = await list(emu, token, { where: `key = "${incident.key}"` });
    expect(listed.incidents[0]?.status).toBe("New");
    expect(listed.incidents[0]?.isConfirmed).toBe(false);
    expect((await list(emu, token, { where: 'status = "Approved"' })).totalItems).toBe(0);

    clock.advance(1);
    const fresh = await details(incident.id);
    expect(fresh.status).toBe("Approved");
    expect(fresh.isConfirmed).toBe(true);
    expect(fresh.modified).not.toBe(before.modified);
    expect(await history(incident.id)).toHaveLength(1);
    expect((await list(emu, token, { where: `key = "${incident.key}"` })).incidents[0]?.status).toBe(
      "Approved",
    );
  });

  it("checks a transition against the true status, not the lagging one", async () => {
    const incident = emu.state.addIncident();
    expect((await transition(incident.id, "Approved")).status).toBe(204);
    // Reads still say New, but moving to Approved again is refused: it already is.
    expect((await details(incident.id)).status).toBe("New");
    const again = await transition(incident.id, "Approved");
    expect(again.status).toBe(400);
    expect((again.json as { message: string }).message).toMatch(/already in status Approved/);
    // And a move away from the true status works although reads never showed it.
    expect((await transition(incident.id, "InProgress")).status).toBe(204);
    clock.advance(5_000);
    expect((await details(incident.id)).status).toBe("InProgress");
    expect(await history(incident.id)).toHaveLength(2);
  });

  it("a change made in the SIEM UI (control route) lags too, also for lastModification windows", async () => {
    const incident = emu.state.addIncident();
    clock.advance(60_000);
    const changedAt = clock.now().toISOString();
    const ui = await call(emu.coreUrl, "POST", `/__emulator/incidents/${incident.key}/status`, {
      body: { status: "Closed", comment: "UI" },
    });
    expect(ui.status).toBe(200);
    const window = {
      filterTimeType: "lastModification",
      timeFrom: changedAt,
      where: `key = "${incident.key}"`,
    };
    expect((await list(emu, token, window)).totalItems).toBe(0);
    clock.advance(5_000);
    const found = await list(emu, token, window);
    expect(found.totalItems).toBe(1);
    expect(found.incidents[0]?.status).toBe("Closed");
  });

  it("assignments (API and UI) and added events lag as well", async () => {
    const incident = emu.state.addIncident({ eventsCount: 2 });
    const userId = "5e0c2b1a-7d3f-4c6b-9a8e-1f2d3c4b5a69";
    const put = await call(emu.coreUrl, "PUT", `/api/incidents/${incident.id}`, {
      token,
      // The full editable body (§6.3) built from the details, plus a status, which an update ignores.
      body: { ...fullUpdateBody(await details(incident.id)), assigned: userId, status: "Closed" },
    });
    expect(put.status).toBe(204);
    expect(emu.state.get(incident.id)?.assigned).toBe(userId);
    expect(emu.state.get(incident.id)?.status).toBe("New"); // status in an update is ignored (§10 #17)
    expect((await details(incident.id)).assigned).toBeNull();

    const added = await call(emu.coreUrl, "POST", `/__emulator/incidents/${incident.key}/events`, {
      body: { count: 3, touchModified: false },
    });
    expect(added.status).toBe(200);
    const count = () => call(emu.coreUrl, "GET", `/api/incidents/${incident.id}/events/count`, { token });
    const events = () => call(emu.coreUrl, "GET", `/api/incidents/${incident.id}/events`, { token });
    expect((await count()).json).toEqual({ count: 2 });
    expect(await events().then((r) => (r.json as unknown[]).length)).toBe(2);

    clock.advance(5_000);
    expect((await details(incident.id)).assigned).toEqual({ id: userId, firstName: "", lastName: "" });
    expect((await count()).json).toEqual({ count: 5 });
    expect(await events().then((r) => (r.json as unknown[]).length)).toBe(5);

    const ui = await call(emu.coreUrl, "POST", `/__emulator/incidents/${incident.key}/assign`, {
      body: { userId: null },
    });
    expect(ui.status).toBe(200);
    expect((await details(incident.id)).assigned).not.toBeNull();
    clock.advance(5_000);
    expect((await details(incident.id)).assigned).toBeNull();
  });

  it("is set at runtime through the control API; a shorter lag never shows an older version over a newer one", async () => {
    const incident = emu.state.addIncident();
    const setLag = (ms: number) => call(emu.coreUrl, "POST", "/__emulator/faults/read-lag", { body: { ms } });

    expect((await setLag(10_000)).status).toBe(200);
    expect((await transition(incident.id, "Approved")).status).toBe(204); // visible at +10 s
    expect((await setLag(1_000)).status).toBe(200);
    expect((await transition(incident.id, "InProgress")).status).toBe(204); // visible at +1 s
    const faults = (await call(emu.coreUrl, "GET", "/__emulator/faults")).json as Record<string, unknown>;
    expect(faults.readModelLagMs).toBe(1_000);
    expect(faults.pendingReadModelChanges).toBe(2);

    clock.advance(1_000);
    expect(emu.state.faults().pendingReadModelChanges).toBe(1); // the Approved version, due at +10 s
    expect((await details(incident.id)).status).toBe("InProgress");
    clock.advance(9_000);
    // The Approved version came due later, but it is older: InProgress stays.
    expect((await details(incident.id)).status).toBe("InProgress");
    expect(await history(incident.id)).toHaveLength(2);

    expect((await setLag(0)).status).toBe(200);
    expect((await transition(incident.id, "Resolved")).status).toBe(204);
    expect((await details(incident.id)).status).toBe("Resolved");
    expect((await setLag(-1)).status).toBe(400);
    await setLag(5_000);
  });

  it("faults/clear turns the lag off and shows every pending change at once", async () => {
    const incident = emu.state.addIncident();
    expect((await transition(incident.id, "Closed")).status).toBe(204);
    expect((await details(incident.id)).status).toBe("New");
    expect((await call(emu.coreUrl, "POST", "/__emulator/faults/clear", { body: {} })).status).toBe(200);
    expect((await details(incident.id)).status).toBe("Closed");
    expect(emu.state.faults().readModelLagMs).toBe(0);
    emu.state.setReadModelLag(5_000);
  });
});

describe("read-model lag is off by default", () => {
  let emu: RunningEmulator;
  afterEach(() => emu?.close());

  it("shows a transition in the next read", async () => {
    emu = await startEmulator({ seed: 62 });
    const token = await accessToken(emu);
    const incident = emu.state.addIncident();
    emu.state.setStatus(incident.id, "Approved");
    const res = await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${incident.id}`, { token });
    expect((res.json as { status: string }).status).toBe("Approved");
  });
});
