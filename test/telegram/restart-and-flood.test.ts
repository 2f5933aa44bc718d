// State survives a restart of the bot and the store; a command flood from one person is limited
// without slowing anybody else; replies wait out a 429; stop() ends long polling.
import { describe, expect, it } from "vitest";
import type { FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { botTexts } from "../../src/telegram/texts.js";
import { startTelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("ru");

describe("restart", () => {
  it("keeps allowed, banned and waiting chats and their open requests; behaviour is intact after reopening", async () => {
    const h = await startTelegramHarness({ commandRateLimit: { limit: 1000, windowMs: 1000 } });
    try {
      const admin = h.admins[0]!;
      const allowed: FakeUser = { id: 90_001, first_name: "Allowed" };
      const banned: FakeUser = { id: 90_002, first_name: "Banned" };
      const waiting: FakeUser = { id: 90_003, first_name: "Waiting", username: "waiting" };
      for (const u of [allowed, banned, waiting])
        h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name, username: u.username });
      await h.say(admin, admin.id, `/accept ${allowed.id}`);
      await h.say(admin, admin.id, `/ban ${banned.id}`);
      await h.say(waiting, waiting.id, "/start");
      await h.fake.waitFor(
        () => h.admins.every((a) => h.fake.messages(a.id).some((m) => m.plainText.includes("@waiting"))),
        5000,
      );
      const incident = await h.deliverIncident([allowed.id]);

      await h.restart();

      expect((await h.store.chats.get(allowed.id))?.state).toBe("allowed");
      expect((await h.store.chats.get(banned.id))?.state).toBe("banned");
      expect((await h.store.chats.get(waiting.id))?.state).toBe("pending");
      // The restarted bot told the admins again that it is up, now with one chat receiving.
      await h.fake.waitFor(
        () => h.textsIn(admin.id).filter((m) => m.includes(h.config.siem.url)).length === 2,
        5000,
      );

      await h.say(allowed, allowed.id, "/start");
      expect(h.textsIn(allowed.id).at(-1)).toBe(tx.chats.alreadySubscribed);
      await h.say(waiting, waiting.id, "/start");
      expect(h.textsIn(waiting.id).at(-1)).toBe(tx.chats.alreadyAsked);
      expect(h.fake.messages(admin.id).filter((m) => m.plainText.includes("@waiting"))).toHaveLength(1); // not asked again
      h.fake.sendText(banned, banned.id, "/start");
      await h.waitForLog("update from a banned chat dropped", 1);
      expect(h.textsIn(banned.id)).toEqual([]);

      // The request sent before the restart still works, and its decision reaches both admins' copies.
      const request = h.fake.messages(h.admins[1]!.id).find((m) => m.plainText.includes("@waiting"))!;
      const allow = (request.replyMarkup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
        .inline_keyboard[0]![0]!;
      await h.press(h.admins[1]!, request.chatId, request.messageId, allow.callback_data);
      await h.fake.waitFor(
        () =>
          h.admins.every((a) =>
            h.fake
              .messages(a.id)
              .some((m) => m.plainText.includes("@waiting") && m.plainText.includes("Разрешено: @admin2")),
          ),
        5000,
      );
      expect((await h.store.chats.get(waiting.id))?.state).toBe("allowed");

      // Incident buttons sent before the restart still act.
      const msg = incident.messages.get(allowed.id)!;
      const refresh = (
        h.fake.messages(allowed.id).find((m) => m.messageId === msg)!.replyMarkup as {
          inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
        }
      ).inline_keyboard
        .flat()
        .find((b) => b.text.includes("Обновить"))!;
      expect(await h.press(allowed, allowed.id, msg, refresh.callback_data)).toBe(tx.actions.refreshed);
    } finally {
      await h.close();
    }
  });
});

describe("flood and pacing", () => {
  it("limits a command flood from one person (one warning, the rest ignored) while others are answered", async () => {
    const h = await startTelegramHarness({ commandRateLimit: { limit: 10, windowMs: 60_000 } });
    try {
      const flooder: FakeUser = { id: 91_001, first_name: "Flooder" };
      const calm: FakeUser = { id: 91_002, first_name: "Calm" };
      for (const u of [flooder, calm])
        h.fake.addChat({ id: u.id, type: "private", first_name: u.first_name });
      for (let i = 0; i < 40; i++) h.fake.sendText(flooder, flooder.id, "/id");
      await h.say(calm, calm.id, "/id");
      expect(h.textsIn(calm.id)).toEqual([tx.commands.idAnswer({ chatId: calm.id, userId: calm.id })]);
      const limited = async () =>
        (await h.metrics.actions.get()).values
          .filter((v) => v.labels.result === "rate_limited")
          .reduce((n, v) => n + v.value, 0);
      await h.until(async () => (await limited()) === 30);
      await h.fake.waitFor(() => h.textsIn(flooder.id).length === 11, 5000);
      const texts = h.textsIn(flooder.id);
      expect(texts.filter((m) => m === botTexts("ru").tooManyCommands)).toHaveLength(1);
      expect(texts.filter((m) => m.startsWith("Id этого чата"))).toHaveLength(10);
    } finally {
      await h.close();
    }
  });

  it("a reply that meets 429 waits out retry_after and is delivered; stop() ends long polling", async () => {
    const h = await startTelegramHarness();
    try {
      const user: FakeUser = { id: 92_001, first_name: "Patient" };
      h.fake.addChat({ id: user.id, type: "private", first_name: user.first_name });
      h.fake.failNext("sendMessage", {
        code: 429,
        description: "Too Many Requests: retry after 1",
        retryAfter: 1,
      });
      await h.say(user, user.id, "/id");
      const sends = h.fake.calls.filter((c) => c.method === "sendMessage" && c.params.chat_id === user.id);
      expect(sends).toHaveLength(2);
      expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(900);
      expect(h.textsIn(user.id)).toHaveLength(1);

      await h.telegram.stop();
      const polls = h.fake.calls.filter((c) => c.method === "getUpdates").length;
      h.fake.sendText(user, user.id, "/id");
      await new Promise((r) => setTimeout(r, 300));
      expect(h.fake.calls.filter((c) => c.method === "getUpdates").length).toBe(polls);
      expect(h.textsIn(user.id)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
