// The card's workflow lines (issue 14): the assignee, correlation rule names, the first few targets and
// attackers, and the short history of actions taken through the bot; all escaped, within 4096 whatever
// the SIEM puts there.
import { describe, expect, it } from "vitest";
import { renderIncident } from "../../src/render/index.js";
import type { IncidentView, RenderOptions } from "../../src/render/types.js";
import { checkTelegramHtml, hasLoneSurrogate, shownText } from "./telegram-html.js";

const ID = "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
const RU: RenderOptions = {
  locale: "ru",
  timeZone: "Europe/Moscow",
  siemUrl: "https://siem.local",
  maxEvents: 5,
};
const EN: RenderOptions = { ...RU, locale: "en" };
const CREATED = new Date("2024-03-12T06:12:00Z");

function view(rest: Partial<IncidentView> = {}): IncidentView {
  return {
    incident: {
      id: ID,
      key: "INC-75",
      name: "Web_Bulk",
      category: "Attack",
      type: "Undefined",
      status: "InProgress",
      severity: "High",
      created: CREATED,
      isConfirmed: true,
    },
    events: [],
    totalEvents: 0,
    lastAction: null,
    ...rest,
  };
}

function render(v: IncidentView, opts: RenderOptions = RU) {
  const out = renderIncident(v, opts);
  const text = shownText(out.html);
  expect(text.length).toBeLessThanOrEqual(4096);
  expect(out.plain.length).toBeLessThanOrEqual(4096);
  expect(checkTelegramHtml(out.html).ok).toBe(true);
  expect(hasLoneSurrogate(out.html) || hasLoneSurrogate(out.plain)).toBe(false);
  return { ...out, text };
}

const extras = {
  assignee: { id: "u-1", name: "Иван Иванов" },
  rules: ["Password_brute", "Web_Bulk"],
  targets: ["web-01", "10.0.0.5", "db-<02>", "app-03", "app-04"],
  attackers: ["198.51.100.7"],
};

describe("the card's workflow lines", () => {
  it("shows the assignee, the rules, the first three targets with the rest counted, and the attackers (ru, en)", () => {
    const ru = render(view({ extras }));
    expect(ru.text).toContain("Ответственный: Иван Иванов");
    expect(ru.text).toContain("Правила корреляции: Password_brute, Web_Bulk");
    expect(ru.text).toContain("Цели: web-01, 10.0.0.5, db-<02> и ещё 2");
    expect(ru.html).toContain("db-&lt;02&gt;");
    expect(ru.text).toContain("Источники: 198.51.100.7");
    const en = render(view({ extras }), EN);
    expect(en.text).toContain("Assignee: Иван Иванов");
    expect(en.text).toContain("Targets: web-01, 10.0.0.5, db-<02> and 2 more");
    expect(en.text).toContain("Attackers: 198.51.100.7");
  });

  it("shows the assignee's id when the SIEM gives no name, and nothing when nobody holds it", () => {
    expect(render(view({ extras: { ...extras, assignee: { id: "u-9", name: "" } } })).text).toContain(
      "Ответственный: u-9",
    );
    const none = render(view({ extras: { assignee: null, rules: [], targets: [], attackers: [] } }));
    expect(none.text).not.toContain("Ответственный");
    expect(none.text).not.toContain("Цели");
  });

  it("lists the last five bot actions with who, what (and the close reason) and when", () => {
    const at = (min: number) => new Date(CREATED.getTime() + min * 60_000);
    const botActions = [
      { action: "approve", reason: null, by: "@a", at: at(1) },
      { action: "take", reason: null, by: "@b", at: at(2) },
      { action: "resolve", reason: null, by: "@c", at: at(3) },
      { action: "close", reason: "duplicate", by: "@d", at: at(4) },
      { action: "take", reason: null, by: "@e", at: at(5) },
      { action: "close", reason: "authorised", by: "<@f>", at: at(6) },
      { action: "bogus", reason: null, by: "@g", at: at(7) },
    ];
    const out = render(view({ botActions }));
    expect(out.text).toContain("Действия через бота:");
    const lines = out.text.split("\n").filter((l) => l.startsWith("• 09:"));
    expect(lines).toEqual([
      "• 09:14 @b: взял в работу",
      "• 09:15 @c: отметил решённым",
      "• 09:16 @d: закрыл (дубликат)",
      "• 09:17 @e: взял в работу",
      "• 09:18 <@f>: закрыл (тест или разрешённая активность)",
    ]);
    expect(out.html).toContain("&lt;@f&gt;");
    expect(out.text).not.toContain("@g");
  });

  it("stays within 4096 with hostile, huge values everywhere, keeping the header and the link", () => {
    const huge = "<&>".repeat(3000);
    const out = render(
      view({
        incident: { ...view().incident, name: huge, description: huge, type: huge, key: huge },
        events: Array.from({ length: 5 }, (_, i) => ({ id: `${i}`, date: CREATED, description: huge })),
        totalEvents: 500,
        extras: {
          assignee: { id: huge, name: huge },
          rules: Array(50).fill(huge),
          targets: Array(50).fill(huge),
          attackers: Array(50).fill(huge),
        },
        botActions: Array.from({ length: 20 }, () => ({
          action: "close",
          reason: "other",
          by: huge,
          at: CREATED,
        })),
      }),
    );
    expect(out.plain).toContain(`https://siem.local/#/incident/incidents/view/${ID}`);
    expect(out.html).toContain(`href="https://siem.local/#/incident/incidents/view/${ID}"`);
    expect(out.text).toContain("Ответственный:");
  });

  it("leaves out the history, then the parties, before it would cut the link (an absurd MPSIEM_URL)", () => {
    const botActions = [{ action: "take", reason: null, by: "@b", at: CREATED }];
    // A URL just short enough for the card without its history: with it, the plain form would not fit.
    const base = renderIncident(view({ extras }), RU).plain.length;
    const siemUrl = `https://siem.local/${"x".repeat(4096 - base - 10)}`;
    const out = render(view({ extras, botActions }), { ...RU, siemUrl });
    expect(out.plain).toContain(siemUrl);
    expect(out.text).not.toContain("Действия через бота");
    expect(out.text).toContain("Ответственный: Иван Иванов");
  });
});
