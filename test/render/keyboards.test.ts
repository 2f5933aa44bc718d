import { describe, expect, it } from "vitest";
import type { Locale } from "../../src/config/types.js";
import { decodeCallbackData, MAX_CALLBACK_BYTES } from "../../src/render/callback-data.js";
import { chatRequestKeyboard, incidentKeyboard } from "../../src/render/index.js";
import type { InlineKeyboard } from "../../src/render/types.js";

const ID = "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

const labels = (kb: InlineKeyboard) => kb.flat().map((b) => b.text);
const decoded = (kb: InlineKeyboard) => kb.flat().map((b) => decodeCallbackData(b.callbackData));

/** design.md §2: the label is the contract word, optionally after an emoji and a space. */
function expectLabel(label: string, word: string) {
  expect(label.endsWith(word)).toBe(true);
  const prefix = label.slice(0, label.length - word.length);
  if (prefix !== "") expect(prefix).toMatch(/^\p{Extended_Pictographic}[\uFE0F\u20E3]? $/u);
}

describe("incidentKeyboard", () => {
  // design.md §4, verbatim: every status offers exactly these buttons, in this order.
  const TABLE: Array<[string, Record<Locale, string[]>, string[]]> = [
    [
      "New",
      { ru: ["Подтвердить", "В работу", "Закрыть", "Обновить"], en: ["Approve", "Take", "Close", "Refresh"] },
      ["approve", "take", "close", "refresh"],
    ],
    [
      "Approved",
      { ru: ["В работу", "Решён", "Закрыть", "Обновить"], en: ["Take", "Resolve", "Close", "Refresh"] },
      ["take", "resolve", "close", "refresh"],
    ],
    [
      "InProgress",
      { ru: ["Решён", "Закрыть", "Обновить"], en: ["Resolve", "Close", "Refresh"] },
      ["resolve", "close", "refresh"],
    ],
    ["Resolved", { ru: ["Закрыть", "Обновить"], en: ["Close", "Refresh"] }, ["close", "refresh"]],
    ["Closed", { ru: ["Обновить"], en: ["Refresh"] }, ["refresh"]],
  ];

  it.each(
    TABLE.flatMap(([status, words, actions]) =>
      (["ru", "en"] as const).map((locale) => [status, locale, words[locale], actions] as const),
    ),
  )("%s (%s) offers exactly its buttons", (status, locale, words, actions) => {
    const kb = incidentKeyboard(ID, status, locale);
    const shown = labels(kb);
    expect(shown).toHaveLength(words.length);
    for (const [i, label] of shown.entries()) expectLabel(label, words[i]!);
    expect(decoded(kb)).toEqual(actions.map((action) => ({ kind: "incident", action, incidentId: ID })));
    // Refresh is alone on the last row.
    expect(kb.at(-1)).toHaveLength(1);
  });

  it.each(["new", "INPROGRESS", " resolved "])("matches the status %j case-insensitively", (status) => {
    expect(labels(incidentKeyboard(ID, status, "en")).length).toBeGreaterThan(1);
  });

  it.each(["Weird", "", "__proto__", "constructor"])("an unknown status %j gets Refresh only", (status) => {
    const kb = incidentKeyboard(ID, status, "ru");
    expect(kb).toHaveLength(1);
    expectLabel(labels(kb)[0]!, "Обновить");
    expect(decoded(kb)).toEqual([{ kind: "incident", action: "refresh", incidentId: ID }]);
  });

  it.each<[Locale, string, string]>([
    ["ru", "Да, закрыть", "Отмена"],
    ["en", "Yes, close", "Cancel"],
  ])("confirming a close (%s): Yes, close first, then the other reasons, Cancel last", (locale, yes, no) => {
    const kb = incidentKeyboard(ID, "New", locale, true);
    const shown = labels(kb);
    expectLabel(shown[0]!, yes);
    expectLabel(shown.at(-1)!, no);
    expect(decoded(kb).map((d) => (d?.kind === "incident" ? d.action : null))).toEqual([
      "close_yes",
      "close_duplicate",
      "close_authorised",
      "close_other",
      "close_no",
    ]);
  });

  it("keeps every payload within 64 bytes", () => {
    const kb = incidentKeyboard(ID.toUpperCase(), "New", "en");
    for (const b of kb.flat()) {
      expect(Buffer.byteLength(b.callbackData!, "utf8")).toBeLessThanOrEqual(MAX_CALLBACK_BYTES);
      expect(b.url).toBeUndefined();
    }
  });
});

describe("chatRequestKeyboard", () => {
  it.each<[Locale, string, string, string]>([
    ["ru", "Разрешить", "Проигнорировать", "Заблокировать"],
    ["en", "Allow", "Ignore", "Block"],
  ])("offers Allow, Ignore, Block (%s)", (locale, allow, ignore, block) => {
    const kb = chatRequestKeyboard(-1001234567890, null, locale);
    const [a, i, b] = labels(kb);
    expectLabel(a!, allow);
    expectLabel(i!, ignore);
    expectLabel(b!, block);
  });

  it("round-trips the chat id and the topic through the callback data", () => {
    for (const [chatId, threadId] of [
      [-1001234567890, null],
      [-1001234567890, 5],
      [123456789, null],
      [-(2 ** 52), 999_999_999_999],
    ] as const) {
      const kb = chatRequestKeyboard(chatId, threadId, "ru");
      expect(decoded(kb)).toEqual(
        (["allow", "ignore", "block"] as const).map((decision) => ({
          kind: "chat",
          decision,
          chatId,
          threadId,
        })),
      );
      for (const b of kb.flat()) expect(Buffer.byteLength(b.callbackData!, "utf8")).toBeLessThanOrEqual(64);
    }
  });
});
