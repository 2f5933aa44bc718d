import { describe, expect, it } from "vitest";
import { ALICE, apiError, rawCall, startFake } from "./helpers.js";

const KEYBOARD = {
  inline_keyboard: [
    [
      { text: "🔄 Обновить", callback_data: "i:r:7b3c6a2e-1111-4222-8333-944455556666" },
      { text: "✅ Подтвердить", callback_data: "i:a:7b3c6a2e-1111-4222-8333-944455556666" },
    ],
  ],
};

async function chatFake() {
  const started = await startFake({ limits: false });
  started.fake.addChat({ id: ALICE.id, type: "private", first_name: "Alice", username: "alice" });
  started.fake.addChat({ id: -1001, type: "supergroup", title: "SOC", is_forum: true });
  return started;
}

describe("fake Bot API: sendMessage", () => {
  it("accepts valid HTML, keeps the thread and keyboard, and returns a Telegram Message", async () => {
    const { fake, api } = await chatFake();
    const sent = await api.sendMessage(-1001, '<b>INC-1</b> &lt;high&gt; <a href="https://siem/x">open</a>', {
      parse_mode: "HTML",
      message_thread_id: 42,
      reply_markup: KEYBOARD,
    });
    expect(sent).toMatchObject({
      message_id: 1,
      chat: { id: -1001, type: "supergroup", title: "SOC" },
      from: { is_bot: true },
      text: "INC-1 <high> open",
      entities: [
        { type: "bold", offset: 0, length: 5 },
        { type: "text_link", offset: 13, length: 4, url: "https://siem/x" },
      ],
      message_thread_id: 42,
      is_topic_message: true,
      reply_markup: KEYBOARD,
    });
    const [stored] = fake.messages(-1001);
    expect(stored).toMatchObject({ chatId: -1001, messageId: 1, threadId: 42, parseMode: "HTML", edits: 0 });
    expect(stored?.replyMarkup).toEqual(KEYBOARD);
  });

  it("rejects broken HTML with 400 can't parse entities, and sends nothing", async () => {
    const { fake, api } = await chatFake();
    const broken = await apiError(api.sendMessage(ALICE.id, "<b>unclosed", { parse_mode: "HTML" }));
    expect(broken.error_code).toBe(400);
    expect(broken.description).toBe(
      "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    );
    const unescaped = await apiError(api.sendMessage(ALICE.id, "Tom & Jerry <3", { parse_mode: "HTML" }));
    expect(unescaped.description).toMatch(/^Bad Request: can't parse entities: /);
    // the same text without parse_mode is fine
    await api.sendMessage(ALICE.id, "Tom & Jerry <3");
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["Tom & Jerry <3"]);
  });

  it("counts the length after entity parsing, in UTF-16 units", async () => {
    const { api } = await chatFake();
    const tags = "<b></b>".repeat(500); // markup does not count
    await api.sendMessage(ALICE.id, `${"x".repeat(4096)}${tags}`, { parse_mode: "HTML" });
    const tooLong = await apiError(api.sendMessage(ALICE.id, "x".repeat(4097)));
    expect(tooLong.error_code).toBe(400);
    expect(tooLong.description).toBe("Bad Request: message is too long");
    // 2049 emoji are 2049 code points but 4098 UTF-16 units
    const emoji = await apiError(api.sendMessage(ALICE.id, "😀".repeat(2049)));
    expect(emoji.description).toBe("Bad Request: message is too long");
    const amp = await apiError(api.sendMessage(ALICE.id, "&amp;".repeat(4097), { parse_mode: "HTML" }));
    expect(amp.description).toBe("Bad Request: message is too long");
  });

  it("rejects empty text, unknown chats and bad callback_data", async () => {
    const { fake, api } = await chatFake();
    expect((await apiError(api.sendMessage(ALICE.id, ""))).description).toBe(
      "Bad Request: message text is empty",
    );
    expect((await apiError(api.sendMessage(ALICE.id, "<b> </b>", { parse_mode: "HTML" }))).description).toBe(
      "Bad Request: message text is empty",
    );
    expect((await apiError(api.sendMessage(987654, "hi"))).description).toBe("Bad Request: chat not found");
    const longData = "x".repeat(65);
    const tooLong = await apiError(
      api.sendMessage(ALICE.id, "hi", {
        reply_markup: { inline_keyboard: [[{ text: "A", callback_data: longData }]] },
      }),
    );
    expect(tooLong.description).toBe("Bad Request: BUTTON_DATA_INVALID");
    // 64 bytes is the limit in UTF-8 bytes: 32 Cyrillic letters are 64 bytes, 33 are not
    await api.sendMessage(ALICE.id, "ok", {
      reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "ж".repeat(32) }]] },
    });
    const cyrillic = await apiError(
      api.sendMessage(ALICE.id, "hi", {
        reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "ж".repeat(33) }]] },
      }),
    );
    expect(cyrillic.description).toBe("Bad Request: BUTTON_DATA_INVALID");
    expect(fake.messages(ALICE.id).map((m) => m.text)).toEqual(["ok"]);
  });

  it("makes a chat known once an update from it was injected", async () => {
    const { fake, api } = await startFake({ limits: false });
    expect((await apiError(api.sendMessage(-55, "hi"))).description).toBe("Bad Request: chat not found");
    fake.sendText(ALICE, -55, "/id@FakeMpSiemBot");
    await api.sendMessage(-55, "hi");
    expect(await api.getChat(-55)).toMatchObject({ id: -55, type: "group" });
  });

  it("answers getChatMember for the bot and for users it has seen", async () => {
    const { fake, api } = await chatFake();
    const me = await api.getMe();
    fake.setMembership(-1001, "administrator");
    expect((await api.getChatMember(-1001, me.id)).status).toBe("administrator");
    fake.sendText(ALICE, -1001, "hello");
    expect((await api.getChatMember(-1001, ALICE.id)).status).toBe("member");
    expect((await apiError(api.getChatMember(-1001, 4242))).description).toBe("Bad Request: user not found");
  });
});

describe("fake Bot API: editing and deleting", () => {
  it("edits text, answers 'not modified' for identical content, 'not found' for unknown messages", async () => {
    const { fake, api } = await chatFake();
    const sent = await api.sendMessage(ALICE.id, "<b>INC-1</b> New", {
      parse_mode: "HTML",
      reply_markup: KEYBOARD,
    });

    const same = await apiError(
      api.editMessageText(ALICE.id, sent.message_id, "<b>INC-1</b> New", {
        parse_mode: "HTML",
        reply_markup: KEYBOARD,
      }),
    );
    expect(same.error_code).toBe(400);
    expect(same.description).toBe(
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
    );

    const edited = await api.editMessageText(ALICE.id, sent.message_id, "<b>INC-1</b> Approved", {
      parse_mode: "HTML",
      reply_markup: KEYBOARD,
    });
    expect(edited).toMatchObject({ text: "INC-1 Approved", edit_date: expect.any(Number) });
    expect(fake.messages(ALICE.id)[0]).toMatchObject({ text: "<b>INC-1</b> Approved", edits: 1 });

    // leaving reply_markup out removes the keyboard: that is a change
    await api.editMessageText(ALICE.id, sent.message_id, "<b>INC-1</b> Approved", { parse_mode: "HTML" });
    expect(fake.messages(ALICE.id)[0]).toMatchObject({ edits: 2 });
    expect(fake.messages(ALICE.id)[0]?.replyMarkup).toBeUndefined();

    const missing = await apiError(api.editMessageText(ALICE.id, 999, "x"));
    expect(missing.description).toBe("Bad Request: message to edit not found");
    const badHtml = await apiError(
      api.editMessageText(ALICE.id, sent.message_id, "<i>x", { parse_mode: "HTML" }),
    );
    expect(badHtml.description).toMatch(/^Bad Request: can't parse entities: /);
  });

  it("edits only the keyboard, and deletes messages", async () => {
    const { fake, api } = await chatFake();
    const sent = await api.sendMessage(ALICE.id, "INC-2", { reply_markup: KEYBOARD });
    const sameMarkup = await apiError(
      api.editMessageReplyMarkup(ALICE.id, sent.message_id, { reply_markup: KEYBOARD }),
    );
    expect(sameMarkup.description).toMatch(/^Bad Request: message is not modified/);
    const confirm = { inline_keyboard: [[{ text: "Да, закрыть", callback_data: "i:cy:1" }]] };
    await api.editMessageReplyMarkup(ALICE.id, sent.message_id, { reply_markup: confirm });
    expect(fake.messages(ALICE.id)[0]).toMatchObject({ text: "INC-2", replyMarkup: confirm, edits: 1 });

    expect(await api.deleteMessage(ALICE.id, sent.message_id)).toBe(true);
    expect(fake.messages(ALICE.id)).toEqual([]);
    const gone = await apiError(api.editMessageText(ALICE.id, sent.message_id, "x"));
    expect(gone.description).toBe("Bad Request: message to edit not found");
    expect((await apiError(api.deleteMessage(ALICE.id, sent.message_id))).description).toBe(
      "Bad Request: message to delete not found",
    );
  });

  it("tells listeners about sent, edited and deleted messages", async () => {
    const { fake, api } = await chatFake();
    const events: string[] = [];
    const unsubscribe = fake.onMessage((e) => events.push(`${e.kind}:${e.message.plainText}`));
    const sent = await api.sendMessage(ALICE.id, "a");
    await api.editMessageText(ALICE.id, sent.message_id, "b");
    await api.deleteMessage(ALICE.id, sent.message_id);
    unsubscribe();
    await api.sendMessage(ALICE.id, "c");
    expect(events).toEqual(["sent:a", "edited:b", "deleted:b"]);
  });
});

describe("fake Bot API: callback queries and media", () => {
  it("records answerCallbackQuery and refuses unknown, repeated or too long answers", async () => {
    const { fake, api } = await chatFake();
    const sent = await api.sendMessage(ALICE.id, "INC-3", { reply_markup: KEYBOARD });
    const first = fake.pressButton(ALICE, ALICE.id, sent.message_id, "i:r:x");
    const second = fake.pressButton(ALICE, ALICE.id, sent.message_id, "i:a:x");
    expect(first).not.toBe(second);

    await api.answerCallbackQuery(first, { text: "Обновлено" });
    await api.answerCallbackQuery(second, { text: "Нет прав", show_alert: true });
    expect(fake.answeredCallbacks()).toEqual(
      new Map([
        [first, { text: "Обновлено" }],
        [second, { text: "Нет прав", showAlert: true }],
      ]),
    );
    const again = await apiError(api.answerCallbackQuery(first));
    expect(again.description).toBe(
      "Bad Request: query is too old and response timeout expired or query ID is invalid",
    );
    const third = fake.pressButton(ALICE, ALICE.id, sent.message_id, "i:c:x");
    expect((await apiError(api.answerCallbackQuery(third, { text: "x".repeat(201) }))).description).toBe(
      "Bad Request: MESSAGE_TOO_LONG",
    );
    await api.answerCallbackQuery(third, { text: "x".repeat(200) });
    expect(fake.answeredCallbacks().get(third)?.text).toHaveLength(200);
  });

  it("sends animations and stickers by file id", async () => {
    const { fake, api } = await chatFake();
    const animation = await api.sendAnimation(ALICE.id, "CgACAgIAAxkBAAI", {
      caption: "<b>done</b>",
      parse_mode: "HTML",
    });
    expect(animation).toMatchObject({ animation: { file_id: "CgACAgIAAxkBAAI" }, caption: "done" });
    const sticker = await api.sendSticker(ALICE.id, "CAACAgIAAxkBAAI");
    expect(sticker.sticker?.file_id).toBe("CAACAgIAAxkBAAI");
    expect(fake.messages(ALICE.id).map((m) => m.kind)).toEqual(["animation", "sticker"]);
    const raw = await rawCall(fake, "sendSticker", { body: JSON.stringify({ chat_id: ALICE.id }) });
    expect(raw.json.description).toBe("Bad Request: there is no sticker in the request");
  });
});
