import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, RateLimiter } from "../../src/botapi-fake/rate-limits.js";

describe("RateLimiter", () => {
  it("allows a burst per chat, then refuses until a token refills", () => {
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS);
    expect([1, 2, 3].map(() => limiter.take(42, 0).allowed)).toEqual([true, true, true]);
    expect(limiter.take(42, 0)).toEqual({ allowed: false, retryAfterSec: 1, scope: "chat" });
    expect(limiter.banRemainingMs(42, 400)).toBe(600);
    expect(limiter.banRemainingMs(7, 400)).toBe(0); // other chats are not banned
    expect(limiter.take(42, 1000).allowed).toBe(true);
    expect(limiter.take(42, 1000).allowed).toBe(false);
  });

  it("does not let a refused request consume capacity", () => {
    const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, perChatBurst: 1 });
    expect(limiter.take(1, 0).allowed).toBe(true);
    for (let i = 0; i < 5; i++) expect(limiter.take(1, 10).allowed).toBe(false);
    // had the refusals been charged, the bucket would be deep in debt here
    expect(limiter.take(1, 1000).allowed).toBe(true);
  });

  it("limits a group to perGroupPerMin in a rolling minute and answers the wait", () => {
    const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, perChatPerSec: 100, perChatBurst: 100 });
    for (let i = 0; i < 20; i++) expect(limiter.take(-100, i * 1000).allowed).toBe(true);
    const refused = limiter.take(-100, 20_000);
    expect(refused).toEqual({ allowed: false, retryAfterSec: 40, scope: "group" });
    // a private chat (positive id) has no per-minute limit
    for (let i = 0; i < 25; i++) expect(limiter.take(5, 100_000 + i * 1000).allowed).toBe(true);
    expect(limiter.take(-100, 60_001).allowed).toBe(true); // the oldest send left the window
  });

  it("limits the whole bot per second and bans every chat while it lasts", () => {
    const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, perBotPerSec: 5 });
    for (let chat = 1; chat <= 5; chat++) expect(limiter.take(chat, 0).allowed).toBe(true);
    expect(limiter.take(6, 0)).toMatchObject({ allowed: false, scope: "bot", retryAfterSec: 1 });
    expect(limiter.banRemainingMs(99, 500)).toBe(500);
    expect(limiter.take(6, 1000).allowed).toBe(true);
  });

  it("uses a fixed retry_after when configured, and no limits when disabled", () => {
    const fixed = new RateLimiter({ ...DEFAULT_RATE_LIMITS, perChatBurst: 1, retryAfterSec: 7 });
    fixed.take(1, 0);
    expect(fixed.take(1, 0)).toMatchObject({ allowed: false, retryAfterSec: 7 });
    expect(fixed.banRemainingMs(1, 0)).toBe(7000);
    const off = new RateLimiter(null);
    for (let i = 0; i < 100; i++) expect(off.take(-1, 0).allowed).toBe(true);
  });
});
