import { describe, expect, it } from "vitest";
import { RequestPace, RequestStoppedError } from "../../src/telegram/request-pace.js";

/** A virtual clock: sleeping moves it on at once, and every sleep is recorded. */
function virtualTime() {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => now,
    slept,
    sleep: async (ms: number, signal: AbortSignal) => {
      if (signal.aborted) throw signal.reason;
      slept.push(ms);
      now += ms;
    },
  };
}

describe("RequestPace", () => {
  it("lets `burst` sends go at once, then one per 1/perSec, first come first served", async () => {
    const time = virtualTime();
    const pace = new RequestPace({ perSec: 2, burst: 4, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 4; i++) await pace.take();
    expect(time.slept).toEqual([]);
    await pace.take();
    await pace.take(2);
    expect(time.slept).toEqual([500, 1000]);
  });

  it("refills while idle", async () => {
    const time = virtualTime();
    const pace = new RequestPace({ perSec: 2, burst: 2, now: time.now, sleep: time.sleep });
    await pace.take(2);
    await time.sleep(10_000, new AbortController().signal);
    time.slept.length = 0;
    await pace.take(2);
    expect(time.slept).toEqual([]);
  });

  it("holds a chat's messages while it is busy (up to maxHoldMs), one at a time, in order", async () => {
    const time = virtualTime();
    const pace = new RequestPace({ perSec: 100, burst: 10, recheckMs: 200, maxHoldMs: 5_000, ...time });
    let busyChecks = 0;
    const busy = async () => ++busyChecks <= 3;
    const order: string[] = [];
    const sends = ["a", "b", "c"].map((name) =>
      pace.inLane(7, busy, async () => {
        order.push(name);
        return name;
      }),
    );
    expect(await Promise.all(sends)).toEqual(["a", "b", "c"]);
    expect(order).toEqual(["a", "b", "c"]);
    expect(time.slept).toEqual([200, 200, 200]); // three "busy" answers, then free

    // Busy for ever: held for maxHoldMs, then sent anyway.
    time.slept.length = 0;
    expect(
      await pace.inLane(
        8,
        async () => true,
        async () => "late",
      ),
    ).toBe("late");
    expect(time.slept.reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it("refuses waiting and later sends once stopped", async () => {
    const pace = new RequestPace({ perSec: 1, burst: 1 });
    await pace.take();
    const waiting = pace.take();
    pace.stop();
    await expect(waiting).rejects.toBeInstanceOf(RequestStoppedError);
    await expect(pace.take()).rejects.toBeInstanceOf(RequestStoppedError);
    await expect(
      pace.inLane(
        1,
        async () => false,
        async () => 1,
      ),
    ).rejects.toBeInstanceOf(RequestStoppedError);
  });
});
