import { HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { CONNECTION_RESET } from "../../src/botapi-fake/index.js";
import { ALICE, apiError, rawCall, startFake } from "./helpers.js";

describe("fake Bot API: chats that go away", () => {
  it("answers a send to a migrated group with 400 and migrate_to_chat_id", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: -300, type: "group", title: "SOC" });
    fake.migrateChat(-300, -1009000000001);
    const raw = await rawCall(fake, "sendMessage", { body: JSON.stringify({ chat_id: -300, text: "hi" }) });
    expect(raw).toEqual({
      status: 400,
      json: {
        ok: false,
        error_code: 400,
        description: "Bad Request: group chat was upgraded to a supergroup chat",
        parameters: { migrate_to_chat_id: -1009000000001 },
      },
    });
    const viaGrammy = await apiError(api.sendMessage(-300, "hi"));
    expect(viaGrammy.parameters.migrate_to_chat_id).toBe(-1009000000001);
    await api.sendMessage(-1009000000001, "hi");
    expect(fake.messages(-1009000000001)).toHaveLength(1);
    expect(await api.getChat(-1009000000001)).toMatchObject({ type: "supergroup", title: "SOC" });
  });

  it("answers 403 once the bot is blocked or removed, until it is a member again", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: ALICE.id, type: "private", first_name: "Alice" });
    fake.addChat({ id: -301, type: "group", title: "SOC" });
    fake.addChat({ id: -1001301, type: "supergroup", title: "SOC 2" });

    fake.blockBot(ALICE.id);
    fake.blockBot(-301);
    const blocked = await apiError(api.sendMessage(ALICE.id, "hi"));
    expect([blocked.error_code, blocked.description]).toEqual([
      403,
      "Forbidden: bot was blocked by the user",
    ]);
    expect((await apiError(api.sendMessage(-301, "hi"))).description).toBe(
      "Forbidden: bot was kicked from the group chat",
    );

    fake.setMembership(-1001301, "left");
    expect((await apiError(api.sendMessage(-1001301, "hi"))).description).toBe(
      "Forbidden: bot is not a member of the supergroup chat",
    );

    fake.setMembership(ALICE.id, "member");
    await api.sendMessage(ALICE.id, "welcome back");
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["welcome back"]);
  });
});

describe("fake Bot API: injected faults", () => {
  it("failNext answers the given error the given number of times, then recovers", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: ALICE.id, type: "private" });
    fake.failNext("sendMessage", { code: 500, description: "Internal Server Error" }, 2);
    fake.failNext("*", {
      code: 400,
      description: "Bad Request: group chat was upgraded to a supergroup chat",
      migrateTo: -1001,
    });

    const first = await apiError(api.sendMessage(ALICE.id, "a"));
    expect([first.error_code, first.description]).toEqual([500, "Internal Server Error"]);
    expect((await apiError(api.sendMessage(ALICE.id, "a"))).error_code).toBe(500);
    // the wildcard rule still waits for the next call of any method
    const wildcard = await apiError(api.getMe());
    expect(wildcard.parameters).toEqual({ migrate_to_chat_id: -1001 });
    await api.sendMessage(ALICE.id, "a");
    expect(fake.messages(ALICE.id)).toHaveLength(1);
    expect(fake.stats().byMethod).toEqual({ sendMessage: 3, getMe: 1 });
  });

  it("an outage answers 502 to every method until it ends (by the injected clock)", async () => {
    let clock = 1_000_000;
    const { fake, api } = await startFake({ now: () => clock });
    fake.outage(30_000);
    expect(await rawCall(fake, "getMe")).toEqual({
      status: 502,
      json: { ok: false, error_code: 502, description: "Bad Gateway" },
    });
    expect((await apiError(api.getUpdates({ timeout: 0 }))).error_code).toBe(502);
    clock += 30_000;
    expect((await api.getMe()).is_bot).toBe(true);
  });

  it("an outage in drop mode closes connections without an answer", async () => {
    let clock = 0;
    const { fake, api } = await startFake({ now: () => clock });
    fake.outage(1_000, { mode: "drop" });
    await expect(api.getMe()).rejects.toBeInstanceOf(HttpError);
    expect(fake.calls[0]?.response).toBe(CONNECTION_RESET);
    clock = 1_000;
    await api.getMe();
  });

  it("resetConnections drops requests before or after they take effect", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: ALICE.id, type: "private" });

    fake.resetConnections(1, { method: "sendMessage" });
    await api.getMe(); // another method is not affected
    await expect(api.sendMessage(ALICE.id, "lost")).rejects.toBeInstanceOf(HttpError);
    expect(fake.messages(ALICE.id)).toEqual([]);

    fake.resetConnections(1, { afterProcessing: true });
    await expect(api.sendMessage(ALICE.id, "maybe")).rejects.toBeInstanceOf(HttpError);
    // the send happened although the client never heard back
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["maybe"]);

    await api.sendMessage(ALICE.id, "fine");
    expect(fake.calls.map((c) => c.response === CONNECTION_RESET)).toEqual([false, true, true, false]);
  });
});
