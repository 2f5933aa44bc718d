import { autoRetry } from "@grammyjs/auto-retry";
import { describe, expect, it } from "vitest";
import { ALICE, apiError, rawCall, startFake } from "./helpers.js";

describe("fake Bot API: flood control", () => {
  it("limits one chat to a burst, answers 429 with retry_after, and flags a request during the ban", async () => {
    let clock = 5_000_000;
    const { fake, api } = await startFake({ now: () => clock });
    fake.addChat({ id: ALICE.id, type: "private" });
    for (let i = 0; i < 3; i++) await api.sendMessage(ALICE.id, `m${i}`);

    const limited = await rawCall(fake, "sendMessage", {
      body: JSON.stringify({ chat_id: ALICE.id, text: "m3" }),
    });
    expect(limited).toEqual({
      status: 429,
      json: {
        ok: false,
        error_code: 429,
        description: "Too Many Requests: retry after 1",
        parameters: { retry_after: 1 },
      },
    });
    expect(fake.calls.at(-1)?.duringRetryAfter).toBe(false); // hitting the limit is not a violation

    clock += 500; // retrying after half the wait: a sender that ignores retry_after
    const early = await apiError(api.sendMessage(ALICE.id, "m3"));
    expect(early.parameters.retry_after).toBe(1);
    expect(fake.calls.at(-1)?.duringRetryAfter).toBe(true);
    expect(fake.stats()).toMatchObject({ tooManyRequests: 2, duringRetryAfter: 1 });

    clock += 500; // the ban is over: one token refilled, and the refused requests consumed none
    await api.sendMessage(ALICE.id, "m3");
    expect(fake.calls.at(-1)?.duringRetryAfter).toBe(false);
    expect((await apiError(api.sendMessage(ALICE.id, "m4"))).error_code).toBe(429);
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["m0", "m1", "m2", "m3"]);
  });

  it("limits a group to 20 counted requests a minute, edits included", async () => {
    let clock = 0;
    const { fake, api } = await startFake({
      now: () => clock,
      limits: { perChatBurst: 100, perChatPerSec: 100 },
    });
    fake.addChat({ id: -400, type: "group", title: "SOC" });
    fake.addChat({ id: -401, type: "group", title: "Other" });
    const first = await api.sendMessage(-400, "m0");
    for (let i = 1; i < 15; i++) {
      clock += 1_000;
      await api.sendMessage(-400, `m${i}`);
    }
    for (let i = 0; i < 5; i++) {
      clock += 1_000;
      await api.editMessageText(-400, first.message_id, `edit ${i}`);
    }
    clock += 1_000; // 20 requests in the last 20 s
    const limited = await apiError(api.sendMessage(-400, "m20"));
    expect(limited.error_code).toBe(429);
    expect(limited.parameters.retry_after).toBe(40); // until the first request leaves the minute
    await api.sendMessage(-401, "another group is not affected");

    clock += 40_000;
    await api.sendMessage(-400, "m20");
    expect(fake.stats().duringRetryAfter).toBe(0);
  });

  it("limits the bot as a whole and bans every chat while that ban lasts", async () => {
    let clock = 0;
    const { fake, api } = await startFake({
      now: () => clock,
      limits: { perBotPerSec: 4, retryAfterSec: 3 },
    });
    for (let id = 1; id <= 5; id++) fake.addChat({ id, type: "private" });
    for (let id = 1; id <= 4; id++) await api.sendMessage(id, "hi");
    const limited = await apiError(api.sendMessage(5, "hi"));
    expect(limited.parameters.retry_after).toBe(3);

    clock += 1_500; // the bot window has passed, but the ban (3 s) has not
    await apiError(api.sendMessage(1, "again"));
    expect(fake.calls.at(-1)?.duringRetryAfter).toBe(true);
    clock += 1_500;
    await api.sendMessage(1, "again");
    expect(fake.stats()).toMatchObject({ tooManyRequests: 2, duringRetryAfter: 1 });
  });

  it("an injected 429 opens a ban window too", async () => {
    let clock = 0;
    const { fake, api } = await startFake({ now: () => clock, limits: false });
    fake.addChat({ id: ALICE.id, type: "private" });
    fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 5",
      retryAfter: 5,
    });
    expect((await apiError(api.sendMessage(ALICE.id, "a"))).parameters.retry_after).toBe(5);
    clock += 4_000;
    await apiError(api.sendMessage(ALICE.id, "a"));
    expect(fake.calls.at(-1)).toMatchObject({ duringRetryAfter: true });
    clock += 1_000;
    await api.sendMessage(ALICE.id, "a");
    expect(fake.stats().duringRetryAfter).toBe(1);
  });

  it("does not flag a client that waits out retry_after on the real clock (grammY auto-retry)", async () => {
    const { fake, api } = await startFake();
    fake.addChat({ id: ALICE.id, type: "private" });
    api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 5 }));
    fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 1",
      retryAfter: 1,
    });
    await api.sendMessage(ALICE.id, "first"); // 429 retry_after 1, waited, then sent
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["first"]);
    expect(fake.calls.map((c) => c.method)).toEqual(["sendMessage", "sendMessage"]);
    expect(fake.stats()).toMatchObject({ tooManyRequests: 1, duringRetryAfter: 0 });
  });

  it("does not count getMe, getUpdates or answers against the limits", async () => {
    let clock = 0;
    const { fake, api } = await startFake({ now: () => clock, limits: { perBotPerSec: 1, perChatBurst: 1 } });
    fake.addChat({ id: ALICE.id, type: "private" });
    const sent = await api.sendMessage(ALICE.id, "one");
    for (let i = 0; i < 5; i++) await api.getMe();
    const query = fake.pressButton(ALICE, ALICE.id, sent.message_id, "x");
    await api.answerCallbackQuery(query);
    expect(await api.getUpdates({ timeout: 0 })).toHaveLength(1);
    clock += 1_000;
    await api.sendMessage(ALICE.id, "two");
    expect(fake.stats().tooManyRequests).toBe(0);
  });
});
