import { describe, expect, it } from "vitest";
import { type FakeMessage, renderChatTranscript } from "../../src/botapi-fake/index.js";
import { ALICE, startFake } from "./helpers.js";

function message(overrides: Partial<FakeMessage>): FakeMessage {
  return { chatId: 1, messageId: 1, text: "", edits: 0, date: 0, kind: "text", plainText: "", ...overrides };
}

describe("renderChatTranscript", () => {
  it("shows HTML as a person sees it, with the buttons in brackets below", () => {
    const rendered = renderChatTranscript(
      message({
        text: '🔴 <b>INC-7</b> &lt;Brute force&gt; &amp; more\n<a href="https://siem/#/x">Открыть</a>',
        parseMode: "HTML",
        replyMarkup: {
          inline_keyboard: [
            [
              { text: "🔄 Обновить", callback_data: "i:r:1" },
              { text: "✅ Подтвердить", callback_data: "i:a:1" },
              { text: "⛔ Закрыть", callback_data: "i:c:1" },
            ],
          ],
        },
      }),
    );
    expect(rendered).toBe(
      "🔴 INC-7 <Brute force> & more\nОткрыть\n[🔄 Обновить] [✅ Подтвердить] [⛔ Закрыть]",
    );
  });

  it("leaves plain text alone, puts each keyboard row on its own line, and labels media", () => {
    const plain = message({
      text: "<b>not markup</b>",
      replyMarkup: { inline_keyboard: [[{ text: "Да, закрыть" }], [{ text: "Отмена" }]] },
    });
    expect(renderChatTranscript(plain)).toBe("<b>not markup</b>\n[Да, закрыть]\n[Отмена]");
    expect(renderChatTranscript(message({ kind: "sticker" }))).toBe("(sticker)");
  });

  it("renders what the fake stored for a message sent through the API", async () => {
    const { fake, api } = await startFake({ limits: false });
    fake.addChat({ id: ALICE.id, type: "private" });
    await api.sendMessage(ALICE.id, "<i>INC-1</i> &#8212; new", {
      parse_mode: "HTML",
      reply_markup: { inline_keyboard: [[{ text: "Refresh", callback_data: "i:r:1" }]] },
    });
    expect(renderChatTranscript(fake.messages(ALICE.id)[0]!)).toBe("INC-1 — new\n[Refresh]");
  });
});
