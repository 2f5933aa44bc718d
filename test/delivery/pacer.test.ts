import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, RateLimiter } from "../../src/botapi-fake/rate-limits.js";
import { Pacer, PacerStoppedError, pacingTransformer } from "../../src/delivery/pacer.js";
import { Metrics } from "../../src/http/metrics.js";

/** A virtual clock: sleeping advances time at once, so minutes of pacing run in microseconds. */
function virtualClock(start = 1_000_000) {
  const clock = { t: start, slept: 0 };
  const now = () => clock.t;
  const sleep = async (ms: number, signal: AbortSignal) => {
    if (signal.aborted) throw signal.reason;
    clock.t += ms;
    clock.slept += ms;
  };
  return { clock, now, sleep };
}

/** Most sends inside any window of `windowMs` (the times are sorted). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  let first = 0;
  for (let i = 0; i < times.length; i++) {
    while (times[i]! - times[first]! >= windowMs) first++;
    best = Math.max(best, i - first + 1);
  }
  return best;
}

async function acquireTimes(pacer: Pacer, clock: { t: number }, chatIds: number[]): Promise<number[]> {
  const times: number[] = [];
  for (const chatId of chatIds) {
    await pacer.acquire(chatId);
    times.push(clock.t);
  }
  return times;
}

describe("Pacer", () => {
  it("paces one private chat at under 1/s after a short burst, within the fake Telegram's limits", async () => {
    const { clock, now, sleep } = virtualClock();
    const pacer = new Pacer({ now, sleep });
    const times = await acquireTimes(pacer, clock, Array(20).fill(42));
    expect(times[1]! - times[0]!).toBe(0); // a burst of 2 goes at once
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1050);
    const oracle = new RateLimiter(DEFAULT_RATE_LIMITS);
    expect(times.map((t) => oracle.take(42, t).allowed).every(Boolean)).toBe(true);
  });

  it("keeps a group to 19 per rolling minute", async () => {
    const { clock, now, sleep } = virtualClock();
    const pacer = new Pacer({ now, sleep });
    const times = await acquireTimes(pacer, clock, Array(60).fill(-100500));
    expect(maxInWindow(times, 60_000)).toBe(19);
    const oracle = new RateLimiter(DEFAULT_RATE_LIMITS);
    expect(times.map((t) => oracle.take(-100500, t).allowed).every(Boolean)).toBe(true);
  });

  it("keeps the whole bot to 25 per rolling second across many chats", async () => {
    const { clock, now, sleep } = virtualClock();
    const pacer = new Pacer({ now, sleep });
    const chats = Array.from({ length: 200 }, (_, i) => i + 1);
    const times = await acquireTimes(pacer, clock, chats);
    expect(maxInWindow(times, 1000)).toBe(25);
    const oracle = new RateLimiter(DEFAULT_RATE_LIMITS);
    expect(chats.every((chatId, i) => oracle.take(chatId, times[i]!).allowed)).toBe(true);
  });

  it("makes nothing wait for a chat's retry_after except that chat", async () => {
    const { clock, now, sleep } = virtualClock();
    const metrics = new Metrics({ processMetrics: false });
    const pacer = new Pacer({ now, sleep, metrics, banMarginMs: 0 });
    const start = clock.t;
    pacer.recordRetryAfter(7, 5);
    expect(pacer.bannedUntil(7)).toBe(start + 5000);
    expect(pacer.bannedUntil(8)).toBe(0);
    await pacer.acquire(8);
    expect(clock.t).toBe(start); // another chat is not held up
    await pacer.acquire(7);
    expect(clock.t).toBe(start + 5000);
    expect(await metrics.total(metrics.rateLimitHits)).toBe(1);
    expect(await metrics.total(metrics.rateLimitWaits)).toBe(5);
  });

  it("holds every chat during a bot-wide ban, and takes a 429 as bot-wide when the bot was busy", async () => {
    const { clock, now, sleep } = virtualClock();
    const pacer = new Pacer({ now, sleep, banMarginMs: 0 });
    const start = clock.t;
    pacer.recordRetryAfter(null, 3);
    await pacer.acquire(1);
    expect(clock.t).toBe(start + 3000);
    expect(pacer.health().bannedUntil).toBeNull();

    // 20 sends in the last second is over half the bot limit: a 429 then may be the bot-wide one
    await acquireTimes(
      pacer,
      clock,
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
    const busyAt = clock.t;
    pacer.recordRetryAfter(100, 2);
    expect(pacer.health().bannedUntil).toBe(busyAt + 2000);
    await pacer.acquire(555);
    expect(clock.t).toBe(busyAt + 2000);
  });

  it("estimates the drain time exactly as acquiring one by one takes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 0, max: 30 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 90 }),
        async (n, earlier, group, banSec) => {
          const { clock, now, sleep } = virtualClock();
          // a bot limit that never binds: the estimate is about one chat's own pace
          const pacer = new Pacer({ now, sleep, banMarginMs: 0, limits: { perBotPerSec: 1000 } });
          const chatId = group ? -1001 : 1001;
          await acquireTimes(pacer, clock, Array(earlier).fill(chatId));
          if (banSec > 0) pacer.recordRetryAfter(chatId, banSec);
          const start = clock.t;
          const estimate = pacer.estimateDrainMs(chatId, group ? "supergroup" : "private", n);
          await acquireTimes(pacer, clock, Array(n).fill(chatId));
          expect(Math.abs(estimate - (clock.t - start))).toBeLessThan(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("says a group backlog of 300 takes far more than a minute, and 10 do not", () => {
    const pacer = new Pacer();
    expect(pacer.estimateDrainMs(-5, "group", 300)).toBeGreaterThan(10 * 60_000);
    expect(pacer.estimateDrainMs(-5, "group", 10)).toBeLessThan(60_000);
    expect(pacer.estimateDrainMs(5, "private", 0)).toBe(0);
  });

  it("cancels waits on stop() and on the caller's signal", async () => {
    const pacer = new Pacer({ banMarginMs: 0 });
    pacer.recordRetryAfter(9, 60);
    const waiting = pacer.acquire(9);
    const controller = new AbortController();
    const cancelled = pacer.ready(9, controller.signal);
    controller.abort(new Error("caller gave up"));
    await expect(cancelled).rejects.toThrow("caller gave up");
    pacer.stop();
    await expect(waiting).rejects.toBeInstanceOf(PacerStoppedError);
    await expect(pacer.acquire(10)).rejects.toBeInstanceOf(PacerStoppedError);
  });

  it("ready() waits like acquire() but counts nothing", async () => {
    const { clock, now, sleep } = virtualClock();
    const pacer = new Pacer({ now, sleep });
    for (let i = 0; i < 10; i++) await pacer.ready(3);
    expect(clock.slept).toBe(0);
    await acquireTimes(pacer, clock, [3, 3, 3]);
    expect(clock.slept).toBeGreaterThan(1000);
  });
});

describe("pacingTransformer", () => {
  it("paces sends, records a 429's retry_after and the health, and leaves other methods alone", async () => {
    const { clock, now, sleep } = virtualClock();
    const metrics = new Metrics({ processMetrics: false });
    const pacer = new Pacer({ now, sleep, metrics, banMarginMs: 0 });
    const transformer = pacingTransformer(pacer);
    const seen: Array<{ method: string; at: number }> = [];
    let answer:
      | { ok: true; result: unknown }
      | { ok: false; error_code: number; description: string; parameters?: object } = {
      ok: true,
      result: true,
    };
    // biome-ignore lint/suspicious/noExplicitAny: grammY's ApiCallFn is generic over every method
    const prev: any = async (method: string) => {
      seen.push({ method, at: clock.t });
      return answer;
    };
    // biome-ignore lint/suspicious/noExplicitAny: payloads of different methods
    const call = (method: string, payload: any) => transformer(prev, method as "sendMessage", payload);

    const start = clock.t;
    answer = {
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 4",
      parameters: { retry_after: 4 },
    };
    const refused = await call("sendMessage", { chat_id: 77, text: "a" });
    expect(refused.ok).toBe(false);
    expect(pacer.bannedUntil(77)).toBe(start + 4000);
    expect(pacer.health()).toMatchObject({ lastErrorCode: 429, lastErrorAt: start, lastOkAt: null });

    answer = { ok: true, result: true };
    await call("answerCallbackQuery", { callback_query_id: "1" }); // not paced: no wait
    await call("getUpdates", {});
    expect(clock.t).toBe(start);
    await call("editMessageText", { chat_id: 77, message_id: 1, text: "b" });
    expect(seen.at(-1)).toEqual({ method: "editMessageText", at: start + 4000 });
    expect(pacer.health().lastOkAt).toBe(start + 4000);
    expect(await metrics.total(metrics.telegramErrors)).toBe(1);
  });

  it("records a network failure as error code 0 and passes the error on", async () => {
    const pacer = new Pacer();
    const transformer = pacingTransformer(pacer);
    // biome-ignore lint/suspicious/noExplicitAny: grammY's ApiCallFn is generic over every method
    const prev: any = async () => {
      throw new Error("ECONNRESET");
    };
    await expect(transformer(prev, "sendMessage", { chat_id: 1, text: "x" })).rejects.toThrow("ECONNRESET");
    expect(pacer.health().lastErrorCode).toBe(0);
  });
});
