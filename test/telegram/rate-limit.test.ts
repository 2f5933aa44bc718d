import { describe, expect, it } from "vitest";
import { CommandRateLimiter, RefusalTally } from "../../src/telegram/rate-limit.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("CommandRateLimiter", () => {
  it("lets `limit` commands through, warns once, then drops until the window frees up", () => {
    const c = clock();
    const limiter = new CommandRateLimiter({ limit: 3, windowMs: 1000, now: c.now });
    expect([1, 2, 3].map(() => limiter.check(7))).toEqual(["ok", "ok", "ok"]);
    expect(limiter.check(7)).toBe("warn");
    expect(limiter.check(7)).toBe("drop");
    expect(limiter.check(7)).toBe("drop");
    c.advance(1001);
    expect(limiter.check(7)).toBe("ok");
    // After a fresh command the warning may be given again on the next flood.
    expect([1, 2].map(() => limiter.check(7))).toEqual(["ok", "ok"]);
    expect(limiter.check(7)).toBe("warn");
  });

  it("is a sliding window: only commands older than the window free a slot", () => {
    const c = clock();
    const limiter = new CommandRateLimiter({ limit: 2, windowMs: 1000, now: c.now });
    expect(limiter.check(1)).toBe("ok");
    c.advance(600);
    expect(limiter.check(1)).toBe("ok");
    c.advance(300); // the first is 900 ms old: still inside
    expect(limiter.check(1)).toBe("warn");
    c.advance(200); // the first is now 1100 ms old
    expect(limiter.check(1)).toBe("ok");
  });

  it("keeps each person's budget separate, so one flood does not limit anybody else", () => {
    const limiter = new CommandRateLimiter({ limit: 2, windowMs: 10_000, now: clock().now });
    for (let i = 0; i < 50; i++) limiter.check(1);
    expect(limiter.check(2)).toBe("ok");
    expect(limiter.check(2)).toBe("ok");
    expect(limiter.check(1)).toBe("drop");
  });

  it("forgets the least recently seen people beyond maxTracked (bounded memory)", () => {
    const limiter = new CommandRateLimiter({ limit: 1, windowMs: 10_000, maxTracked: 2, now: clock().now });
    expect(limiter.check(1)).toBe("ok");
    expect(limiter.check(1)).toBe("warn");
    limiter.check(2);
    limiter.check(3); // person 1 is forgotten
    expect(limiter.check(1)).toBe("ok");
  });
});

describe("RefusalTally", () => {
  it("counts refusals per person in a window opened by the first one; hands out only closed windows", () => {
    const tally = new RefusalTally({ windowMs: 1000 });
    for (let i = 0; i < 4; i++) tally.add(7, "@seven", -5, 10_000 + i * 100);
    tally.add(8, "@eight", 8, 10_500);
    expect(tally.takeClosed(10_999)).toEqual([]);
    expect(tally.takeClosed(11_000)).toEqual([
      { userId: 7, actorName: "@seven", chatId: -5, since: 10_000, count: 4 },
    ]);
    // A new refusal opens a new window; the open one is handed out at stop.
    tally.add(7, "@seven", -5, 11_200);
    expect(tally.takeAll().map((r) => [r.userId, r.count])).toEqual([
      [8, 1],
      [7, 1],
    ]);
    expect(tally.takeAll()).toEqual([]);
  });

  it("tracks a bounded number of people: the oldest window is closed early", () => {
    const tally = new RefusalTally({ windowMs: 1000, maxTracked: 2 });
    expect(tally.add(1, "a", 1, 0)).toEqual([]);
    expect(tally.add(2, "b", 2, 0)).toEqual([]);
    expect(tally.add(3, "c", 3, 0).map((r) => r.userId)).toEqual([1]);
  });
});
