// Long polling through a long Telegram outage: waits grow, never past the cap, polling never gives up,
// and a stop cuts a wait short. Real HTTP to the fake Bot API; the waits themselves are recorded, not slept.
import { Api } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeBotApi, startFakeBotApi } from "../../src/botapi-fake/index.js";
import { PollBackoff } from "../../src/telegram/poll-backoff.js";

let fake: FakeBotApi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("PollBackoff", () => {
  it("waits longer after each failed getUpdates, never past the cap, and keeps trying after any number", async () => {
    fake = await startFakeBotApi();
    const waits: number[] = [];
    const backoff = new PollBackoff({
      baseMs: 1_000,
      capMs: 30_000,
      random: () => 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const api = new Api(fake.token, { apiRoot: fake.apiRoot });
    api.config.use(backoff.transformer);
    const FAILURES = 40;
    fake.failNext("getUpdates", { code: 502, description: "Bad Gateway" }, FAILURES);
    let failed = 0;
    for (let i = 0; i < FAILURES; i++) {
      await api.getUpdates({ timeout: 0 }).catch(() => failed++);
    }
    expect(failed).toBe(FAILURES);
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
    expect(backoff.consecutiveFailures).toBe(0);
    // 1 s, 2 s, 4 s, … then 30 s for every later try: a 40-try outage costs minutes, not days.
    expect(waits.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(Math.max(...waits)).toBe(30_000);
    expect(waits).toHaveLength(FAILURES);
    // Other methods are never held back by a polling failure.
    fake.failNext("getUpdates", { code: 502, description: "Bad Gateway" }, 1);
    await api.getUpdates({ timeout: 0 }).catch(() => undefined);
    const before = waits.length;
    await api.getMe();
    expect(waits).toHaveLength(before);
  });

  it("cuts a wait short when the poll is aborted (the bot stops)", async () => {
    const backoff = new PollBackoff({ baseMs: 60_000, capMs: 60_000, random: () => 1 });
    const failing = backoff.transformer as unknown as (
      prev: () => Promise<unknown>,
      method: string,
      payload: object,
      signal?: AbortSignal,
    ) => Promise<unknown>;
    await failing(() => Promise.reject(new Error("down")), "getUpdates", {}).catch(() => undefined);
    const stop = new AbortController();
    const started = Date.now();
    const call = failing(() => Promise.reject(new Error("stopped")), "getUpdates", {}, stop.signal);
    setTimeout(() => stop.abort(), 20);
    await expect(call).rejects.toThrow("stopped");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
