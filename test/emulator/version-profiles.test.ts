// Version profiles (26.x vs 27.x details), JSON-null severity/category/type, tasks ("issues"),
// and the incidents settings call.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { accessToken, call, list, manualClock } from "./helpers.js";

async function detailsOf(emu: RunningEmulator, token: string, id: string): Promise<Record<string, unknown>> {
  const res = await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}`, { token });
  expect(res.status).toBe(200);
  return res.json as Record<string, unknown>;
}

describe("version profiles", () => {
  const started: RunningEmulator[] = [];
  afterAll(async () => {
    await Promise.all(started.map((e) => e.close()));
  });

  it("26.1 (default): productVersion 26.1.7351 and correlationRuleNames as strings", async () => {
    const emu = await startEmulator({ seed: 91 });
    started.push(emu);
    const token = await accessToken(emu);
    const info = await call(emu.coreUrl, "GET", "/api/deployment_configuration/v1/system_info", { token });
    expect((info.json as { productVersion: string }).productVersion).toBe("26.1.7351");
    const incident = emu.state.addIncident();
    const d = await detailsOf(emu, token, incident.id);
    expect(d.correlationRuleNames).toEqual([incident.name]);
    expect(d).not.toHaveProperty("correlationRules");
  });

  it("27.6: productVersion 27.6.x and correlationRules as objects with correlationName", async () => {
    const emu = await startEmulator({ seed: 91, version: "27.6" });
    started.push(emu);
    const token = await accessToken(emu);
    const info = await call(emu.coreUrl, "GET", "/api/deployment_configuration/v1/system_info", { token });
    expect((info.json as { productVersion: string }).productVersion).toMatch(/^27\.6\.\d+$/);
    const incident = emu.state.addIncident();
    const d = await detailsOf(emu, token, incident.id);
    expect(d.correlationRules).toEqual([{ correlationName: incident.name }]);
    expect(d).not.toHaveProperty("correlationRuleNames");
  });

  it("takes a full version and refuses an unknown profile", async () => {
    const emu = await startEmulator({ version: "27.2.1234" });
    started.push(emu);
    expect(emu.state.productVersion).toBe("27.2.1234");
    await expect(startEmulator({ version: "latest" })).rejects.toThrow(/26\.1 or 27\.6/);
  });
});

describe("incidents with JSON null severity, category and type", () => {
  let emu: RunningEmulator;
  let token: string;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 92, now: manualClock("2024-03-12T06:00:00Z").now });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("are made through the control API and come back as null in the list and details", async () => {
    const res = await call(emu.coreUrl, "POST", "/__emulator/incidents", {
      body: { severity: null, category: null, type: null },
    });
    expect(res.status).toBe(201);
    const made = res.json as { id: string; key: string; severity: unknown; category: unknown; type: unknown };
    expect([made.severity, made.category, made.type]).toEqual([null, null, null]);
    emu.state.addIncident({ severity: "High" });

    const listed = await list(emu, token, { timeFrom: null, where: `key = "${made.key}"` });
    const item = listed.incidents[0] as Record<string, unknown>;
    expect([item.severity, item.category, item.type]).toEqual([null, null, null]);
    expect(listed.totalItems).toBe(1);
    const d = await detailsOf(emu, token, made.id);
    expect([d.severity, d.category, d.type]).toEqual([null, null, null]);

    // Sorting and filtering do not trip over them.
    const bySeverity = await list(emu, token, {
      timeFrom: null,
      orderby: [{ field: "severity", sortOrder: "ascending" }],
    });
    expect(bySeverity.incidents[0]?.key).toBe(made.key);
    const byType = await list(emu, token, {
      timeFrom: null,
      orderby: [{ field: "type", sortOrder: "ascending" }],
    });
    expect(byType.incidents[0]?.key).toBe(made.key);
    expect((await list(emu, token, { timeFrom: null, where: 'severity = "High"' })).totalItems).toBe(1);
  });
});

describe("tasks (issues) and settings", () => {
  let emu: RunningEmulator;
  let token: string;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 93 });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("GET /issues returns the task shape and /issues/count the count; the control API adds tasks", async () => {
    const incidents = emu.state.addBurst(30);
    const counts = await Promise.all(
      incidents.map(async (i) => {
        const res = await call(emu.coreUrl, "GET", `/api/incidents/${i.id}/issues/count`, { token });
        return (res.json as { count: number }).count;
      }),
    );
    // The generator gives some incidents tasks and most none.
    expect(counts.some((c) => c === 0)).toBe(true);
    expect(counts.some((c) => c > 0)).toBe(true);
    const withTasks = incidents[counts.findIndex((c) => c > 0)] as { id: string };
    const tasks = (await call(emu.coreUrl, "GET", `/api/incidents/${withTasks.id}/issues`, { token }))
      .json as Array<Record<string, unknown>>;
    for (const task of tasks) {
      expect(Object.keys(task).sort()).toEqual(
        ["assigned", "description", "estimatedTime", "id", "name", "status", "type"].sort(),
      );
      expect(typeof (task.assigned as { id: unknown }).id).toBe("string");
    }

    const plain = emu.state.addIncident();
    const before = (await call(emu.coreUrl, "GET", `/api/incidents/${plain.id}/issues`, { token }))
      .json as unknown[];
    const added = await call(emu.coreUrl, "POST", `/__emulator/incidents/${plain.key}/issues`, {
      body: { name: "Изолировать узел", status: "InProgress", assignedId: "u-1", estimatedTime: 90 },
    });
    expect(added.status).toBe(201);
    const unassigned = await call(emu.coreUrl, "POST", `/__emulator/incidents/${plain.key}/issues`, {
      body: {},
    });
    expect((unassigned.json as { assigned: unknown }).assigned).toBeNull();
    const after = (await call(emu.coreUrl, "GET", `/api/incidents/${plain.id}/issues`, { token }))
      .json as Array<Record<string, unknown>>;
    expect(after).toHaveLength(before.length + 2);
    expect(after[before.length]).toMatchObject({
      name: "Изолировать узел",
      status: "InProgress",
      assigned: { id: "u-1" },
      estimatedTime: 90,
    });
    expect(
      (await call(emu.coreUrl, "GET", `/api/incidents/${plain.id}/issues/count`, { token })).json,
    ).toEqual({
      count: before.length + 2,
    });
    expect((await call(emu.coreUrl, "GET", `/__emulator/incidents/${plain.key}/issues`)).json).toEqual(after);
    expect((await call(emu.coreUrl, "GET", "/api/incidents/not-an-id/issues", { token })).status).toBe(404);
  });

  it("GET /api/incidents/settings is the settings, not an incident id", async () => {
    const res = await call(emu.coreUrl, "GET", "/api/incidents/settings", { token });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ showContentFromDescendants: false });
    expect((await call(emu.coreUrl, "GET", "/api/incidents/settings")).status).toBe(401);
    const stats = (await call(emu.coreUrl, "GET", "/__emulator/stats")).json as {
      requests: Record<string, number>;
    };
    expect(stats.requests["GET /api/incidents/settings"]).toBe(2);
    expect(stats.requests["GET /api/incidents/{id}"]).toBeUndefined();
  });
});
