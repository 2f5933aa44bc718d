import { describe, expect, it } from "vitest";
import type { FakeMessage, FakeMessageEvent } from "../../src/botapi-fake/index.js";
import { clipText, TranscriptPrinter } from "../../src/demo/transcript.js";

function message(over: Partial<FakeMessage> = {}): FakeMessage {
  return {
    chatId: -1001,
    messageId: 7,
    text: "<b>Инцидент INC-1</b>\nСтатус: &lt;Новый&gt;",
    parseMode: "HTML",
    replyMarkup: {
      inline_keyboard: [
        [
          { text: "▶️ Подтвердить", callback_data: "a" },
          { text: "⏹ Закрыть", callback_data: "c" },
        ],
        [{ text: "🔄 Обновить", callback_data: "r" }],
      ],
    },
    edits: 0,
    date: 0,
    kind: "text",
    plainText: "",
    ...over,
  };
}

const names = new Map([
  [-1001, "SOC team (supergroup -1001)"],
  [5, "Ivan (private 5)"],
]);
const printer = () => new TranscriptPrinter((id) => names.get(id));
const sent = (m: FakeMessage): FakeMessageEvent => ({ kind: "sent", message: m });
const edited = (m: FakeMessage): FakeMessageEvent => ({ kind: "edited", message: m });

describe("TranscriptPrinter", () => {
  it("prints a header naming the chat, the visible text, then the buttons in brackets", () => {
    expect(printer().format(sent(message()))).toEqual([
      "── to SOC team (supergroup -1001) ──",
      "   Инцидент INC-1",
      "   Статус: <Новый>",
      "   [▶️ Подтвердить] [⏹ Закрыть]",
      "   [🔄 Обновить]",
    ]);
  });

  it("names an unknown chat by its id", () => {
    expect(printer().format(sent(message({ chatId: 99 })))[0]).toBe("── to chat 99 ──");
  });

  it("prints a changed text in full, and only the buttons when just they changed", () => {
    const p = printer();
    p.format(sent(message()));
    const confirm = message({
      edits: 1,
      replyMarkup: { inline_keyboard: [[{ text: "✅ Да, закрыть", callback_data: "y" }]] },
    });
    expect(p.format(edited(confirm))).toEqual([
      "── edited in SOC team (supergroup -1001) (buttons only) ──",
      "   [✅ Да, закрыть]",
    ]);
    const closed = message({
      edits: 2,
      text: "<b>Инцидент INC-1</b>\nСтатус: Закрыт",
      replyMarkup: undefined,
    });
    expect(p.format(edited(closed))).toEqual([
      "── edited in SOC team (supergroup -1001) ──",
      "   Инцидент INC-1",
      "   Статус: Закрыт",
    ]);
  });

  it("names an identical copy in the next chat instead of repeating it", () => {
    const p = printer();
    p.format(sent(message()));
    expect(p.format(sent(message({ chatId: 5 })))).toEqual([
      "── to Ivan (private 5) ──",
      "   (the same message as above)",
    ]);
    // A different message is printed in full again.
    expect(p.format(sent(message({ chatId: 5, messageId: 8, text: "другой" })))).toContain("   другой");
  });

  it("keeps plain (not HTML) text as written", () => {
    const plain = message({ parseMode: undefined, text: "<b>not markup</b>", replyMarkup: undefined });
    expect(printer().format(sent(plain))).toEqual([
      "── to SOC team (supergroup -1001) ──",
      "   <b>not markup</b>",
    ]);
  });

  it("reports a deleted message", () => {
    expect(printer().format({ kind: "deleted", message: message() })).toEqual([
      "── deleted in SOC team (supergroup -1001) ──",
    ]);
  });

  it("clips long messages but always shows the buttons", () => {
    const long = message({ text: Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n") });
    const lines = new TranscriptPrinter(() => "X", { maxLines: 3 }).format(sent(long));
    expect(lines).toEqual([
      "── to X ──",
      "   line 0",
      "   line 1",
      "   line 2",
      "   … (27 more lines)",
      "   [▶️ Подтвердить] [⏹ Закрыть]",
      "   [🔄 Обновить]",
    ]);
  });
});

describe("clipText", () => {
  it("cuts long lines by characters (not UTF-16 units) and drops trailing blank lines", () => {
    expect(clipText(["🔴🔴🔴🔴🔴", "ok", "", "  "], 10, 4)).toEqual(["🔴🔴🔴…", "ok"]);
  });
});
