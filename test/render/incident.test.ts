import { describe, expect, it } from "vitest";
import { decodeCallbackData } from "../../src/render/callback-data.js";
import { renderIncident, SEVERITY_MARK, severityMark } from "../../src/render/index.js";
import type { IncidentView, RenderOptions } from "../../src/render/types.js";
import type { IncidentEvent } from "../../src/siem/types.js";
import { hasLoneSurrogate, shownText } from "./telegram-html.js";

const ID = "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
const EVIL = "<b>&_*[evil]";
const RU: RenderOptions = {
  locale: "ru",
  timeZone: "Europe/Moscow",
  siemUrl: "https://siem.local",
  maxEvents: 5,
};
const EN: RenderOptions = { ...RU, locale: "en" };
const URL = `https://siem.local/#/incident/incidents/view/${ID}`;

function view(
  overrides: Partial<IncidentView["incident"]> = {},
  rest: Partial<IncidentView> = {},
): IncidentView {
  return {
    incident: {
      id: ID,
      key: "INC-75",
      name: "Подозрительная активность",
      category: "Attack",
      type: "Undefined",
      status: "New",
      severity: "High",
      created: new Date("2024-03-12T06:12:00Z"),
      isConfirmed: false,
      ...overrides,
    },
    events: [],
    totalEvents: 0,
    lastAction: null,
    ...rest,
  };
}

function events(n: number, description: (i: number) => string = (i) => `event ${i}`): IncidentEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `e${i}`,
    date: new Date(Date.UTC(2024, 2, 12, 6, 12, i % 60)),
    description: description(i),
  }));
}

/** Renders, checks the invariants every message must meet, and returns it with its shown text. */
function render(v: IncidentView, opts: RenderOptions = RU) {
  const out = renderIncident(v, opts);
  const text = shownText(out.html);
  expect(text.length).toBeLessThanOrEqual(4096);
  expect(out.plain.length).toBeLessThanOrEqual(4096);
  expect(hasLoneSurrogate(out.html) || hasLoneSurrogate(out.plain)).toBe(false);
  return { ...out, text };
}

const eventLines = (text: string) => text.split("\n").filter((l) => l.startsWith("• "));
const moreCount = (text: string) => {
  const m = /(?:ещё|and) (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
};

describe("renderIncident: content", () => {
  it("shows every field of design.md §2 in Russian", () => {
    const out = render(view({}, { events: events(7), totalEvents: 202 }));
    expect(out.text).toContain("Инцидент INC-75");
    expect(out.text).toContain("Время: 12.03.2024 09:12:00");
    expect(out.text).toContain("Опасность: 🔴 Высокая");
    expect(out.text).toContain("Тип: Undefined");
    expect(out.text).toContain("Название: Подозрительная активность");
    expect(out.text).toContain("Статус: Новый");
    expect(out.html).toContain(`<a href="${URL}">Открыть в SIEM</a>`);
    expect(out.plain).toContain(URL);
    expect(out.text).toContain("События: 202 события");
    expect(eventLines(out.text)).toEqual([
      "• 12.03.2024 09:12:00 — event 0",
      "• 12.03.2024 09:12:01 — event 1",
      "• 12.03.2024 09:12:02 — event 2",
      "• 12.03.2024 09:12:03 — event 3",
      "• 12.03.2024 09:12:04 — event 4",
    ]);
    expect(out.text).toContain("…и ещё 197 событий");
  });

  it("shows every field in English", () => {
    const out = render(
      view({ severity: "Medium", status: "InProgress" }, { events: events(1), totalEvents: 2 }),
      EN,
    );
    expect(out.text).toContain("Incident INC-75");
    expect(out.text).toContain("Time: 2024-03-12 09:12:00");
    expect(out.text).toContain("Severity: 🟠 Medium");
    expect(out.text).toContain("Status: In progress");
    expect(out.html).toContain(`<a href="${URL}">Open in the SIEM</a>`);
    expect(out.text).toContain("…and 1 more event");
  });

  it("has the same lines in plain as in HTML, with the URL in place of the link text", () => {
    const out = render(view({ description: "line 1\nline 2" }, { events: events(3), totalEvents: 10 }));
    expect(out.plain).toBe(out.text.replace("🔗 Открыть в SIEM", `🔗 ${URL}`));
  });

  it("trims a trailing slash of the SIEM URL", () => {
    const out = render(view(), { ...RU, siemUrl: "https://siem.local/" });
    expect(out.html).toContain(`href="${URL}"`);
  });

  it("says there are no events", () => {
    expect(render(view()).text).toContain("События: Событий нет");
    expect(render(view(), EN).text).toContain("Events: No events");
  });

  it("with maxEvents 0 shows only the count", () => {
    const out = render(view({}, { events: events(10), totalEvents: 10 }), { ...RU, maxEvents: 0 });
    expect(out.text).toContain("События: 10 событий");
    expect(eventLines(out.text)).toEqual([]);
    expect(out.text).not.toContain("ещё");
  });

  it("trusts the event list when totalEvents is smaller than it", () => {
    const out = render(view({}, { events: events(8), totalEvents: 3 }));
    expect(out.text).toContain("События: 8 событий");
    expect(out.text).toContain("…и ещё 3 события");
  });

  it("shows the description", () => {
    expect(render(view({ description: "Brute force from 10.0.0.1" })).text).toContain(
      "Описание:\nBrute force from 10.0.0.1",
    );
  });

  it("renders events with a missing date or text", () => {
    const out = render(
      view(
        {},
        {
          events: [
            { id: "a", date: null, description: "no date" },
            { id: "b", date: new Date("2024-03-12T06:12:00Z"), description: "" },
            { id: "c", date: new Date(Number.NaN), description: "" },
          ],
          totalEvents: 3,
        },
      ),
    );
    expect(eventLines(out.text)).toEqual(["• no date", "• 12.03.2024 09:12:00", "• —"]);
  });
});

describe("renderIncident: action line", () => {
  const at = new Date("2024-03-12T09:03:00Z");
  it("shows who approved and when, in both locales", () => {
    const v = view({ status: "Approved" }, { lastAction: { status: "Approved", by: "@ivan", at } });
    expect(render(v).text).toContain("Подтверждён: @ivan в 12:03");
    expect(render(v, EN).text).toContain("Approved by @ivan at 12:03");
  });

  it("shows who closed", () => {
    const v = view({ status: "Closed" }, { lastAction: { status: "Closed", by: "Ivan Petrov (42)", at } });
    expect(render(v).text).toContain("Закрыт: Ivan Petrov (42) в 12:03");
    expect(render(v, EN).text).toContain("Closed by Ivan Petrov (42) at 12:03");
  });

  it("shows a change made in the SIEM UI", () => {
    const v = view({ status: "InProgress" }, { lastAction: { status: "InProgress", by: "SIEM", at } });
    expect(render(v).text).toContain("Статус изменён в SIEM в 12:03");
    expect(render(v, EN).text).toContain("Status changed in the SIEM at 12:03");
  });

  it("adds the date when the action was on another day", () => {
    const v = view(
      {},
      { lastAction: { status: "Approved", by: "@ivan", at: new Date("2024-03-14T09:03:00Z") } },
    );
    expect(render(v).text).toContain("Подтверждён: @ivan в 14.03.2024 12:03");
  });

  it("escapes the actor", () => {
    const v = view({}, { lastAction: { status: "Closed", by: EVIL, at } });
    const out = render(v);
    expect(out.text).toContain(`Закрыт: ${EVIL} в 12:03`);
  });
});

describe("renderIncident: hostile and odd values", () => {
  it("escapes every SIEM value", () => {
    const v = view(
      { key: EVIL, name: EVIL, type: EVIL, status: EVIL, severity: EVIL, description: EVIL },
      { events: [{ id: "x", date: null, description: EVIL }], totalEvents: 1 },
    );
    const out = render(v);
    expect(out.html).not.toContain(EVIL);
    expect(out.html).toContain("&lt;b&gt;&amp;_*[evil]");
    // Shown exactly as the SIEM wrote it: in the key, name, type, status, severity, description, event.
    expect(out.text.split(EVIL).length - 1).toBe(7);
    expect(out.plain.split(EVIL).length - 1).toBe(7);
  });

  it("renders unknown severity and status verbatim, with the unknown mark", () => {
    const out = render(view({ severity: "Critical", status: "Reopened" }));
    expect(out.text).toContain("Опасность: ⚪ Critical");
    expect(out.text).toContain("Статус: Reopened");
    expect(out.text.startsWith("⚪ ")).toBe(true);
  });

  it("renders empty strings as a dash", () => {
    const out = render(view({ key: "", name: "", type: "", status: "", severity: "", description: "" }));
    expect(out.text).toContain("Инцидент —");
    expect(out.text).toContain("Название: —");
    expect(out.text).toContain("Тип: —");
    expect(out.text).toContain("Статус: —");
    expect(out.text).toContain("Опасность: ⚪ —");
    expect(out.text).not.toContain("Описание");
  });

  it("shows a dash for an invalid creation time", () => {
    expect(render(view({ created: new Date(Number.NaN) })).text).toContain("Время: —");
  });

  it("keeps emoji and right-to-left text intact", () => {
    const name = "🔥 هجوم على الخادم 🔥 התקפה";
    const out = render(
      view({ name }, { events: [{ id: "e", date: null, description: "👨 مرحبا 👩🏽" }], totalEvents: 1 }),
    );
    expect(out.text).toContain(`Название: ${name}`);
    expect(out.text).toContain("• 👨 مرحبا 👩🏽");
  });

  it("drops zero-width characters and direction marks, even the joiner inside an emoji sequence", () => {
    // U+200D too (SECURITY.md): a family emoji shows as its members, side by side.
    const out = render(
      view(
        { name: "\u202Eexe.txt" },
        { events: [{ id: "e", date: null, description: "👨‍👩‍👧 in\u200Bvoice" }], totalEvents: 1 },
      ),
    );
    expect(out.text).toContain("Название: exe.txt");
    expect(out.text).toContain("• 👨👩👧 invoice");
  });

  it("replaces lone surrogates and strips control characters", () => {
    const out = render(view({ name: "a\uD800b\u0000c\uDFFF" }));
    expect(out.text).toContain("Название: a\uFFFDbc\uFFFD");
  });

  it("collapses line breaks in one-line fields so they cannot fake lines", () => {
    const out = render(view({ name: "real\nСтатус: Закрыт" }));
    expect(out.text).toContain("Название: real Статус: Закрыт");
    expect(out.text.split("\n").filter((l) => l.startsWith("Статус:"))).toEqual(["Статус: Новый"]);
  });

  it("percent-encodes an id that is not a UUID and gives it no buttons", () => {
    const out = render(view({ id: 'x" onclick="y' }));
    expect(out.html).toContain('href="https://siem.local/#/incident/incidents/view/x%22%20onclick%3D%22y"');
    expect(out.keyboard).toEqual([]);
  });
});

describe("renderIncident: the 4096 limit", () => {
  it("shortens a 5,000-character description and keeps its start", () => {
    const description = `START ${"x".repeat(5000)}`;
    const out = render(view({ description }, { events: events(5), totalEvents: 5 }));
    const shown = out.text.split("Описание:\n")[1]!.split("\n")[0]!;
    expect(shown.startsWith("START xxx")).toBe(true);
    expect(shown.endsWith("…")).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(1000);
    expect(eventLines(out.text)).toHaveLength(5);
  });

  it("shortens long event texts first, keeping all events", () => {
    const out = render(view({}, { events: events(20, () => "y".repeat(1000)), totalEvents: 20 }), {
      ...RU,
      maxEvents: 20,
    });
    const lines = eventLines(out.text);
    expect(lines).toHaveLength(20);
    for (const l of lines) expect(l.length).toBeLessThan(350);
    expect(out.text).not.toContain("ещё");
  });

  it("drops events from the end and adjusts 'and N more' when shortening is not enough", () => {
    const out = render(
      view(
        { description: "d".repeat(3000) },
        { events: events(300, (i) => `${i} ${"z".repeat(900)}`), totalEvents: 300 },
      ),
      { ...RU, maxEvents: 50 },
    );
    const lines = eventLines(out.text);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(50);
    lines.forEach((l, i) => {
      expect(l).toContain(`— ${i} `); // the first events, in order
    });
    expect(moreCount(out.text)).toBe(300 - lines.length);
    expect(out.text).toContain("Описание:"); // the description goes only after all events
  });

  it("keeps every header line when every SIEM value is huge", () => {
    const huge = (c: string) => c.repeat(5000);
    const out = render(
      view(
        {
          key: huge("K"),
          name: huge("N"),
          type: huge("T"),
          status: huge("S"),
          severity: huge("V"),
          description: huge("D"),
        },
        {
          events: events(300, () => huge("E")),
          totalEvents: 300,
          lastAction: { status: huge("A"), by: huge("B"), at: new Date("2024-03-12T09:03:00Z") },
        },
      ),
      { ...RU, maxEvents: 50 },
    );
    const lines = out.text.split("\n");
    expect(lines[0]).toMatch(/^⚪ Инцидент K+…$/);
    for (const label of [
      "Время: ",
      "Опасность: ⚪ V",
      "Тип: T",
      "Название: N",
      "Статус: S",
      "A",
      "🔗 Открыть в SIEM",
    ]) {
      expect(lines.some((l) => l.startsWith(label))).toBe(true);
    }
    expect(lines.find((l) => l.startsWith("A"))).toMatch(/^A+…: B+… в 12:03$/);
    expect(out.text).toContain("Описание:\nDDD");
    expect(eventLines(out.text).length).toBeGreaterThan(0); // header caps leave room for events
    expect(eventLines(out.text).length + moreCount(out.text)).toBe(300);
    expect(out.html).toContain(`href="${URL}"`);
  });

  it("keeps header and link with 300 events of emoji, measuring UTF-16 units", () => {
    const out = render(
      view({ name: "😀".repeat(3000) }, { events: events(300, () => "🙂".repeat(2000)), totalEvents: 300 }),
      { ...RU, maxEvents: 50 },
    );
    // In code points this text is far shorter than in UTF-16 units; the limit is on the latter.
    expect(out.text.length).toBeLessThanOrEqual(4096);
    expect(out.text.length).toBeGreaterThan(3000);
    expect(out.text).toContain("Инцидент INC-75");
    expect(out.html).toContain(`href="${URL}"`);
    expect(out.plain).toContain(URL);
    expect(eventLines(out.text).length + moreCount(out.text)).toBe(300);
  });

  it("never shows more than maxEvents", () => {
    const out = render(view({}, { events: events(300), totalEvents: 300 }), { ...RU, maxEvents: 50 });
    expect(eventLines(out.text)).toHaveLength(50);
    expect(out.text).toContain("…и ещё 250 событий");
  });
});

describe("renderIncident: keyboard", () => {
  it("offers Approve/Take/Close on New and decodes to this incident", () => {
    const out = render(view());
    expect(out.keyboard.flat().map((b) => decodeCallbackData(b.callbackData))).toEqual([
      { kind: "incident", action: "approve", incidentId: ID },
      { kind: "incident", action: "take", incidentId: ID },
      { kind: "incident", action: "close", incidentId: ID },
      { kind: "incident", action: "refresh", incidentId: ID },
    ]);
  });

  it("shows the confirmation buttons while confirming a close", () => {
    const out = render(view({}, { confirmingClose: true }));
    expect(out.keyboard.flat().map((b) => b.text)).toEqual([
      "✅ Да, закрыть",
      "📑 Дубликат",
      "🧪 Тест / разрешено",
      "📝 Другое",
      "↩️ Отмена",
    ]);
  });
});

describe("severityMark", () => {
  it("maps High, Medium, Low (any case) and everything else to the unknown mark", () => {
    expect([severityMark("High"), severityMark("medium"), severityMark(" LOW ")]).toEqual(["🔴", "🟠", "🟡"]);
    expect([severityMark("Critical"), severityMark("")]).toEqual([
      SEVERITY_MARK.unknown,
      SEVERITY_MARK.unknown,
    ]);
    expect(SEVERITY_MARK.unknown).toBe("⚪");
  });
});
