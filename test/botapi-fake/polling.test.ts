import { Bot } from "grammy";
import type { Update } from "grammy/types";
import { describe, expect, it } from "vitest";
import { ALICE, apiError, rawCall, startFake, within } from "./helpers.js";

describe("fake Bot API: basics", () => {
  it("answers getMe with the configured bot user, over loopback", async () => {
    const { fake, api } = await startFake({ botUser: { id: 777, username: "SiemBot", first_name: "SIEM" } });
    expect(fake.apiRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 777, is_bot: true, username: "SiemBot", first_name: "SIEM" });
    expect(fake.calls.map((c) => c.method)).toEqual(["getMe"]);
  });

  it("rejects a wrong token with 401 and an unknown method with 404, in Bot API shape", async () => {
    const { fake } = await startFake();
    expect(await rawCall(fake, "getMe", { token: "999:WRONG" })).toEqual({
      status: 401,
      json: { ok: false, error_code: 401, description: "Unauthorized" },
    });
    expect(await rawCall(fake, "sendRocket")).toEqual({
      status: 404,
      json: { ok: false, error_code: 404, description: "Not Found" },
    });
    // method names are case-insensitive, as on api.telegram.org
    expect((await rawCall(fake, "GETME")).json).toMatchObject({ ok: true, result: { is_bot: true } });
  });

  it("accepts urlencoded and multipart forms as well as JSON", async () => {
    const { fake } = await startFake({ limits: false });
    fake.addChat({ id: 5, type: "private", first_name: "Eve" });
    const markup = JSON.stringify({ inline_keyboard: [[{ text: "Go", callback_data: "go" }]] });
    const form = new URLSearchParams({
      chat_id: "5",
      text: "<b>hi</b>",
      parse_mode: "HTML",
      reply_markup: markup,
    });
    const urlencoded = await rawCall(fake, "sendMessage", {
      body: form.toString(),
      contentType: "application/x-www-form-urlencoded",
    });
    expect(urlencoded.json).toMatchObject({ ok: true, result: { text: "hi", chat: { id: 5 } } });

    const multipart = new FormData();
    multipart.append("chat_id", "5");
    multipart.append("animation", new Blob([Buffer.from("GIF89a")]), "a.gif");
    const response = await fetch(`${fake.apiRoot}/bot${fake.token}/sendAnimation`, {
      method: "POST",
      body: multipart,
      signal: AbortSignal.timeout(10_000),
    });
    expect(await response.json()).toMatchObject({
      ok: true,
      result: { animation: { file_id: "FAKE-animation-1" } },
    });

    const messages = fake.messages(5);
    expect(messages.map((m) => m.kind)).toEqual(["text", "animation"]);
    expect(messages[0]).toMatchObject({
      text: "<b>hi</b>",
      plainText: "hi",
      parseMode: "HTML",
      replyMarkup: JSON.parse(markup),
    });
    expect(fake.calls[1]?.params.animation).toEqual({ upload: "a.gif", size: 6 });
  });

  it("records and returns bot commands per scope", async () => {
    const { fake, api } = await startFake();
    await api.setMyCommands([{ command: "ping", description: "check" }]);
    await api.setMyCommands([{ command: "debug", description: "admin" }], {
      scope: { type: "chat", chat_id: 111 },
    });
    expect(await api.getMyCommands()).toEqual([{ command: "ping", description: "check" }]);
    expect(fake.commandsFor({ type: "chat", chat_id: 111 })).toEqual([
      { command: "debug", description: "admin" },
    ]);
    const bad = await apiError(api.setMyCommands([{ command: "Bad-Name", description: "x" }]));
    expect(bad.description).toBe("Bad Request: BOT_COMMAND_INVALID");
  });
});

describe("fake Bot API: long polling", () => {
  it("holds getUpdates until an update is injected, and offsets confirm", async () => {
    const { fake, api } = await startFake();
    const poll = api.getUpdates({ timeout: 30 });
    await fake.waitFor(() => fake.calls.some((c) => c.method === "getUpdates"));
    const updateId = fake.sendText(ALICE, ALICE.id, "/start hello");
    const updates = await within(poll, 5_000); // far sooner than the 30 s poll timeout

    expect(updates).toHaveLength(1);
    const message = updates[0]!.message!;
    expect(updates[0]!.update_id).toBe(updateId);
    expect(message).toMatchObject({
      text: "/start hello",
      from: { id: ALICE.id, username: "alice" },
      chat: { id: ALICE.id, type: "private" },
      entities: [{ type: "bot_command", offset: 0, length: 6 }],
    });

    // not confirmed yet: delivered again
    expect((await api.getUpdates({ timeout: 0 })).map((u) => u.update_id)).toEqual([updateId]);
    // confirmed by offset: gone
    expect(await api.getUpdates({ offset: updateId + 1, timeout: 0 })).toEqual([]);
    const next = fake.sendText(ALICE, ALICE.id, "again");
    expect(next).toBeGreaterThan(updateId);
    expect((await api.getUpdates({ offset: updateId + 1, timeout: 0 })).map((u) => u.update_id)).toEqual([
      next,
    ]);
  });

  it("answers an empty list when the poll timeout passes", async () => {
    const { fake, api } = await startFake();
    expect(await api.getUpdates({ timeout: 1 })).toEqual([]);
    expect(fake.calls[0]?.response).toEqual({ ok: true, result: [] });
  });

  it("terminates the older of two concurrent polls with 409", async () => {
    const { fake, api } = await startFake();
    const older = apiError(api.getUpdates({ timeout: 30 }));
    await fake.waitFor(() => fake.calls.length === 1);
    const newer = api.getUpdates({ timeout: 30 });
    const conflict = await within(older, 5_000);
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toBe("Conflict: terminated by other getUpdates request");
    fake.sendText(ALICE, ALICE.id, "hi");
    expect(await within(newer, 5_000)).toHaveLength(1);
  });

  it("delivers my_chat_member, callback queries and migrations to a running grammY bot", async () => {
    const { fake } = await startFake({ limits: false });
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    const seen: Update[] = [];
    bot.on(["my_chat_member", "callback_query:data", "message"], (ctx) => {
      seen.push(ctx.update);
    });
    const started = bot.start({ timeout: 10 });
    try {
      await fake.waitFor(() => fake.calls.some((c) => c.method === "getUpdates"), 10_000);
      fake.setMembership(-100, "member", ALICE);
      const sent = await bot.api.sendMessage(-100, "incident", {
        reply_markup: { inline_keyboard: [[{ text: "Refresh", callback_data: "i:r:x" }]] },
      });
      const queryId = fake.pressButton(ALICE, -100, sent.message_id, "i:r:x");
      fake.migrateChat(-100, -1001234567890);
      await fake.waitFor(() => seen.length === 4, 10_000);

      expect(seen[0]?.my_chat_member).toMatchObject({
        chat: { id: -100, type: "group" },
        from: { id: ALICE.id },
        new_chat_member: { status: "member", user: { is_bot: true } },
      });
      expect(seen[1]?.callback_query).toMatchObject({
        id: queryId,
        data: "i:r:x",
        message: { message_id: sent.message_id, text: "incident" },
      });
      expect(seen[2]?.message?.migrate_to_chat_id).toBe(-1001234567890);
      expect(seen[3]?.message).toMatchObject({
        chat: { id: -1001234567890, type: "supergroup" },
        migrate_from_chat_id: -100,
      });
    } finally {
      await bot.stop();
      await started;
    }
    // grammY confirmed everything it handled when it stopped
    expect(await bot.api.getUpdates({ timeout: 0 })).toEqual([]);
  });

  it("filters updates by allowed_updates", async () => {
    const { fake, api } = await startFake();
    fake.sendText(ALICE, ALICE.id, "hello");
    const memberUpdate = fake.setMembership(ALICE.id, "kicked");
    const onlyMembership = await api.getUpdates({ timeout: 0, allowed_updates: ["my_chat_member"] });
    expect(onlyMembership.map((u) => u.update_id)).toEqual([memberUpdate]);
  });
});
