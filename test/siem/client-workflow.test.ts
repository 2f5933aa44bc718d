// The client's side of working an incident (issue 14), over HTTP against the emulator: finding an MP
// user by login, assigning with the full update body, InProgress / Resolved / Closed with comments,
// the status history, and the assignee, rule names, targets and attackers read from the details.

import { afterEach, describe, expect, it } from "vitest";
import {
  type EmulatorOptions,
  type RunningEmulator,
  startEmulator,
  userIdFor,
} from "../../src/emulator/index.js";
import { createSiemClient } from "../../src/siem/client.js";
import { type SiemClient, SiemError } from "../../src/siem/types.js";

const openClients: SiemClient[] = [];
const openEmulators: RunningEmulator[] = [];

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
  await Promise.all(openEmulators.splice(0).map((e) => e.close()));
});

async function setup(options: EmulatorOptions = {}): Promise<{ emu: RunningEmulator; siem: SiemClient }> {
  const emu = await startEmulator({
    seed: 14,
    users: [
      { userName: "ivanov", firstName: "Иван", lastName: "Иванов" },
      { userName: "Petrov.A", status: "blocked" },
    ],
    ...options,
  });
  openEmulators.push(emu);
  const siem = createSiemClient({
    config: {
      url: emu.coreUrl,
      authUrl: emu.authUrl,
      username: "siem",
      password: "siem",
      clientId: "mpx",
      clientSecret: "emulator-secret",
      tlsVerify: true,
      timeoutMs: 5_000,
    },
    retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
  });
  openClients.push(siem);
  return { emu, siem };
}

describe("SIEM client: users, assignment, transitions, history", () => {
  it("finds a user by login, case-insensitively, and answers null for an unknown login", async () => {
    const { siem } = await setup();
    expect(await siem.findUser("IVANOV")).toEqual({
      id: userIdFor("ivanov"),
      userName: "ivanov",
      status: "active",
    });
    expect(await siem.findUser("petrov.a")).toMatchObject({ userName: "Petrov.A", status: "blocked" });
    expect(await siem.findUser("nobody")).toBeNull();
    expect(await siem.findUser("  ")).toBeNull();
  });

  it("assigns with the full body read from the details; the details then name the assignee", async () => {
    const { emu, siem } = await setup();
    const incident = emu.state.addIncident();
    await siem.assign(incident.id, userIdFor("ivanov"));
    const [put] = emu.state.updatesOf(incident.id);
    expect(put?.status).toBe(204);
    const body = put?.body as Record<string, unknown>;
    expect(body.assigned).toBe(userIdFor("ivanov"));
    expect(body.name).toBe(incident.name);
    // Objects in the details become ids (assets, groups) and names (others) in the update (§8.7).
    expect((body.targets as { assets: unknown[] }).assets).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
    expect((body.attackers as { others: unknown[] }).others).toEqual([expect.stringMatching(/\d+\.\d+/)]);
    const details = await siem.getIncident(incident.id);
    expect(details.assignee).toEqual({ id: userIdFor("ivanov"), name: "Иван Иванов" });
  });

  it("an assignment the SIEM forbids is `forbidden` and changes nothing; an unknown incident is `not_found`", async () => {
    const { emu, siem } = await setup();
    const incident = emu.state.addIncident();
    emu.state.failIncident(incident.key, { calls: ["update"], status: 403, count: 5 });
    const refused = await siem.assign(incident.id, userIdFor("ivanov")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SiemError);
    expect((refused as SiemError).kind).toBe("forbidden");
    expect(emu.state.get(incident.id)?.assigned).toBeNull();
    const missing = await siem
      .assign("00000000-0000-4000-8000-000000000000", userIdFor("ivanov"))
      .catch((e: unknown) => e);
    expect((missing as SiemError).kind).toBe("not_found");
  });

  it("moves New → InProgress → Resolved → Closed with comments, and reads the history back", async () => {
    const { emu, siem } = await setup();
    const incident = emu.state.addIncident({ status: "New" });
    await siem.transition(incident.id, "InProgress", { measures: "m1", message: "взял Иван (1)" });
    await siem.transition(incident.id, "Resolved", { measures: "m2", message: "решил Иван (1)" });
    await siem.transition(incident.id, "Closed", { measures: "m3", message: "дубликат; Иван (1)" });
    const again = await siem
      .transition(incident.id, "Closed", { measures: "", message: "" })
      .catch((e: unknown) => e);
    expect((again as SiemError).kind).toBe("refused");
    const history = await siem.transitionHistory(incident.id);
    expect(history.map((h) => [h.prevStatus, h.nextStatus, h.comment])).toEqual([
      ["New", "InProgress", "взял Иван (1)"],
      ["InProgress", "Resolved", "решил Иван (1)"],
      ["Resolved", "Closed", "дубликат; Иван (1)"],
    ]);
    expect(history[0]?.changedBy).toBe(userIdFor("siem"));
    expect(history[0]?.at).toBeInstanceOf(Date);
  });

  it("reads rule names (both shapes), targets and attackers from the details", async () => {
    for (const version of ["26.1", "27.6"]) {
      const { emu, siem } = await setup({ version });
      const incident = emu.state.addIncident();
      const details = await siem.getIncident(incident.id);
      expect(details.correlationRules, version).toHaveLength(1);
      expect(details.targets, version).toHaveLength(1);
      expect(details.attackers?.[0], version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(details.assignee, version).toBeNull();
    }
  });
});
