import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitText, toReplyMarkup } from "../../src/telegram/send.js";

describe("splitText", () => {
  it("keeps every piece within the limit, never splits a surrogate pair, and loses no text but the line breaks it cut at", () => {
    const chars = fc.constantFrom("a", "я", "\n", "🔥", " ", "<");
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 400 }), fc.integer({ min: 2, max: 50 }), (parts, max) => {
        const text = parts.join("");
        const pieces = splitText(text, max);
        for (const p of pieces) {
          expect(p.length).toBeLessThanOrEqual(max);
          expect(/^[\udc00-\udfff]/.test(p)).toBe(false);
          expect(/[\ud800-\udbff]$/.test(p)).toBe(false);
        }
        expect(pieces.join("").replace(/\n/g, "")).toBe(text.length === 0 ? " " : text.replace(/\n/g, ""));
      }),
    );
  });

  it("cuts at a line break when one is near", () => {
    expect(splitText("aaaa\nbbbb\ncc", 9)).toEqual(["aaaa\nbbbb", "cc"]);
    expect(splitText("aaaa\nbbbbbbb", 9)).toEqual(["aaaa", "bbbbbbb"]);
  });
});

describe("toReplyMarkup", () => {
  it("turns the renderer's keyboard into Telegram's inline_keyboard", () => {
    expect(
      toReplyMarkup([[{ text: "A", callbackData: "i:a:x" }], [{ text: "Open", url: "https://x.invalid/" }]]),
    ).toEqual({
      inline_keyboard: [
        [{ text: "A", callback_data: "i:a:x" }],
        [{ text: "Open", url: "https://x.invalid/" }],
      ],
    });
  });
});
