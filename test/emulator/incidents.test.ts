import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import {
  accessToken,
  CANONICAL_SELECT,
  call,
  keysOf,
  type ListResult,
  list,
  listBody,
  manualClock,
  SEVEN_DIGITS,
} from "./helpers.js";

describe("list: paths, item shape, timeFrom formats", () => {
  const clock = manualClock("2024-03-12T07:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 11, now: clock.now });
    emu.state.addIncident({ created: "2024-03-12T06:11:00Z" }); // INC-1
    emu.state.addIncident({ created: "2024-03-12T06:12:00.4571234Z" }); // INC-2
    emu.state.addIncident({ created: "2024-03-12T06:13:00Z" }); // INC-3
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("serves the list with and without the trailing slash, newest first", async () => {
    for (const path of ["/api/v2/incidents/", "/api/v2/incidents"]) {
      const res = await call(emu.coreUrl, "POST", path, { token, body: listBody() });
      expect(res.status, path).toBe(200);
      const body = res.json as { incidents: Array<{ key: string }>; totalItems: number };
      expect(body.totalItems).toBe(3);
      expect(body.incidents.map((i) => i.key)).toEqual(["INC-3", "INC-2", "INC-1"]);
    }
  });

  it("gives every item the full field set with 7-digit UTC times, whatever the select", async () => {
    const res = await list(emu, token);
    for (const item of res.incidents) {
      expect(Object.keys(item).sort()).toEqual(
        [
          "assigned",
          "category",
          "created",
          "id",
          "isConfirmed",
          "key",
          "name",
          "severity",
          "status",
          "type",
        ].sort(),
      );
      expect(item.created).toMatch(SEVEN_DIGITS);
      expect(item.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(["High", "Medium", "Low"]).toContain(item.severity);
      expect(item.assigned).toBeNull();
      expect(item.isConfirmed).toBe(false);
    }
    expect(res.incidents.find((i) => i.key === "INC-2")?.created).toBe("2024-03-12T06:12:00.4571234Z");
  });

  it("accepts S11's minimal body and S6's select with severity", async () => {
    const minimal = await call(emu.coreUrl, "POST", "/api/v2/incidents", {
      token,
      body: {
        offset: 0,
        limit: 999,
        timeFrom: "2024-03-12T00:00:00.000Z",
        filterTimeType: "creation",
        filter: { select: CANONICAL_SELECT, where: "status = 'new'" },
      },
    });
    expect(minimal.status).toBe(200);
    expect((minimal.json as { totalItems: number }).totalItems).toBe(3);
    const withSeverity = await call(emu.coreUrl, "POST", "/api/v2/incidents/", {
      token,
      body: { ...listBody(), filter: { select: [...CANONICAL_SELECT, "severity"] } },
    });
    expect(withSeverity.status).toBe(200);
  });

  it("reads every timeFrom format of §3.4, inclusively", async () => {
    const cases: Array<[unknown, string[]]> = [
      ["2024-03-12T06:12:00.457123", ["INC-3", "INC-2"]], // naive, 6 digits, read as UTC
      ["2024-03-12T06:12:00.4571234Z", ["INC-3", "INC-2"]], // exactly created: inclusive
      ["2024-03-12T06:12:00.4571235Z", ["INC-3"]], // 100 ns later
      ["2024-03-12T06:12:00.458000Z", ["INC-3"]], // S1: created[:23] + 1 ms
      ["2024-03-12T06:12:00.457Z", ["INC-3", "INC-2"]], // 3 digits (S2 R25+, S4, S11)
      ["2024-03-12T06:12:00Z", ["INC-3", "INC-2"]], // no fraction (S7)
      ["2024-03-12T06:12:00.45712340Z", ["INC-3", "INC-2"]], // 8 digits: cut to 7
      ["2024-03-12T06:12:00", ["INC-3", "INC-2"]], // naive without fraction
      ["2024-03-12T09:12:00+03:00", ["INC-3", "INC-2"]], // numeric offset
      [1710223920, ["INC-3", "INC-2"]], // unix seconds = 06:12:00Z (old API)
      [1710223921, ["INC-3"]],
      ["1710223860", ["INC-3", "INC-2", "INC-1"]], // digits in a string = unix seconds
      [0, ["INC-3", "INC-2", "INC-1"]], // S8 remove_incidents
      [null, ["INC-3", "INC-2", "INC-1"]],
    ];
    for (const [timeFrom, expected] of cases) {
      expect(keysOf(await list(emu, token, { timeFrom })), String(timeFrom)).toEqual(expected);
    }
    const absent = await call(emu.coreUrl, "POST", "/api/v2/incidents/", {
      token,
      body: { filter: { select: CANONICAL_SELECT } },
    });
    expect((absent.json as { totalItems: number }).totalItems).toBe(3);
  });

  it("applies timeTo inclusively when it is not null", async () => {
    const cases: Array<[unknown, string[]]> = [
      ["2024-03-12T06:12:00.4571234Z", ["INC-2", "INC-1"]],
      ["2024-03-12T06:12:00.4571233Z", ["INC-1"]],
      ["2024-03-12T06:10:00Z", []],
      [null, ["INC-3", "INC-2", "INC-1"]],
    ];
    for (const [timeTo, expected] of cases) {
      expect(keysOf(await list(emu, token, { timeTo })), String(timeTo)).toEqual(expected);
    }
    const inverted = await list(emu, token, {
      timeFrom: "2024-03-12T06:13:00Z",
      timeTo: "2024-03-12T06:11:00Z",
    });
    expect(inverted.totalItems).toBe(0);
  });

  it("answers 400 with a message naming the field for bad input", async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [listBody({ timeFrom: "yesterday" }), "timeFrom"],
      [listBody({ timeFrom: "2024-02-30T00:00:00Z" }), "timeFrom"],
      [listBody({ filterTimeType: "whenever" }), "filterTimeType"],
      [{ ...listBody(), limit: -1 }, "limit"],
      [{ ...listBody(), offset: "0" }, "offset"],
      [{ ...listBody(), filter: {} }, "filter.select"],
      [{ ...listBody(), filter: { select: ["key", "password"] } }, "filter.select"],
      [listBody({ orderby: [{ field: "color", sortOrder: "descending" }] }), "orderby"],
      [listBody({ orderby: [{ field: "created", sortOrder: "sideways" }] }), "sortOrder"],
      [listBody({ where: "status === 'New'" }), "filter.where"],
      [listBody({ where: "colour = 'red'" }), "filter.where"],
    ];
    for (const [body, field] of bad) {
      const res = await call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.json as { message: string }).message).toContain(field);
    }
    const notJson = await call(emu.coreUrl, "POST", "/api/v2/incidents/", { token, body: "{not json" });
    expect(notJson.status).toBe(400);
  });
});

describe("list: filterTimeType, orderby, paging, where", () => {
  const clock = manualClock("2024-03-12T12:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 12, now: clock.now });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("filterTimeType lastModification finds what setStatus changed; creation does not", async () => {
    const old = emu.state.addIncident({ created: "2024-03-10T00:00:00Z" });
    emu.state.addIncident({ created: "2024-03-10T00:00:01Z" });
    clock.advance(60_000);
    const changed = emu.state.setStatus(old.id, "InProgress", "взят в работу");
    expect(changed.modified).toMatch(SEVEN_DIGITS);
    expect(Date.parse(changed.modified)).toBeGreaterThanOrEqual(Date.parse("2024-03-12T12:01:00Z"));

    const since = "2024-03-12T12:00:30Z";
    const byModification = await list(emu, token, { timeFrom: since, filterTimeType: "lastModification" });
    expect(keysOf(byModification)).toEqual([old.key]);
    expect(byModification.incidents[0]?.status).toBe("InProgress");
    expect((await list(emu, token, { timeFrom: since, filterTimeType: "creation" })).totalItems).toBe(0);
    // The other filter types map to when the incident entered a status.
    expect(keysOf(await list(emu, token, { timeFrom: since, filterTimeType: "inProgress" }))).toEqual([
      old.key,
    ]);
    expect((await list(emu, token, { timeFrom: since, filterTimeType: "closing" })).totalItems).toBe(0);
    expect(
      (await list(emu, token, { timeFrom: "2024-03-09T00:00:00Z", filterTimeType: "detection" })).totalItems,
    ).toBe(2);
  });

  it("pages 2,500 incidents by offset/limit with totalItems before paging, and clamps limit to 1000", async () => {
    const from = "2024-03-12T12:01:30Z";
    clock.advance(60_000);
    const burst = emu.state.addBurst(2500);
    // A frozen clock still yields distinct, increasing created values (sub-millisecond counter).
    const created = burst.map((i) => i.created);
    expect(new Set(created).size).toBe(2500);
    expect([...created].sort()).toEqual(created);

    const seen: string[] = [];
    const sizes: number[] = [];
    for (let offset = 0; offset < 3000; offset += 1000) {
      const page = await list(emu, token, { timeFrom: from, offset, limit: 1000 });
      expect(page.totalItems).toBe(2500);
      sizes.push(page.incidents.length);
      seen.push(...page.incidents.map((i) => i.created));
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(new Set(seen).size).toBe(2500);
    expect(seen).toEqual([...created].reverse()); // newest first across pages

    const clamped = await list(emu, token, { timeFrom: from, limit: 5000 });
    expect(clamped.incidents).toHaveLength(1000);
    expect(clamped.totalItems).toBe(2500);
    const pastEnd = await list(emu, token, { timeFrom: from, offset: 2600, limit: 50 });
    expect(pastEnd.incidents).toHaveLength(0);
    expect(pastEnd.totalItems).toBe(2500);
  });

  it("honours orderby: created ascending, severity then key, status", async () => {
    const from = "2024-03-12T12:01:30Z";
    const ascending = await list(emu, token, {
      timeFrom: from,
      limit: 1000,
      orderby: [{ field: "created", sortOrder: "ascending" }],
    });
    const createdAsc = ascending.incidents.map((i) => i.created);
    expect(createdAsc).toEqual([...createdAsc].sort());

    const items: ListResult["incidents"] = [];
    for (let offset = 0; offset < 2500; offset += 1000) {
      const page = await list(emu, token, {
        timeFrom: from,
        offset,
        limit: 1000,
        orderby: [
          { field: "severity", sortOrder: "descending" },
          { field: "key", sortOrder: "ascending" },
        ],
      });
      expect(page.totalItems).toBe(2500);
      items.push(...page.incidents);
    }
    const rank = { High: 2, Medium: 1, Low: 0 } as Record<string, number>;
    expect(items).toHaveLength(2500);
    for (let i = 1; i < items.length; i++) {
      const prev = items[i - 1]!;
      const cur = items[i]!;
      const sevDiff = (rank[prev.severity as string] ?? 0) - (rank[cur.severity as string] ?? 0);
      expect(sevDiff).toBeGreaterThanOrEqual(0);
      if (sevDiff === 0) expect(Number(prev.key.slice(4))).toBeLessThan(Number(cur.key.slice(4)));
    }
    expect(new Set(items.map((i) => i.severity))).toEqual(new Set(["High", "Medium", "Low"]));

    const byStatus = await list(emu, token, {
      timeFrom: "2024-03-01T00:00:00Z",
      orderby: [{ field: "status", sortOrder: "descending" }],
    });
    expect(byStatus.incidents[0]?.status).toBe("InProgress"); // the only non-New incident
  });
});

describe("list: the where subset of §3.3", () => {
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 13 });
    const plan: Array<[string, string, string]> = [
      ["New", "Password_brute", "High"],
      ["New", "soc_lateral_movement", "Low"],
      ["New", "Web_Bulk_Failed_URL_Access", "Medium"],
      ["Closed", "Password_brute", "Low"],
      ["Closed", "soc_dns_tunnel", "High"],
      ["Resolved", "Critical_host_threat_detection", "High"],
      ["Approved", "Network_port_scan", "Medium"],
    ];
    for (const [status, name, severity] of plan) {
      emu.state.addIncident({ status: status as "New", name, severity });
    }
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("filters like the public clients do", async () => {
    const cases: Array<[string, string[]]> = [
      ['status != "Closed"', ["INC-7", "INC-6", "INC-3", "INC-2", "INC-1"]],
      ['(status != "Closed")', ["INC-7", "INC-6", "INC-3", "INC-2", "INC-1"]],
      ["status NOT IN ('Resolved', 'Closed')", ["INC-7", "INC-3", "INC-2", "INC-1"]],
      ["status = 'new'", ["INC-3", "INC-2", "INC-1"]],
      ["STATUS = 'NEW'", ["INC-3", "INC-2", "INC-1"]],
      ['key="INC-2"', ["INC-2"]],
      ["key = 'inc-6'", ["INC-6"]],
      ["CorrelationNames = 'Password_brute'", ["INC-4", "INC-1"]],
      ["name in ['Network_port_scan', 'soc_dns_tunnel']", ["INC-7", "INC-5"]],
      ['match(name,"soc_%")', ["INC-5", "INC-2"]],
      ['(name contains "brute")', ["INC-4", "INC-1"]],
      ["status = 'new' and severity = 'High'", ["INC-1"]],
      ["status = 'Approved' OR status = 'Resolved'", ["INC-7", "INC-6"]],
      ["(status = 'Closed' or status = 'New') AND NOT severity = 'Low'", ["INC-5", "INC-3", "INC-1"]],
      ["isConfirmed = true", ["INC-7"]],
      ["", ["INC-7", "INC-6", "INC-5", "INC-4", "INC-3", "INC-2", "INC-1"]],
    ];
    for (const [where, expected] of cases) {
      const result = await list(emu, token, { where });
      expect(keysOf(result), where).toEqual(expected);
      expect(result.totalItems, where).toBe(expected.length);
    }
  });

  it("pages filtered results with totalItems counting all matches", async () => {
    const page = await list(emu, token, { where: 'status != "Closed"', offset: 1, limit: 2 });
    expect(keysOf(page)).toEqual(["INC-6", "INC-3"]);
    expect(page.totalItems).toBe(5);
  });
});

describe("details, events, transitions", () => {
  const clock = manualClock("2024-03-12T06:12:00Z");
  let emu: RunningEmulator;
  let token: string;
  let id: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 14, now: clock.now });
    id = emu.state.addIncident({ eventsCount: 202, severity: "High" }).id;
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("returns the details shape of §8.3", async () => {
    const res = await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}`, { token });
    expect(res.status).toBe(200);
    const d = res.json as Record<string, unknown>;
    for (const field of [
      "id",
      "key",
      "name",
      "description",
      "isConfirmed",
      "status",
      "category",
      "type",
      "severity",
      "source",
      "created",
      "detected",
      "modified",
      "assigned",
      "reporter",
      "influence",
      "parameters",
      "groups",
      "targets",
      "attackers",
      "correlationRuleNames", // the default 26.1 profile (27.x: correlationRules, see version-profiles.test.ts)
    ]) {
      expect(d, field).toHaveProperty(field);
    }
    expect(d.id).toBe(id);
    expect(d.key).toBe("INC-1");
    expect(d.status).toBe("New");
    for (const field of ["created", "detected", "modified"]) expect(d[field], field).toMatch(SEVEN_DIGITS);
    expect(Object.keys(d.targets as object).sort()).toEqual([
      "addresses",
      "assets",
      "groups",
      "networks",
      "others",
    ]);
    expect(typeof d.description).toBe("string");
    expect((d.description as string).length).toBeGreaterThan(20);
  });

  it("returns all events as a bare array without limit, and honours offset/limit", async () => {
    const all = await call(emu.coreUrl, "GET", `/api/incidents/${id}/events`, { token });
    expect(all.status).toBe(200);
    const events = all.json as Array<{ id: string; date: string; description: string }>;
    expect(Array.isArray(events)).toBe(true);
    expect(events).toHaveLength(202);
    expect(new Set(events.map((e) => e.id)).size).toBe(202);
    for (const e of events) {
      expect(e.date).toMatch(SEVEN_DIGITS);
      expect(e.description).toMatch(/[а-яё]/i); // Russian, like the reference
    }
    const dates = events.map((e) => e.date);
    expect(dates).toEqual([...dates].sort().reverse()); // newest first

    const page = await call(emu.coreUrl, "GET", `/api/incidents/${id}/events?offset=5&limit=3`, { token });
    expect(page.json).toEqual(events.slice(5, 8));
    const first = await call(emu.coreUrl, "GET", `/api/incidents/${id}/events?limit=5`, { token });
    expect(first.json).toEqual(events.slice(0, 5));
    const bad = await call(emu.coreUrl, "GET", `/api/incidents/${id}/events?limit=abc`, { token });
    expect(bad.status).toBe(400);

    const count = await call(emu.coreUrl, "GET", `/api/incidents/${id}/events/count`, { token });
    expect(count.json).toEqual({ count: 202 });
  });

  it("changes status with PUT transitions → 204, records history, refuses the same status with 400", async () => {
    clock.advance(5_000);
    const put = await call(emu.coreUrl, "PUT", `/api/incidents/${id}/transitions`, {
      token,
      body: {
        id: "Approved",
        measures: "Инцидент подтвержден через Telegram-бот.",
        message: "Инцидент подтвержден пользователем @ivan (123456789) через Telegram-бот.",
      },
    });
    expect(put.status).toBe(204);
    expect(put.text).toBe("");

    const details = (await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}`, { token }))
      .json as Record<string, unknown>;
    expect(details.status).toBe("Approved");
    expect(details.isConfirmed).toBe(true);
    expect(details.modified).not.toBe(details.created);
    expect(Date.parse(details.modified as string)).toBeGreaterThanOrEqual(Date.parse("2024-03-12T06:12:05Z"));

    const history = await call(emu.coreUrl, "GET", `/api/incidentsReadModel/incidents/${id}/transitions`, {
      token,
    });
    expect(history.status).toBe(200);
    const rows = history.json as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      prevStatus: "New",
      nextStatus: "Approved",
      comment: "Инцидент подтвержден пользователем @ivan (123456789) через Telegram-бот.",
    });
    expect(rows[0]?.timestamp).toMatch(SEVEN_DIGITS);
    expect((rows[0]!.changedBy as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);

    const again = await call(emu.coreUrl, "PUT", `/api/incidents/${id}/transitions`, {
      token,
      body: { id: "Approved", measures: null, message: null },
    });
    expect(again.status).toBe(400);
    expect(typeof (again.json as { message: unknown }).message).toBe("string");

    const close = await call(emu.coreUrl, "PUT", `/api/incidents/${id}/transitions`, {
      token,
      body: { id: "Closed", measures: "", message: "False positive" },
    });
    expect(close.status).toBe(204);
    expect(emu.state.transitionsOf(id).map((t) => [t.prevStatus, t.nextStatus, t.via])).toEqual([
      ["New", "Approved", "api"],
      ["Approved", "Closed", "api"],
    ]);
    expect(emu.state.transitionsOf(id)[1]?.measures).toBe("");
  });

  it("refuses a transition id that is not one of the five statuses", async () => {
    for (const body of [{ id: "Deleted" }, { measures: "x" }, [], { id: "InProgress", message: 5 }]) {
      const res = await call(emu.coreUrl, "PUT", `/api/incidents/${id}/transitions`, { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(typeof (res.json as { message: unknown }).message).toBe("string");
    }
  });

  it("answers 404 for unknown ids on every incident route, and for a key used as an id", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    for (const [method, path] of [
      ["GET", `/api/incidentsReadModel/incidents/${unknown}`],
      ["GET", `/api/incidents/${unknown}/events`],
      ["GET", `/api/incidents/${unknown}/events/count`],
      ["GET", `/api/incidentsReadModel/incidents/${unknown}/transitions`],
      ["GET", "/api/incidentsReadModel/incidents/INC-1"],
    ] as const) {
      const res = await call(emu.coreUrl, method, path, { token });
      expect(res.status, path).toBe(404);
    }
    const put = await call(emu.coreUrl, "PUT", `/api/incidents/${unknown}/transitions`, {
      token,
      body: { id: "Closed" },
    });
    expect(put.status).toBe(404);
  });

  it("serves system_info and the dictionaries", async () => {
    const info = await call(emu.coreUrl, "GET", "/api/deployment_configuration/v1/system_info", { token });
    expect((info.json as { productVersion: string }).productVersion).toBe("26.1.7351");
    expect((await call(emu.coreUrl, "GET", "/api/statuses", { token })).json).toEqual([
      "New",
      "Approved",
      "InProgress",
      "Resolved",
      "Closed",
    ]);
    expect((await call(emu.coreUrl, "GET", "/api/severities", { token })).json).toEqual([
      "High",
      "Medium",
      "Low",
    ]);
    const statusLabels = (await call(emu.coreUrl, "GET", "/api/statuses/localizations", { token }))
      .json as Array<{
      key: string;
      value: string;
    }>;
    expect(statusLabels[0]).toEqual({ key: "New", value: "Новый" });
    expect((await call(emu.coreUrl, "GET", "/api/severities/localizations", { token })).json).toEqual([
      { key: "High", value: "Высокая" },
      { key: "Medium", value: "Средняя" },
      { key: "Low", value: "Низкая" },
    ]);
    expect((await call(emu.coreUrl, "GET", "/api/no/such/route", { token })).status).toBe(404);
    expect((await call(emu.coreUrl, "DELETE", "/api/statuses", { token })).status).toBe(405);
  });
});

describe("strict transitions", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 15, strictTransitions: true });
  });
  afterAll(() => emu.close());

  it("refuses leaving Closed when strictTransitions is on, and allows forward moves", async () => {
    const token = await accessToken(emu);
    const { id } = emu.state.addIncident();
    const to = (status: string) =>
      call(emu.coreUrl, "PUT", `/api/incidents/${id}/transitions`, { token, body: { id: status } });
    expect((await to("InProgress")).status).toBe(204);
    expect((await to("Approved")).status).toBe(400);
    expect((await to("Closed")).status).toBe(204);
    expect((await to("InProgress")).status).toBe(400);
    expect(emu.state.get(id)?.status).toBe("Closed");
  });
});
