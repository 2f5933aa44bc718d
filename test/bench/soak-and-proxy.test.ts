// The soak's verdict (the heap floor's slope) and the 150 ms world's delaying proxy.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { startDelayProxy } from "../../bench/lib/delay-proxy.js";
import { floorSlopeMbPer100k, type SoakSample, soakVerdict } from "../../bench/scenarios/soak.js";

const MB = 2 ** 20;

/** Samples every 1,000 calls: a saw-tooth (garbage collection) on top of `floorAt(calls)`. */
function series(floorAt: (calls: number) => number): SoakSample[] {
  return Array.from({ length: 201 }, (_, i) => {
    const calls = i * 1_000;
    const tooth = (i % 10) * 3 * MB; // up to 27 MB above the floor, cleared every 10 samples
    return { sec: i, calls, heapUsedBytes: floorAt(calls) + tooth, rssBytes: 100 * MB };
  });
}

describe("floorSlopeMbPer100k", () => {
  it("is about 0 for a saw-tooth over a flat floor", () => {
    expect(
      Math.abs(
        floorSlopeMbPer100k(
          series(() => 40 * MB),
          (s) => s.heapUsedBytes,
        ),
      ),
    ).toBeLessThan(0.5);
  });

  it("finds a leak of 100 bytes a call (about 9.5 MB per 100,000 calls) under the saw-tooth", () => {
    const slope = floorSlopeMbPer100k(
      series((calls) => 40 * MB + calls * 100),
      (s) => s.heapUsedBytes,
    );
    expect(slope).toBeGreaterThan(8);
    expect(slope).toBeLessThan(11);
  });

  it("leaves the first tenth (warm-up) out", () => {
    // Growth only during the first 20,000 calls, then flat.
    const slope = floorSlopeMbPer100k(
      series((calls) => 40 * MB + Math.min(calls, 20_000) * 1_000),
      (s) => s.heapUsedBytes,
    );
    expect(slope).toBeLessThan(2);
  });
});

describe("soakVerdict", () => {
  it("judges only runs of 100,000 calls or more", () => {
    expect(soakVerdict(30_000, 30)).toBeNull();
    expect(soakVerdict(200_000, 29.2)).toBe(false);
    expect(soakVerdict(200_000, 1.5)).toBe(true);
    expect(soakVerdict(200_000, -3)).toBe(true);
    expect(soakVerdict(200_000, Number.NaN)).toBeNull();
  });
});

describe("startDelayProxy", () => {
  it("passes requests and answers through, each answer at least the delay after its request", async () => {
    const arrivals: number[] = [];
    const target = createServer((req, res) => {
      arrivals.push(Date.now());
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, path: req.url, body }));
      });
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", () => resolve()));
    const proxy = await startDelayProxy({
      target: `http://127.0.0.1:${(target.address() as AddressInfo).port}`,
      delayMs: 150,
    });
    try {
      const sentAt = Date.now();
      const res = await fetch(`${proxy.url}/bot1:x/sendMessage`, { method: "POST", body: '{"chat_id":1}' });
      const answeredAt = Date.now();
      expect(await res.json()).toEqual({ ok: true, path: "/bot1:x/sendMessage", body: '{"chat_id":1}' });
      expect(answeredAt - sentAt).toBeGreaterThanOrEqual(150);
      expect(answeredAt - sentAt).toBeLessThan(1_000);
      // The request went on at once: the message "arrives" well before the answer comes back.
      expect(answeredAt - arrivals[0]!).toBeGreaterThanOrEqual(50);
      expect(proxy.requests()).toBe(1);
    } finally {
      await proxy.close();
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });
});
