// The emulator's side of working an incident (issue 14): the MP users query, assignment through
// `PUT /api/incidents/{id}` with the full body (recorded for tests, a partial body refused), the
// InProgress and Resolved transitions and their history.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator, userIdFor } from "../../src/emulator/index.js";
import { accessToken, call, fullUpdateBody, manualClock } from "./helpers.js";

const USERS_QUERY = "/ptms/api/sso/v1/users/query";
const S2_QUERY = { authTypes: [1, 0], statuses: ["active", "blocked"], withoutRoles: true };

describe("emulator: users, assignment and the workflow transitions", () => {
  const clock = manualClock("2024-03-12T06:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({
      seed: 1414,
      now: clock.now,
      users: [{ userName: "ivanov", firstName: "Иван", lastName: "Иванов" }],
    });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  const details = async (id: string) =>
    (await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}`, { token })).json as Record<
      string,
      unknown
    >;

  it("answers the users query on the auth listener with the documented item shape", async () => {
    const res = await call(emu.authUrl, "POST", USERS_QUERY, { token, body: S2_QUERY });
    expect(res.status).toBe(200);
    const items = (res.json as { items: Array<Record<string, unknown>> }).items;
    const ivanov = items.find((u) => u.userName === "ivanov");
    expect(ivanov).toMatchObject({ id: userIdFor("ivanov"), status: "active", authType: 0, system: false });
    expect(Object.keys(ivanov!).sort()).toEqual(
      [
        "authType",
        "id",
        "isReadOnly",
        "ldapAliases",
        "roles",
        "siteId",
        "status",
        "system",
        "userName",
      ].sort(),
    );
    // The API account is a user too: the history's changedBy names it.
    expect(items.map((u) => u.userName)).toContain("siem");
  });

  it("filters the users query by status; refuses a bad filter and a missing token", async () => {
    const blocked = await call(emu.coreUrl, "POST", "/__emulator/users", {
      body: { userName: "petrov", status: "blocked" },
    });
    expect(blocked.status).toBe(201);
    const active = await call(emu.authUrl, "POST", USERS_QUERY, { token, body: { statuses: ["active"] } });
    const names = (active.json as { items: Array<{ userName: string }> }).items.map((u) => u.userName);
    expect(names).toContain("ivanov");
    expect(names).not.toContain("petrov");
    expect((await call(emu.authUrl, "POST", USERS_QUERY, { token, body: { statuses: "x" } })).status).toBe(
      400,
    );
    expect((await call(emu.authUrl, "POST", USERS_QUERY, { body: S2_QUERY })).status).toBe(401);
    expect((await call(emu.authUrl, "POST", USERS_QUERY, { token: "nope", body: S2_QUERY })).status).toBe(
      401,
    );
  });

  it("assigns with the full body, shows the assignee's names, and records each PUT", async () => {
    const incident = emu.state.addIncident({ status: "New" });
    const body = { ...fullUpdateBody(await details(incident.id)), assigned: userIdFor("ivanov") };
    const put = await call(emu.coreUrl, "PUT", `/api/incidents/${incident.id}`, { token, body });
    expect(put.status).toBe(204);
    expect((await details(incident.id)).assigned).toEqual({
      id: userIdFor("ivanov"),
      firstName: "Иван",
      lastName: "Иванов",
    });
    const updates = await call(emu.coreUrl, "GET", `/__emulator/incidents/${incident.key}/updates`);
    expect(updates.json).toEqual([
      expect.objectContaining({ incidentId: incident.id, status: 204, error: null, subject: "siem", body }),
    ]);
  });

  it("refuses a partial body with 400 naming the missing fields, records it, and changes nothing", async () => {
    const incident = emu.state.addIncident({ status: "New" });
    const put = await call(emu.coreUrl, "PUT", `/api/incidents/${incident.id}`, {
      token,
      body: { assigned: userIdFor("ivanov") },
    });
    expect(put.status).toBe(400);
    expect((put.json as { message: string }).message).toMatch(/missing: attackers, description, detected/);
    expect(emu.state.get(incident.id)?.assigned).toBeNull();
    const updates = emu.state.updatesOf(incident.key);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ status: 400, body: { assigned: userIdFor("ivanov") } });
    expect(updates[0]?.error).toMatch(/full editable incident/);
  });

  it("takes (InProgress) and resolves (Resolved) with comments in the history; the same status twice is refused", async () => {
    const incident = emu.state.addIncident({ status: "Approved" });
    const move = (id: string, message: string) =>
      call(emu.coreUrl, "PUT", `/api/incidents/${incident.id}/transitions`, {
        token,
        body: { id, measures: "m", message },
      });
    expect((await move("InProgress", "взял")).status).toBe(204);
    expect((await move("InProgress", "again")).status).toBe(400);
    expect((await move("Resolved", "решил")).status).toBe(204);
    const history = await call(
      emu.coreUrl,
      "GET",
      `/api/incidentsReadModel/incidents/${incident.id}/transitions`,
      { token },
    );
    expect(history.json).toEqual([
      expect.objectContaining({
        prevStatus: "Approved",
        nextStatus: "InProgress",
        comment: "взял",
        changedBy: { id: userIdFor("siem") },
      }),
      expect.objectContaining({ prevStatus: "InProgress", nextStatus: "Resolved", comment: "решил" }),
    ]);
  });
});
