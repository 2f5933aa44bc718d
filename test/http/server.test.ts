import { afterEach, describe, expect, it } from "vitest";
import { Metrics } from "../../src/http/metrics.js";
import { type HealthReport, type RunningHttpServer, startHttpServer } from "../../src/http/server.js";

let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("http server", () => {
  it("answers /healthz with 200 or 503 as the report says, and /metrics as Prometheus text", async () => {
    const metrics = new Metrics({ processMetrics: false });
    let report: HealthReport = { ok: true, reasons: [], lastPoll: 1 };
    server = await startHttpServer({ host: "127.0.0.1", port: 0, metrics, health: async () => report });

    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, lastPoll: 1 });

    report = { ok: false, reasons: ["SIEM: last successful poll 40 s ago"] };
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reasons: string[] }).reasons).toEqual([
      "SIEM: last successful poll 40 s ago",
    ]);

    metrics.incidentsSeen.inc(3);
    res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toMatch(/^mpsiem_incidents_seen_total 3$/m);

    res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    res = await fetch(`${server.url}/metrics`, { method: "POST" });
    expect(res.status).toBe(405);
  });

  it("turns a failing health check into a 503 with the reason", async () => {
    server = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      metrics: new Metrics({ processMetrics: false }),
      health: async () => {
        throw new Error("store closed");
      },
    });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reasons: string[] }).reasons[0]).toContain("store closed");
  });
});
