// The mute-end summary line as delivery sends it, against a real store and the fake Bot API over HTTP:
// it waits for the chat's queue, goes into the mute's topic, honours a retry_after, follows a chat that
// may not be posted to (paused, kept, sent once allowed again), and is dropped for a chat no longer
// allowed. The service-level story (commands, clock, restarts) is test/integration/routing.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import { CANNOT_POST_ERRORS } from "../../src/botapi-fake/index.js";
import type { NewMute, RoutedDelivery } from "../../src/store/index.js";
import { FAST_PACE, GROUP_CHAT, type Harness, PRIVATE_CHAT, startHarness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const LINE = "🔔 The mute is over";

function lines(hh: Harness, chatId: number) {
  return hh.fake.messages(chatId).filter((m) => m.plainText.startsWith(LINE));
}
function lineCalls(hh: Harness, chatId: number) {
  return hh.fake.calls.filter(
    (c) =>
      c.method === "sendMessage" &&
      c.params.chat_id === chatId &&
      String(c.params.text ?? "").startsWith(LINE),
  );
}

/** A mute of the group that ended `agoMs` ago (real clock: the harness's delivery uses it). */
async function endedMute(hh: Harness, over: Partial<NewMute> = {}, agoMs = 60_000): Promise<number> {
  const now = Date.now();
  return (await hh.store.routing.addMute(
    {
      chatId: GROUP_CHAT,
      threadId: null,
      matchers: "",
      startsAt: now - agoMs - 600_000,
      endsAt: now - agoMs,
      createdBy: 1,
      createdByName: null,
      comment: null,
      ...over,
    },
    20,
    now - agoMs - 600_000,
  ))!;
}

/** Queues incidents as muted in the group (by `muteId`) and loud in the private chat. */
const mutedIn =
  (muteId: number, threadId: number | null = null) =>
  (): RoutedDelivery[] => [
    { chatId: GROUP_CHAT, threadId, silent: true, muteId },
    { chatId: PRIVATE_CHAT, threadId: null, silent: false, muteId: null },
  ];

async function waitForLine(hh: Harness, chatId: number): Promise<void> {
  await hh.fake.waitFor(() => lines(hh, chatId).length > 0, 10_000);
}

describe("the mute-end summary line", () => {
  it("comes after the chat's queued incidents, into the mute's topic, silently, once", async () => {
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    const mute = await endedMute(h, { threadId: 42 });
    const ids = await h.addIncidents(4, { severity: "Low" }, mutedIn(mute, 42));
    h.delivery.start();
    await waitForLine(h, GROUP_CHAT);
    await h.delivery.idle({ timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));

    const messages = h.fake.messages(GROUP_CHAT);
    expect(messages.at(-1)!.plainText).toBe(`${LINE}: 4 incidents arrived silently during it.`);
    expect(messages.slice(0, -1).flatMap((m) => [...m.plainText.matchAll(/INC-\d+/g)]).length).toBe(
      ids.length,
    );
    expect(lineCalls(h, GROUP_CHAT)).toHaveLength(1);
    expect(lineCalls(h, GROUP_CHAT)[0]!.params).toMatchObject({
      message_thread_id: 42,
      disable_notification: true,
    });
    expect(lines(h, PRIVATE_CHAT)).toEqual([]);
    expect(await h.store.routing.dueSummaries(Date.now())).toEqual([]);
  });

  it("honours a retry_after: the line is tried again after it, never inside it", async () => {
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    await endedMute(h);
    h.fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 1",
      retryAfter: 1,
    });
    h.delivery.start();
    await waitForLine(h, GROUP_CHAT);
    const calls = lineCalls(h, GROUP_CHAT);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(h.fake.stats().duringRetryAfter).toBe(0);
  });

  it("follows a chat that may not be posted to: paused and told, the line kept, sent once it is allowed again", async () => {
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    await endedMute(h);
    h.fake.refusePosts(GROUP_CHAT, CANNOT_POST_ERRORS.writeForbidden);
    h.delivery.start();
    await h.fake.waitFor(() => lineCalls(h!, GROUP_CHAT).length > 0, 10_000);
    await h.delivery.idle({ timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.store.chats.get(GROUP_CHAT)).toMatchObject({ state: "allowed", active: 0 });
    expect(h.notices).toHaveLength(1);
    expect(h.notices[0]).toContain("CHAT_WRITE_FORBIDDEN");
    expect(lineCalls(h, GROUP_CHAT)).toHaveLength(1);
    expect(lines(h, GROUP_CHAT)).toEqual([]);

    h.fake.refusePosts(GROUP_CHAT, null);
    await h.store.chats.setState(GROUP_CHAT, "allowed", 1);
    h.delivery.kick();
    await waitForLine(h, GROUP_CHAT);
    await new Promise((r) => setTimeout(r, 300));
    expect(lines(h, GROUP_CHAT)).toHaveLength(1);
  });

  it("is dropped for a chat no longer allowed", async () => {
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    const mute = await endedMute(h);
    await h.store.chats.setState(GROUP_CHAT, "denied", 1);
    h.delivery.start();
    for (let i = 0; i < 100 && (await h.store.routing.dueSummaries(Date.now())).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await h.store.routing.dueSummaries(Date.now())).toEqual([]);
    await h.delivery.idle({ timeoutMs: 10_000 });
    expect(lineCalls(h, GROUP_CHAT)).toEqual([]);
    // Claimed, so allowing the chat again later does not bring back an old line.
    await h.store.chats.setState(GROUP_CHAT, "allowed", 1);
    expect((await h.store.routing.dueSummaries(Date.now())).map((m) => m.id)).not.toContain(mute);
  });
});
