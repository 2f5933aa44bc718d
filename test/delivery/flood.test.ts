// Delivery under Telegram's flood control, as the fake enforces it with its default limits
// (1 msg/s per chat with a burst of 3, 20/min per group, 30/s per bot) and the pacer's defaults.
import { afterEach, describe, expect, it } from "vitest";
import { GROUP_CHAT, type Harness, keysShown, PRIVATE_CHAT, startHarness } from "./harness.js";

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("flood control", () => {
  it("honours a 429's retry_after: nothing reaches the chat until it has passed", async () => {
    h = await startHarness();
    const hh = h;
    await hh.store.chats.setState(GROUP_CHAT, "denied", 1);
    hh.fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 1",
      retryAfter: 1,
    });
    const ids = await hh.addIncidents(2);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 15_000 });

    expect(keysShown(hh.fake, PRIVATE_CHAT)).toEqual(ids.map((id) => hh.emu.state.get(id)!.key));
    const sends = hh.fake.calls.filter((c) => c.method === "sendMessage");
    expect(sends).toHaveLength(3);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(hh.fake.stats().duringRetryAfter).toBe(0);
    expect(await hh.metrics.total(hh.metrics.rateLimitHits)).toBe(1);
    expect(await hh.metrics.total(hh.metrics.rateLimitWaits)).toBe(1);
    expect(await hh.metric("deliveries", { result: "retry" })).toBe(0); // a 429 is not a failure
  });

  it("turns a burst of 300 into digests: every incident exactly once per chat, within the limits", async () => {
    // Digests go on until the rest could be sent one by one within the threshold. The service's
    // 60 s would make this test last a minute of single messages at the end; 4 s keeps it short
    // while the limits stay Telegram's own.
    h = await startHarness({ tuning: { digestThresholdMs: 4000 } });
    const hh = h;
    // one injected 429 on the way, to prove the ban is kept during a flood too
    hh.fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 1",
      retryAfter: 1,
    });
    // Low ones: a High incident never goes in a digest (lanes.test.ts has a burst with one inside).
    const ids = await hh.addIncidents(300, { severity: "Low" });
    const expected = ids.map((id) => hh.emu.state.get(id)!.key);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 40_000 });

    for (const chatId of [PRIVATE_CHAT, GROUP_CHAT]) {
      expect(keysShown(hh.fake, chatId)).toEqual(expected); // each once, in creation order
      // far fewer messages than incidents; a group could take only 20 single messages a minute
      expect(hh.fake.messages(chatId).length).toBeLessThan(20);
    }
    const stats = hh.fake.stats();
    expect(stats.duringRetryAfter).toBe(0);
    expect(stats.tooManyRequests).toBe(1); // only the injected one: the pacing itself never hit a limit
    const digestRows = await hh.metric("deliveries", { result: "digest" });
    expect(digestRows).toBeGreaterThan(500);
    expect(digestRows + (await hh.metric("deliveries", { result: "sent" }))).toBe(600);
    const copies = await hh.store.outbox.copies(ids[0]!);
    expect(copies.map((c) => c.via)).toEqual(["digest", "digest"]);

    // the backlog gone, a new incident is a single message again, with its buttons
    const [late] = await hh.addIncidents(1);
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 15_000 });
    const last = hh.fake.messages(PRIVATE_CHAT).at(-1)!;
    expect(last.plainText).toContain(hh.emu.state.get(late!)!.key);
    expect(JSON.stringify(last.replyMarkup)).toContain("Refresh");
    expect((await hh.store.outbox.copyIn(late!, GROUP_CHAT))?.via).toBe("single");
    expect(hh.fake.stats().duringRetryAfter).toBe(0);
  });
});
