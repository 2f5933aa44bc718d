// /metrics and /healthz of a running service (BOT_HTTP_PORT): the counters an operator watches move
// with the work done. (/healthz turning 503 during a SIEM outage and back is in siem-outage.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN,
  CHATS,
  firstPollDone,
  freePort,
  type RunningService,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

/** Sum of a metric's samples in Prometheus text whose labels include every given one. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ?? "";
    if (Object.entries(labels).every(([k, v]) => present.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

describe("metrics and health over HTTP", () => {
  let world: World;
  let running: RunningService;

  beforeAll(async () => {
    world = await startWorld();
    await world.allowInStore();
    running = await world.startInProcess({ bot: { httpPort: await freePort(), instanceName: "solo" } });
    await firstPollDone(running);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("counts incidents seen, deliveries by result, polls and notification latency as they happen", async () => {
    const url = running.service.httpUrl!;
    const scrape = async () => {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      return res.text();
    };
    const before = await scrape();
    const keys = world.emu.state.addBurst(3, { status: "New" }).map((i) => i.key);
    await waitForKeys(world, CHATS, keys, 20_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    // The poll after the deliveries has been counted too.
    const polls = sample(before, "mpsiem_poll_duration_seconds_count");
    await waitUntil(
      "another poll",
      async () => sample(await scrape(), "mpsiem_poll_duration_seconds_count") > polls + 1,
      5_000,
    );
    const after = await scrape();

    const delta = (name: string, labels?: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta("mpsiem_incidents_seen_total")).toBe(3);
    expect(delta("mpsiem_deliveries_total", { result: "sent", chat_kind: "private" })).toBe(3);
    expect(delta("mpsiem_deliveries_total", { result: "sent", chat_kind: "supergroup" })).toBe(3);
    expect(delta("mpsiem_deliveries_total", { result: "failed" })).toBe(0);
    expect(delta("mpsiem_poll_duration_seconds_count")).toBeGreaterThan(0);
    expect(delta("mpsiem_polls_total", { kind: "creation", result: "ok" })).toBeGreaterThan(0);
    expect(delta("mpsiem_notification_latency_seconds_count")).toBe(6);
    // The outbox gauge is refreshed about once a second: it drops back to 0 after the deliveries.
    await waitUntil(
      "outbox depth 0 again",
      async () => sample(await scrape(), "mpsiem_outbox_depth") === 0,
      5_000,
      {
        pollMs: 200,
      },
    );
    expect(sample(after, "mpsiem_telegram_429_total")).toBe(0);
  });

  it("answers /healthz with 200 and a JSON report while the SIEM and Telegram answer", async () => {
    const res = await fetch(`${running.service.httpUrl}/healthz`);
    const body = (await res.json()) as {
      ok: boolean;
      reasons: string[];
      siem: { lastSuccessAt: string | null };
    };
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.reasons).toEqual([]);
    expect(body.siem.lastSuccessAt).not.toBeNull();
  });

  it("on SQLite the one process leads: /healthz, the leader gauge and /debug say so", async () => {
    const url = running.service.httpUrl!;
    const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      ok: true,
      role: "leader",
      instance: "solo",
      lease: { backend: "sqlite" },
    });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(sample(text, "mpsiem_telegram_leader")).toBe(1);
    expect(sample(text, "mpsiem_telegram_takeovers_total")).toBe(1);
    expect(sample(text, "mpsiem_telegram_leadership_losses_total")).toBe(0);
    expect(text).toContain("# TYPE mpsiem_telegram_lease_renewals_total counter");
    expect(text).toContain("# TYPE mpsiem_telegram_lease_failures_total counter");

    world.fake.sendText(ADMIN, ADMIN.id, "/debug");
    await waitUntil(
      "the /debug answer",
      () => world.fake.messages(ADMIN.id).some((m) => m.plainText.includes("instance solo:")),
      10_000,
      { pollMs: 50 },
    );
    const debug = world.fake.messages(ADMIN.id).find((m) => m.plainText.includes("instance solo:"))!;
    expect(debug.plainText).toMatch(/this instance: solo, leader \(epoch \d+\)/);
    expect(debug.plainText).toMatch(/instance solo: leader, last heartbeat \d/);
  });
});
