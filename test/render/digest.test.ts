import { describe, expect, it } from "vitest";
import { t } from "../../src/i18n/index.js";
import {
  type DigestMessage,
  lookupCommandOf,
  renderDigestEdit,
  renderDigestPage,
  statusMark,
  visibleLength,
} from "../../src/render/index.js";
import type { RenderOptions } from "../../src/render/types.js";
import type { IncidentSummary } from "../../src/siem/types.js";
import { digestPages } from "./digest-pages.js";
import { hasLoneSurrogate, shownText } from "./telegram-html.js";

const RU: RenderOptions = {
  locale: "ru",
  timeZone: "Europe/Moscow",
  siemUrl: "https://siem.local",
  maxEvents: 5,
};
const EN: RenderOptions = { ...RU, locale: "en" };

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
}

function items(n: number, over: (i: number) => Partial<IncidentSummary> = () => ({})): IncidentSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    id: uuid(i),
    key: `INC-${i + 1}`,
    name: `Incident number ${i + 1}`,
    category: "",
    type: "Undefined",
    status: "New",
    severity: ["High", "Medium", "Low"][i % 3]!,
    created: new Date("2024-03-12T06:12:00Z"),
    isConfirmed: false,
    ...over(i),
  }));
}

function check(messages: DigestMessage[]) {
  for (const p of messages) {
    expect(shownText(p.html).length).toBeLessThanOrEqual(4096);
    expect(p.plain.length).toBeLessThanOrEqual(4096);
    expect(hasLoneSurrogate(p.html) || hasLoneSurrogate(p.plain)).toBe(false);
  }
}

describe("renderDigestPage", () => {
  it("gives nothing for no incidents", () => {
    expect(renderDigestPage([], RU)).toBeUndefined();
    expect(renderDigestEdit([], RU)).toBeUndefined();
  });

  it("lists mark, key and a linked name under a counted header", () => {
    const page = renderDigestPage(items(3), RU)!;
    check([page]);
    expect(page.included).toEqual([uuid(0), uuid(1), uuid(2)]);
    expect(shownText(page.html).split("\n")).toEqual([
      "3 новых инцидента",
      "🔴 INC-1 Incident number 1 /inc_1",
      "🟠 INC-2 Incident number 2 /inc_2",
      "🟡 INC-3 Incident number 3 /inc_3",
    ]);
    expect(page.html).toContain(
      `<b>INC-1</b> <a href="https://siem.local/#/incident/incidents/view/${uuid(0)}">Incident number 1</a>`,
    );
    expect(page.plain.split("\n")).toEqual([
      "3 новых инцидента",
      "🔴 INC-1 Incident number 1 /inc_1",
      "🟠 INC-2 Incident number 2 /inc_2",
      "🟡 INC-3 Incident number 3 /inc_3",
    ]);
    // An edit of the same incidents, unchanged, shows exactly what was sent.
    expect(renderDigestEdit(items(3), RU)).toEqual(page);
  });

  it.each([
    [1, "1 новый инцидент", "1 new incident"],
    [2, "2 новых инцидента", "2 new incidents"],
    [5, "5 новых инцидентов", "5 new incidents"],
    [11, "11 новых инцидентов", "11 new incidents"],
    [21, "21 новый инцидент", "21 new incidents"],
  ])("headers %i incidents with the right plural (sent and edited)", (n, ru, en) => {
    for (const render of [renderDigestPage, renderDigestEdit]) {
      expect(shownText(render(items(n), RU)!.html).split("\n")[0]).toBe(ru);
      expect(shownText(render(items(n), EN)!.html).split("\n")[0]).toBe(en);
    }
  });

  it("pages a flood: each page counts what it holds, packed, each incident exactly once and in order", () => {
    const input = items(600, (i) => ({ name: `${"Имя ".repeat(40)}${i}` }));
    const pages = digestPages(input, RU);
    check(pages);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((p) => p.included)).toEqual(input.map((i) => i.id));
    for (const p of pages) {
      const lines = shownText(p.html).split("\n");
      expect(lines[0]!.startsWith(`${p.included.length} `)).toBe(true);
      expect(lines[0]).toBe(t("ru").notices.digestHeader(p.included.length));
      expect(lines).toHaveLength(p.included.length + 1);
    }
    // Packed, not one per message: every page but the last is nearly full.
    for (const p of pages.slice(0, -1)) expect(visibleLength(p.html)).toBeGreaterThan(3000);
  });

  it("escapes names and keys, shows unknown severity, and shortens long names", () => {
    const page = renderDigestPage(
      items(2, (i) =>
        i === 0 ? { name: "<b>&_*[evil]", key: "<i>" } : { name: "😀".repeat(3000), severity: "" },
      ),
      EN,
    )!;
    check([page]);
    const lines = shownText(page.html).split("\n");
    expect(lines[1]).toBe("🔴 <i> <b>&_*[evil]");
    expect(lines[2]!.startsWith("⚪ INC-2 😀😀")).toBe(true);
    expect(lines[2]!.endsWith(" /inc_2")).toBe(true);
    expect(lines[2]!.length).toBeLessThanOrEqual(230);
  });
});

describe("digest lines: status marks and /inc_N", () => {
  it("a page packed full still fits when its lines change from one status mark to a wider one", () => {
    // ✅ is one UTF-16 unit narrower than the other marks; one-letter names leave an edit nothing to shorten.
    for (const [from, to] of [
      ["Approved", "InProgress"],
      ["Approved", "Closed"],
      ["New", "Resolved"],
      ["InProgress", "Closed"],
    ] as const) {
      const input = items(600, () => ({ name: "n", severity: "High", status: from }));
      const page = renderDigestPage(input, EN)!;
      expect(page.included.length).toBeLessThan(600);
      const shown = input.filter((i) => page.included.includes(i.id)).map((i) => ({ ...i, status: to }));
      const edit = renderDigestEdit(shown, EN)!;
      check([edit]);
      expect(edit.included, `${from} → ${to}`).toEqual(page.included);
    }
  });
  it("ends every line with the /inc_N of its key, and only for INC-<n> keys", () => {
    expect(lookupCommandOf("INC-42")).toBe("/inc_42");
    expect(lookupCommandOf("inc-7")).toBe("/inc_7");
    for (const key of ["INC-0", "INC-", "42", "INC-4x", "INC-1234567890", "<i>"]) {
      expect(lookupCommandOf(key), key).toBe("");
    }
  });

  it("marks each line with its status once it left New", () => {
    const statuses = ["New", "Approved", "InProgress", "Resolved", "Closed", "Weird"];
    const page = renderDigestPage(
      items(statuses.length, (i) => ({ status: statuses[i]!, severity: "Low" })),
      EN,
    )!;
    expect(shownText(page.html).split("\n").slice(1)).toEqual([
      "🟡 INC-1 Incident number 1 /inc_1",
      "🟡 ✅ INC-2 Incident number 2 /inc_2",
      "🟡 🛠 INC-3 Incident number 3 /inc_3",
      "🟡 ✔️ INC-4 Incident number 4 /inc_4",
      "🟡 ✖️ INC-5 Incident number 5 /inc_5",
      "🟡 INC-6 Incident number 6 /inc_6",
    ]);
    expect(statusMark("in_progress")).toBe("🛠");
    expect(statusMark(" closed ")).toBe("✖️");
  });

  it("packs a page so that it still fits when every line gets the widest status mark", () => {
    for (const nameLength of [1, 30, 200]) {
      const all = items(400, () => ({ name: "n".repeat(nameLength), status: "New" }));
      const page = renderDigestPage(all, RU)!;
      expect(page.included.length).toBeLessThan(400);
      const held = all.slice(0, page.included.length);
      for (const status of ["Resolved", "Closed", "InProgress"]) {
        const edited = renderDigestEdit(
          held.map((i) => ({ ...i, status })),
          RU,
        )!;
        expect(edited.included, `${nameLength} ${status}`).toEqual(page.included);
        expect(visibleLength(edited.html)).toBeLessThanOrEqual(4096);
        expect(edited.plain.length).toBeLessThanOrEqual(4096);
        expect(edited.plain).not.toMatch(/…$/);
      }
      // Packed full: one more line would not have fitted with its room for a mark.
      const withOneMore = renderDigestPage(all.slice(0, page.included.length + 1), RU)!;
      expect(withOneMore.included.length).toBe(page.included.length);
    }
  });

  it("an edit keeps every line and the header, shortening names when renamed incidents got longer", () => {
    const held = items(60, () => ({ name: "x" }));
    const page = renderDigestPage(held, EN, { silent: true })!;
    const renamed = held.map((i) => ({ ...i, name: "Y".repeat(200), status: "Approved" }));
    const edited = renderDigestEdit(renamed, EN, { silent: true })!;
    expect(edited.included).toEqual(page.included);
    expect(shownText(edited.html).split("\n")[0]).toBe(shownText(page.html).split("\n")[0]);
    expect(visibleLength(edited.html)).toBeLessThanOrEqual(4096);
    expect(edited.plain.length).toBeLessThanOrEqual(4096);
    expect(shownText(edited.html)).toContain("✅ INC-60 ");
  });
});
