// The bot-wide limit counts a call from the moment it leaves until a second after its answer:
// calls that reach Telegram later than they left (new connections, a busy event loop) must not
// bunch up with the next ones into more than the limit in one second of Telegram's clock.
import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, RateLimiter } from "../../src/botapi-fake/rate-limits.js";
import { Pacer, pacingTransformer } from "../../src/delivery/pacer.js";

/** A clock the test moves; the pacer's sleeps end when it passes their end. */
function steppedClock(start = 1_000_000) {
  let t = start;
  let sleepers: Array<{ until: number; wake: () => void }> = [];
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => t,
    sleep: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        else sleepers.push({ until: t + ms, wake: resolve });
      }),
    async advanceTo(target: number) {
      t = target;
      const due = sleepers.filter((s) => s.until <= t);
      sleepers = sleepers.filter((s) => s.until > t);
      for (const s of due) s.wake();
      await flush();
    },
    flush,
  };
}

describe("Pacer bot-wide limit with calls in flight", () => {
  it("holds the next call while the limit's worth of calls is unanswered, however long they take", async () => {
    const clock = steppedClock();
    const pacer = new Pacer({ now: clock.now, sleep: clock.sleep });
    const settles: Array<() => void> = [];
    for (let chat = 1; chat <= 25; chat++) settles.push(await pacer.begin(chat));
    const start = clock.now();
    expect(pacer.nextAllowedAt(26)).toBeGreaterThan(start);
    await clock.advanceTo(start + 5_000); // still no answer: still full
    expect(pacer.nextAllowedAt(26)).toBeGreaterThan(clock.now());
    const answeredAt = clock.now();
    for (const settle of settles) settle();
    expect(pacer.nextAllowedAt(26)).toBe(answeredAt + 1000);
    settles[0]!(); // settling twice changes nothing
    expect(pacer.nextAllowedAt(26)).toBe(answeredAt + 1000);
  });

  it("keeps what reaches the fake Telegram within its limit when the first calls arrive late", async () => {
    const clock = steppedClock();
    const pacer = new Pacer({ now: clock.now, sleep: clock.sleep });
    const transformer = pacingTransformer(pacer);
    const oracle = new RateLimiter(DEFAULT_RATE_LIMITS);
    const inTransit: Array<{ chatId: number; answer: () => void }> = [];
    const refused: number[] = [];
    let arrived = 0;
    // biome-ignore lint/suspicious/noExplicitAny: grammY's ApiCallFn is generic over every method
    const prev: any = (_method: string, payload: { chat_id: number }) =>
      new Promise((resolve) => {
        inTransit.push({
          chatId: payload.chat_id,
          answer: () => resolve({ ok: true, result: { message_id: 1 } }),
        });
      });
    /** Everything in transit reaches Telegram now and is answered. */
    const arrive = () => {
      for (const call of inTransit.splice(0)) {
        arrived++;
        if (!oracle.take(call.chatId, clock.now()).allowed) refused.push(call.chatId);
        call.answer();
      }
    };

    const start = clock.now();
    const calls = Array.from({ length: 80 }, (_, i) =>
      transformer(prev, "sendMessage", { chat_id: i + 1, text: "x" } as never),
    );
    await clock.flush();
    expect(inTransit).toHaveLength(25); // the bot-wide limit lets 25 go
    // They take 900 ms to arrive (say, new connections), and all arrive together.
    await clock.advanceTo(start + 900);
    arrive();
    await clock.flush();
    // From then on every call arrives within 10 ms of leaving.
    for (let t = start + 910; t <= start + 6_000 && arrived < 80; t += 10) {
      await clock.advanceTo(t);
      arrive();
      await clock.flush();
    }
    await Promise.all(calls);
    expect(arrived).toBe(80);
    expect(refused).toEqual([]);
  });
});
