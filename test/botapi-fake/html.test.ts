import { describe, expect, it } from "vitest";
import { EntityParseError, htmlToVisibleText, parseTelegramHtml } from "../../src/botapi-fake/html.js";

function reason(html: string): string {
  try {
    parseTelegramHtml(html);
  } catch (error) {
    expect(error).toBeInstanceOf(EntityParseError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(html)} to be rejected`);
}

describe("parseTelegramHtml", () => {
  it("turns supported tags into entities with UTF-16 offsets", () => {
    const parsed = parseTelegramHtml(
      '🔥 <b>INC-1</b> <a href="https://siem/#/x?a=1&amp;b=2">open</a> <i>x</i>',
    );
    expect(parsed.text).toBe("🔥 INC-1 open x");
    expect(parsed.entities).toEqual([
      { type: "bold", offset: 3, length: 5 }, // the emoji is two UTF-16 units
      { type: "text_link", offset: 9, length: 4, url: "https://siem/#/x?a=1&b=2" },
      { type: "italic", offset: 14, length: 1 },
    ]);
  });

  it("accepts every tag Telegram supports, nested properly", () => {
    const html =
      "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>" +
      '<tg-spoiler>h</tg-spoiler><span class="tg-spoiler">i</span><code>j</code>' +
      '<pre><code class="language-ts">k</code></pre><blockquote>l</blockquote>' +
      "<blockquote expandable>m</blockquote><b><i><u>n</u></i></b>";
    const parsed = parseTelegramHtml(html);
    expect(parsed.text).toBe("abcdefghijklmn");
    const types = parsed.entities.map((e) => e.type);
    expect(types).toEqual([
      "bold",
      "italic",
      "underline",
      "underline",
      "strikethrough",
      "strikethrough",
      "strikethrough",
      "spoiler",
      "spoiler",
      "code",
      "pre",
      "blockquote",
      "expandable_blockquote",
      "bold",
      "italic",
      "underline",
    ]);
    expect(parsed.entities.find((e) => e.type === "pre")?.language).toBe("ts");
  });

  it("decodes the four named entities and numeric ones", () => {
    expect(parseTelegramHtml("&lt;a&gt; &amp; &quot;q&quot; &#65;&#x1F600;").text).toBe('<a> & "q" A😀');
  });

  it("rejects unsupported tags, bare '<' and unknown entities", () => {
    expect(reason("line<br>next")).toBe('Unsupported start tag "br" at byte offset 4');
    expect(reason("1 < 2")).toBe('Unsupported start tag "" at byte offset 2');
    expect(reason("<div>x</div>")).toMatch(/^Unsupported start tag "div"/);
    expect(reason("Tom &amp Jerry")).toMatch(/^Unsupported HTML entity/);
    expect(reason("a & b")).toMatch(/^Unsupported HTML entity/);
    expect(reason("&apos;")).toMatch(/^Unsupported HTML entity/);
    expect(reason("&#0;")).toMatch(/^Unsupported HTML entity/);
  });

  it("rejects unclosed, unmatched and stray end tags", () => {
    expect(reason("<b>bold")).toBe('Can\'t find end tag corresponding to start tag "b"');
    expect(reason("<b><i>x</b></i>")).toBe(
      'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
    );
    expect(reason("x</b>")).toBe("Unexpected end tag at byte offset 1");
    expect(reason("<b")).toBe("Unclosed start tag at byte offset 0");
    expect(reason('<a href="x>y')).toMatch(/^Unclosed end of an attribute value/);
  });

  it("requires href on <a> and class tg-spoiler on <span>", () => {
    expect(reason("<a>x</a>")).toMatch(/must have attribute "href"/);
    expect(reason('<span class="red">x</span>')).toMatch(/must have class "tg-spoiler"/);
  });

  it("reports byte offsets in UTF-8, as Telegram does", () => {
    // "Ж" is 2 bytes, so the tag starts at byte 2 although it is character 1
    expect(reason("Ж<x>")).toBe('Unsupported start tag "x" at byte offset 2');
  });
});

describe("htmlToVisibleText", () => {
  it("strips tags and decodes entities, even for markup the strict parser refuses", () => {
    expect(htmlToVisibleText("<b>A</b> &lt;3")).toBe("A <3");
    expect(htmlToVisibleText("<br>x &amp; y")).toBe("x & y");
  });
});
