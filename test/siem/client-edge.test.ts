// Answers the emulator never gives (a failing count, items without ids, pages that shift, a 401
// that survives a fresh login), served by a small scripted HTTP server on 127.0.0.1.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createSiemClient } from "../../src/siem/client.js";
import { type SiemClient, SiemError } from "../../src/siem/types.js";

interface Answer {
  status: number;
  body?: unknown;
}
type Route = (body: string, url: URL) => Answer;

interface ScriptedSiem {
  url: string;
  requests: Array<{ method: string; path: string; body: string }>;
  close(): Promise<void>;
}

const servers: ScriptedSiem[] = [];
const clients: SiemClient[] = [];

async function scriptedSiem(routes: Record<string, Route>): Promise<ScriptedSiem> {
  const requests: ScriptedSiem["requests"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const key = `${req.method} ${url.pathname}`;
      requests.push({ method: req.method ?? "", path: url.pathname, body });
      const route =
        routes[key] ??
        (key === "POST /connect/token"
          ? () => ({ status: 200, body: { access_token: `token-${requests.length}`, expires_in: 3600 } })
          : () => ({ status: 404, body: { message: "no route" } }));
      const answer = route(body, url);
      const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? null);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.status === 204 ? undefined : payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const scripted: ScriptedSiem = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(scripted);
  return scripted;
}

function clientFor(siem: ScriptedSiem, pageSize = 500): SiemClient {
  const client = createSiemClient({
    config: {
      url: siem.url,
      authUrl: siem.url,
      username: "u",
      password: "secret-password",
      clientId: "mpx",
      clientSecret: "secret-client",
      tlsVerify: true,
      timeoutMs: 2_000,
    },
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    pageSize,
  });
  clients.push(client);
  return client;
}

async function failure(promise: Promise<unknown>): Promise<SiemError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SiemError);
  return error as SiemError;
}

const item = (n: number) => ({
  id: `id-${n}`,
  key: `INC-${n}`,
  created: new Date(Date.UTC(2024, 2, 12, 6, 0, n)).toISOString().replace("Z", "0000Z"),
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("SIEM client on unusual answers", () => {
  it("sends the reference list body and reads pages until a short one", async () => {
    const siem = await scriptedSiem({
      "POST /api/v2/incidents/": (body) => {
        const { offset } = JSON.parse(body) as { offset: number };
        const ids = offset === 0 ? [1, 2] : offset === 2 ? [3] : [];
        return { status: 200, body: { incidents: ids.map(item) } };
      },
    });
    const incidents = await clientFor(siem, 2).listIncidents({
      from: new Date("2024-03-12T06:00:00.120Z"),
      timeType: "creation",
    });
    expect(incidents.map((i) => i.id)).toEqual(["id-1", "id-2", "id-3"]);
    const listBodies = siem.requests
      .filter((r) => r.path === "/api/v2/incidents/")
      .map((r) => JSON.parse(r.body));
    expect(listBodies).toHaveLength(2);
    expect(listBodies[0]).toEqual({
      offset: 0,
      limit: 2,
      groups: { filterType: "no_filter" },
      timeFrom: "2024-03-12T06:00:00.120Z",
      timeTo: null,
      filterTimeType: "creation",
      filter: {
        select: ["key", "name", "category", "type", "status", "created", "assigned"],
        orderby: [{ field: "created", sortOrder: "ascending" }],
      },
      queryIds: ["all_incidents"],
    });
    expect(listBodies[1].offset).toBe(2);
  });

  it("sends the password grant form the reference describes", async () => {
    const siem = await scriptedSiem({
      "GET /api/deployment_configuration/v1/system_info": () => ({ status: 200, body: {} }),
    });
    await clientFor(siem).systemInfo();
    const form = new URLSearchParams(siem.requests.find((r) => r.path === "/connect/token")?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "password",
      client_id: "mpx",
      client_secret: "secret-client",
      scope: "authorization offline_access mpx.api ptkb.api",
      response_type: "code id_token",
      username: "u",
      password: "secret-password",
    });
  });

  it("keeps each incident once when items shift between pages, and skips items without an id", async () => {
    const siem = await scriptedSiem({
      "POST /api/v2/incidents/": (body) => {
        const { offset } = JSON.parse(body) as { offset: number };
        // Page 2 repeats id-3 (a newer incident pushed it down) and has an item without an id.
        const pages: Record<number, unknown[]> = {
          0: [item(1), item(2), item(3)],
          3: [item(3), { key: "INC-X" }, item(4)],
          6: [item(5)],
        };
        return { status: 200, body: { incidents: pages[offset] ?? [], totalItems: 7 } };
      },
    });
    const incidents = await clientFor(siem, 3).listIncidents({ from: new Date(0), timeType: "creation" });
    expect(incidents.map((i) => i.id)).toEqual(["id-1", "id-2", "id-3", "id-4", "id-5"]);
  });

  it("stops paging at totalItems even when pages are full", async () => {
    const siem = await scriptedSiem({
      "POST /api/v2/incidents/": (body) => {
        const { offset } = JSON.parse(body) as { offset: number };
        return { status: 200, body: { incidents: [item(offset + 1), item(offset + 2)], totalItems: 4 } };
      },
    });
    const incidents = await clientFor(siem, 2).listIncidents({ from: new Date(0), timeType: "creation" });
    expect(incidents).toHaveLength(4);
    expect(siem.requests.filter((r) => r.path === "/api/v2/incidents/")).toHaveLength(2);
  });

  it("returns the list oldest first even when the SIEM sends it newest first", async () => {
    const siem = await scriptedSiem({
      "POST /api/v2/incidents/": () => ({ status: 200, body: { incidents: [item(9), item(4), item(6)] } }),
    });
    const incidents = await clientFor(siem).listIncidents({ from: new Date(0), timeType: "creation" });
    expect(incidents.map((i) => i.id)).toEqual(["id-4", "id-6", "id-9"]);
  });

  it("treats a list answer without incidents as malformed", async () => {
    const siem = await scriptedSiem({
      "POST /api/v2/incidents/": () => ({ status: 200, body: { items: [] } }),
    });
    const error = await failure(clientFor(siem).listIncidents({ from: new Date(0), timeType: "creation" }));
    expect(error.kind).toBe("malformed");
    expect(error.call).toBe("list incidents");
  });

  it("still returns events when the count fails", async () => {
    const events = [1, 2, 3].map((n) => ({
      id: `e${n}`,
      date: "2024-03-12T06:12:07.0000000Z",
      description: `d${n}`,
    }));
    const siem = await scriptedSiem({
      "GET /api/incidents/abc/events": (_body, url) => ({
        status: 200,
        body: events.slice(0, Number(url.searchParams.get("limit"))),
      }),
      "GET /api/incidents/abc/events/count": () => ({ status: 500, body: { message: "boom" } }),
    });
    const result = await clientFor(siem).getEvents("abc", 2);
    expect(result.events.map((e) => e.id)).toEqual(["e1", "e2"]);
    expect(result.total).toBe(2);
    const eventsCall = siem.requests.find((r) => r.path === "/api/incidents/abc/events");
    expect(eventsCall).toBeDefined();
  });

  it("reports a 401 that survives a fresh login as unauthorized, after exactly one re-login", async () => {
    const siem = await scriptedSiem({
      "GET /api/deployment_configuration/v1/system_info": () => ({
        status: 401,
        body: { message: "denied" },
      }),
    });
    const error = await failure(clientFor(siem).systemInfo());
    expect(error.kind).toBe("unauthorized");
    expect(siem.requests.filter((r) => r.path === "/connect/token")).toHaveLength(2);
  });

  it("maps a token endpoint 5xx to a server error and an answer without access_token to malformed", async () => {
    const down = await scriptedSiem({
      "POST /connect/token": () => ({ status: 502, body: "<html>bad gateway</html>" }),
    });
    expect((await failure(clientFor(down).systemInfo())).kind).toBe("server");
    const odd = await scriptedSiem({ "POST /connect/token": () => ({ status: 200, body: { token: "x" } }) });
    expect((await failure(clientFor(odd).systemInfo())).kind).toBe("malformed");
  });

  it("reports an unexpected status as http, and a 4xx transition as refused with the SIEM's message", async () => {
    const siem = await scriptedSiem({
      "GET /api/deployment_configuration/v1/system_info": () => ({
        status: 418,
        body: { message: "teapot" },
      }),
      "PUT /api/incidents/abc/transitions": () => ({
        status: 409,
        body: { message: "Transition is not allowed" },
      }),
    });
    const client = clientFor(siem);
    const info = await failure(client.systemInfo());
    expect(info.kind).toBe("http");
    expect(info.status).toBe(418);
    const refused = await failure(client.transition("abc", "Resolved", { measures: "", message: "" }));
    expect(refused.kind).toBe("refused");
    expect(refused.message).toContain("Transition is not allowed");
  });
});
