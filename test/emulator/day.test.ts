// The seeded realistic day: deterministic, at known times, and served by the list (filter, totalItems)
// and history calls as the API document says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planDay, playDay, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { createSiemClient } from "../../src/siem/client.js";
import type { SiemClient } from "../../src/siem/types.js";

const END = new Date("2026-03-10T06:00:00.000Z");

describe("a realistic day in the emulator", () => {
  let emu: RunningEmulator;
  let siem: SiemClient;
  const plan = planDay({ seed: 16, end: END });
  let keys: string[];

  beforeAll(async () => {
    emu = await startEmulator({ seed: 16 });
    keys = playDay(emu.state, plan);
    siem = createSiemClient({
      config: {
        url: emu.coreUrl,
        authUrl: emu.authUrl,
        username: "siem",
        password: "siem",
        clientId: "mpx",
        clientSecret: "emulator-secret",
        tlsVerify: true,
        timeoutMs: 5000,
      },
    });
  });
  afterAll(async () => {
    await siem.close();
    await emu.close();
  });

  it("is the same for the same seed, 300 incidents within the 24 hours, every transition after creation", () => {
    expect(planDay({ seed: 16, end: END })).toEqual(plan);
    expect(planDay({ seed: 17, end: END })).not.toEqual(plan);
    expect(plan.incidents).toHaveLength(300);
    for (const i of plan.incidents) {
      expect(i.created.getTime()).toBeGreaterThanOrEqual(END.getTime() - 86_400_000);
      let last = i.created.getTime();
      for (const t of i.transitions) {
        expect(t.at.getTime()).toBeGreaterThan(last);
        expect(t.at.getTime()).toBeLessThan(END.getTime());
        last = t.at.getTime();
      }
    }
    const worked = plan.incidents.filter((i) => i.transitions.length > 0).length;
    expect(worked).toBeGreaterThan(150);
    expect(new Set(plan.incidents.map((i) => i.severity))).toEqual(new Set(["High", "Medium", "Low"]));
  });

  it("serves each incident's history with the planned times, through the API", async () => {
    const index = plan.incidents.findIndex((i) => i.transitions.length >= 3);
    const incident = emu.state.get(keys[index]!)!;
    const history = await siem.transitionHistory(incident.id);
    expect(history.map((h) => [h.nextStatus, h.at?.toISOString()])).toEqual(
      plan.incidents[index]!.transitions.map((t) => [t.to, t.at.toISOString()]),
    );
    expect(incident.created.slice(0, 19)).toBe(plan.incidents[index]!.created.toISOString().slice(0, 19));
  });

  it("lists with a status and severity filter, newest first, and counts every match in totalItems", async () => {
    const finalStatus = (i: (typeof plan.incidents)[number]) => i.transitions.at(-1)?.to ?? "New";
    const openHigh = plan.incidents.filter(
      (i) => i.severity === "High" && ["New", "Approved", "InProgress"].includes(finalStatus(i)),
    );
    emu.state.resetStats();
    const page = await siem.queryIncidents({
      where: `status IN ("New", "Approved", "InProgress") AND severity = "High"`,
      from: new Date("2000-01-01T00:00:00Z"),
      offset: 0,
      limit: 5,
    });
    expect(page.totalItems).toBe(openHigh.length);
    expect(page.incidents.map((i) => i.created.toISOString())).toEqual(
      openHigh
        .map((i) => i.created.toISOString())
        .reverse()
        .slice(0, 5),
    );
    expect(emu.state.stats().requests["POST /api/v2/incidents"]).toBe(1);
  });

  it("refuses a seeded transition out of order", () => {
    const incident = emu.state.get(keys[0]!)!;
    expect(() =>
      emu.state.recordTransition(incident.id, "Closed", { at: new Date(END.getTime() - 2 * 86_400_000) }),
    ).toThrow(/before/);
  });
});
