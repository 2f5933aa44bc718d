import { describe, expect, it } from "vitest";
import {
  cleanBlock,
  cleanInline,
  cleanText,
  clipText,
  escapeHtml,
  visibleLength,
} from "../../src/render/index.js";
import { checkTelegramHtml, hasLoneSurrogate } from "./telegram-html.js";

describe("escapeHtml", () => {
  it("escapes & < > and double quotes, leaves the rest", () => {
    expect(escapeHtml(`<b>&_*[evil]"'`)).toBe("&lt;b&gt;&amp;_*[evil]&quot;'");
  });

  it("makes any text valid Telegram HTML that shows the original text", () => {
    const nasty = `</a><a href="x">&amp;&#xZZ;<tg-spoiler>&`;
    const check = checkTelegramHtml(escapeHtml(nasty));
    expect(check).toEqual({ ok: true, text: nasty });
  });
});

describe("visibleLength", () => {
  it("does not count tags", () => {
    expect(visibleLength('<b>ab</b> <a href="https://example.com/very/long">c</a>')).toBe(4);
  });

  it("counts an entity as the one character it stands for", () => {
    expect(visibleLength("&lt;&gt;&amp;&quot;")).toBe(4);
    expect(visibleLength("&#65;&#x42;")).toBe(2);
  });

  it("counts in UTF-16 units: an emoji is 2, also when written as an entity", () => {
    expect(visibleLength("😀")).toBe(2);
    expect(visibleLength("&#x1F600;")).toBe(2);
    expect(visibleLength("é")).toBe(1);
  });

  it("counts an unknown entity as written", () => {
    expect(visibleLength("&nbsp;")).toBe(6);
  });
});

describe("cleanText / cleanInline / cleanBlock", () => {
  it("replaces lone surrogates and keeps pairs", () => {
    const input = `a\uD800b\uDC00c😀`;
    const out = cleanText(input);
    expect(out).toBe("a\uFFFDb\uFFFDc😀");
    expect(hasLoneSurrogate(out)).toBe(false);
  });

  it("drops direction overrides, embeddings, isolates, marks and zero-width characters", () => {
    const hidden = ["\u061C", "\u200B", "\u200C", "\u200D", "\u200E", "\u200F", "\u202A", "\u202B"];
    hidden.push("\u202C", "\u202D", "\u202E", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\uFEFF");
    expect(cleanText(`a${hidden.join("b")}c`)).toBe(`a${"b".repeat(hidden.length - 1)}c`);
    expect(cleanInline("\u202Egpj.exe \u2066x\u2069")).toBe("gpj.exe x");
    expect(cleanBlock("\u200Bline\n\u200F\nline")).toBe("line\n\nline");
    // Visible neighbours stay: Arabic and Hebrew letters, the non-breaking space, emoji.
    expect(cleanText("مرحبا שלום\u00A0😀")).toBe("مرحبا שלום\u00A0😀");
  });

  it("drops control characters but keeps tabs and newlines; normalises CRLF", () => {
    expect(cleanText("a\u0000b\u0007c\u009f\td\r\ne\rf")).toBe("abc\td\ne\nf");
  });

  it("turns non-strings into text instead of throwing", () => {
    expect(cleanText(null)).toBe("");
    expect(cleanText(undefined)).toBe("");
    expect(cleanText(42)).toBe("42");
  });

  it("inline collapses whitespace; block keeps paragraphs but not runs of blank lines", () => {
    expect(cleanInline("  a \n\t b  ")).toBe("a b");
    expect(cleanBlock("  a  \n\n\n\n b \n")).toBe("a\n\n b");
  });
});

describe("clipText", () => {
  it("returns short text unchanged", () => {
    expect(clipText("abc", 3)).toBe("abc");
  });

  it("cuts to the budget in UTF-16 units, ending with an ellipsis", () => {
    const out = clipText("abcdef", 4);
    expect(out).toBe("abc…");
    expect(out.length).toBe(4);
  });

  it("never splits a surrogate pair", () => {
    const emoji = "😀".repeat(10); // 20 units
    for (let max = 1; max <= 21; max++) {
      const out = clipText(emoji, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(hasLoneSurrogate(out)).toBe(false);
    }
    expect(clipText(emoji, 4)).toBe("😀…"); // 3 units: the second emoji did not fit whole
  });

  it("gives an empty string for a zero budget", () => {
    expect(clipText("abc", 0)).toBe("");
  });
});
