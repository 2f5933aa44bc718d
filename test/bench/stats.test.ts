// The benchmark's arithmetic: percentiles and the lower bound Telegram's limits put on a delivery.
import { describe, expect, it } from "vitest";
import {
  fastestDeliverySeconds,
  fastestSchedule,
  messagesNeeded,
  percentile,
  summarize,
} from "../../bench/lib/stats.js";
import { DEFAULT_RATE_LIMITS, RateLimiter } from "../../src/botapi-fake/rate-limits.js";

describe("percentile", () => {
  it("interpolates between the closest ranks", () => {
    expect(percentile([3, 1, 2, 4, 5], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20], 95)).toBeCloseTo(19.5);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("summarizes a sample", () => {
    const s = summarize([1, 2, 3, 4, 10]);
    expect(s).toMatchObject({ n: 5, p50: 3, max: 10, mean: 4 });
    expect(s.p95).toBeCloseTo(8.8);
  });
});

describe("the lower bound of a delivery under Telegram's limits", () => {
  it("lets the first burst go at once, then one a second in a private chat", () => {
    expect(fastestDeliverySeconds([{ group: false, messages: 3 }])).toBe(0);
    expect(fastestDeliverySeconds([{ group: false, messages: 10 }])).toBe(7);
  });

  it("holds a group to 20 messages in any minute", () => {
    // 0–2 at once, 3–19 one a second (17 s), the 21st only when the 1st leaves the minute (60 s),
    // then as the 2nd … 5th leave: 60, 60, 61, 62.
    expect(fastestDeliverySeconds([{ group: true, messages: 20 }])).toBe(17);
    expect(fastestDeliverySeconds([{ group: true, messages: 25 }])).toBe(62);
  });

  it("holds the bot to 30 messages in any second across chats", () => {
    const chats = Array.from({ length: 90 }, () => ({ group: false, messages: 1 }));
    expect(fastestDeliverySeconds(chats)).toBe(2);
    expect(fastestDeliverySeconds([])).toBe(0);
  });

  it("is a schedule the fake Bot API's own flood control accepts, message by message", () => {
    const loads = [
      { group: false, messages: 40 },
      { group: true, messages: 45 },
      { group: true, messages: 30 },
      ...Array.from({ length: 60 }, (_, i) => ({ group: i % 2 === 0, messages: 2 })),
    ];
    const ids = loads.map((load, i) => (load.group ? -1000 - i : 1000 + i));
    const schedule = fastestSchedule(loads);
    expect(schedule).toHaveLength(loads.reduce((sum, l) => sum + l.messages, 0));
    const oracle = new RateLimiter(DEFAULT_RATE_LIMITS);
    const refused = schedule.filter((send) => !oracle.take(ids[send.chat]!, send.at).allowed);
    expect(refused).toEqual([]);
  });

  it("counts the messages a backlog needs at k incidents per message", () => {
    expect(messagesNeeded(2500, 115)).toBe(22);
    expect(messagesNeeded(300, 300)).toBe(1);
    expect(messagesNeeded(5, 0)).toBe(5);
  });
});
