// The texts for a chat the bot may not post to: the admins' notice and the /accepted line.
import { describe, expect, it } from "vitest";
import { t } from "../../src/i18n/index.js";

const chat = { id: -1001, kind: "supergroup" as const, title: "SOC" };

describe("a chat the bot may not post to", () => {
  it("tells the admins why, that nothing is lost, and how to resume, in both languages", () => {
    for (const [locale, words] of [
      ["en", ["may not post", "kept", "/accept -1001"]],
      ["ru", ["запрещено писать", "сохранены", "/accept -1001"]],
    ] as const) {
      const m = t(locale);
      const text = m.notices.chatPaused({
        chat: m.chats.describe(chat),
        chatId: chat.id,
        reason: "Bad Request: not enough rights to send text messages to the chat",
      });
      for (const word of [...words, "SOC", "not enough rights"])
        expect([locale, text]).toEqual([locale, expect.stringContaining(word)]);
    }
  });

  it("shows the reason in /accepted", () => {
    expect(
      t("en").commands.listLine({
        chat,
        since: "2024-03-12",
        active: false,
        inactiveReason: "Bad Request: TOPIC_CLOSED",
      }),
    ).toBe(
      "• supergroup “SOC”, id -1001, since 2024-03-12 — inactive, not receiving: Bad Request: TOPIC_CLOSED",
    );
    expect(
      t("ru").commands.listLine({
        chat,
        since: "12.03.2024",
        active: false,
        inactiveReason: "Bad Request: TOPIC_CLOSED",
      }),
    ).toBe("• супергруппа «SOC», id -1001, с 12.03.2024 — неактивен, не получает: Bad Request: TOPIC_CLOSED");
    // without a reason, as before
    expect(t("en").commands.listLine({ chat, since: "2024-03-12", active: false })).toContain(
      "inactive (bot removed or blocked)",
    );
  });
});
