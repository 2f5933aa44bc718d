// A slow link and a Telegram that reads a call and never answers it: what delivery's per-chat send
// window and the service's shutdown are tested against.
import { HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { CANNOT_POST_ERRORS, CONNECTION_RESET } from "../../src/botapi-fake/index.js";
import { ALICE, apiError, BOB, startFake, within } from "./helpers.js";

describe("fake Bot API: slow answers", () => {
  it("holds every answer for the given time after the call took effect", async () => {
    const { fake, api } = await startFake({ limits: false, answerDelayMs: 300 });
    fake.addChat({ id: ALICE.id, type: "private" });
    const began = Date.now();
    const sending = api.sendMessage(ALICE.id, "slow");
    await fake.waitFor(() => fake.messages(ALICE.id).length === 1, 2_000);
    // stored at once, answered later: the window in which a crash repeats a message
    expect(Date.now() - began).toBeLessThan(250);
    await sending;
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);

    fake.delayAnswers(0);
    const quick = Date.now();
    await api.getMe();
    expect(Date.now() - quick).toBeLessThan(250);
  });
});

describe("fake Bot API: hung calls", () => {
  it("records a hung call, never answers it, and gives it no effect until released", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: ALICE.id, type: "private" });
    fake.hang("sendMessage");
    const held = api.sendMessage(ALICE.id, "held");
    await fake.waitFor(() => fake.hanging() === 1, 2_000);
    await api.getMe(); // other methods still answer
    await expect(within(held, 300)).rejects.toThrow("not settled within 300 ms");
    expect(fake.messages(ALICE.id)).toEqual([]);
    expect(fake.calls.find((c) => c.method === "sendMessage")?.response).toBeUndefined();

    fake.release();
    const message = await within(held, 2_000);
    expect(message.text).toBe("held");
    expect(fake.hanging()).toBe(0);
    await api.sendMessage(ALICE.id, "after"); // nothing hangs any more
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["held", "after"]);
  });

  it("hangs only the calls to one chat when asked, and drops a call whose client gave up", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: ALICE.id, type: "private" });
    fake.addChat({ id: BOB.id, type: "private" });
    fake.hang("sendMessage", { chatId: ALICE.id });
    const gaveUp = api.sendMessage(
      ALICE.id,
      "never",
      {},
      // grammY types its signal with its own shim; any AbortSignal works at run time.
      AbortSignal.timeout(200) as Parameters<typeof api.sendMessage>[3],
    );
    await api.sendMessage(BOB.id, "fine");
    await expect(gaveUp).rejects.toBeInstanceOf(HttpError);
    await fake.waitFor(() => fake.hanging() === 0, 2_000);
    const call = fake.calls.find((c) => c.method === "sendMessage" && c.params.chat_id === ALICE.id);
    expect(call?.response).toBe(CONNECTION_RESET);
    fake.release();
    expect(fake.messages(ALICE.id)).toEqual([]);
    expect(fake.messages(BOB.id).map((m) => m.text)).toEqual(["fine"]);
  });

  it("hangs every method with '*', long polls included, and close() ends held calls", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.hang("*");
    const me = api.getMe();
    const poll = api.getUpdates({ timeout: 0 });
    await fake.waitFor(() => fake.hanging() === 2, 2_000);
    await fake.close();
    await expect(me).rejects.toBeInstanceOf(HttpError);
    await expect(poll).rejects.toBeInstanceOf(HttpError);
    expect(fake.calls.every((c) => c.response === CONNECTION_RESET)).toBe(true);
  });
});

describe("fake Bot API: chats that refuse the bot's posts", () => {
  it("answers every post with the chat's error until it is cleared; other chats and methods are not affected", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: -1001, type: "supergroup", title: "SOC" });
    fake.addChat({ id: ALICE.id, type: "private" });
    const before = await api.sendMessage(-1001, "before");
    fake.refusePosts(-1001, CANNOT_POST_ERRORS.notEnoughRights);
    const refused = await apiError(api.sendMessage(-1001, "hi"));
    expect([refused.error_code, refused.description]).toEqual([
      400,
      "Bad Request: not enough rights to send text messages to the chat",
    ]);
    expect((await apiError(api.editMessageText(-1001, before.message_id, "edited"))).description).toContain(
      "not enough rights",
    );
    expect((await api.getChat(-1001)).title).toBe("SOC");
    await api.sendMessage(ALICE.id, "elsewhere");
    fake.refusePosts(-1001, null);
    await api.sendMessage(-1001, "after");
    expect(fake.messages(-1001).map((m) => m.text)).toEqual(["before", "after"]);
  });

  it("limits a closed topic to sends in that topic", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: -1002, type: "supergroup", title: "SOC", is_forum: true });
    fake.refusePosts(-1002, CANNOT_POST_ERRORS.topicClosed, { threadId: 7 });
    const closed = await apiError(api.sendMessage(-1002, "in topic", { message_thread_id: 7 }));
    expect(closed.description).toBe("Bad Request: TOPIC_CLOSED");
    await api.sendMessage(-1002, "general");
    await api.sendMessage(-1002, "other topic", { message_thread_id: 8 });
    expect(fake.messages(-1002)).toHaveLength(2);
  });
});
