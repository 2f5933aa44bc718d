// Property tests: whatever the SIEM sends, the message is valid Telegram HTML within 4096 UTF-16
// units, keeps its key line and link, and never holds a lone surrogate. Runs are bounded so the
// file takes a few seconds.

import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Locale } from "../../src/config/types.js";
import { t } from "../../src/i18n/index.js";
import { decodeCallbackData } from "../../src/render/callback-data.js";
import {
  cleanInline,
  clipText,
  escapeHtml,
  incidentUrl,
  renderDigestEdit,
  renderDigestPage,
  renderIncident,
  visibleLength,
} from "../../src/render/index.js";
import type { IncidentView, RenderOptions } from "../../src/render/types.js";
import type { IncidentSummary } from "../../src/siem/types.js";
import { digestPages } from "./digest-pages.js";
import { checkTelegramHtml, hasLoneSurrogate } from "./telegram-html.js";

const NUM_RUNS = 200;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Direction overrides and embeddings, isolates, the Arabic letter mark, zero-width characters. */
const INVISIBLE_CODE_POINTS = [
  ...range(0x202a, 0x202e),
  ...range(0x2066, 0x2069),
  ...range(0x200b, 0x200f),
  0x061c,
];
const INVISIBLE = new RegExp(
  `[${INVISIBLE_CODE_POINTS.map((c) => `\\u${c.toString(16).padStart(4, "0")}`).join("")}]`,
);
const invisibleChar = fc.constantFrom(...INVISIBLE_CODE_POINTS).map((c) => String.fromCharCode(c));
const anyChar = fc.oneof(
  loneSurrogate,
  invisibleChar,
  fc.constantFrom("<", ">", "&", '"', "\n", "\u0000", "😀", "ש", "&amp;", "&#x202E;", "INC\u202E57-"),
);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Any text: ASCII, full Unicode, graphemes, markup fragments, lone surrogates, and long repeats. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({
    unit: fc.oneof(anyChar, fc.string({ unit: "binary", minLength: 1, maxLength: 1 })),
    maxLength: 40,
  }),
  fc
    .tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 700 }))
    .map(([s, n]) => s.repeat(n)),
  fc.constantFrom("", "<b>&_*[evil]", '</a><a href="x">', "High", "New", "INC-75"),
);

const date = fc.oneof(
  fc.date(),
  fc.date({ noInvalidDate: true, min: new Date("2000-01-01"), max: new Date("2100-01-01") }),
  fc.constant(new Date(Number.NaN)),
);

const id = fc.oneof(fc.uuid(), text);

const longText = fc
  .tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 6 }), fc.integer({ min: 20, max: 400 }))
  .map(([s, n]) => s.repeat(n));

const event = fc.record({ id: fc.string({ maxLength: 8 }), date: fc.option(date), description: text });
const longEvent = fc.record({ id: fc.constant("e"), date, description: longText });

/** Mostly a few events; often a flood of long ones, so the 4096 limit is actually hit. */
const eventList = fc.oneof(
  { arbitrary: fc.array(event, { maxLength: 400 }), weight: 1 },
  {
    arbitrary: fc.array(fc.oneof(event, longEvent), { minLength: 30, maxLength: 400, size: "max" }),
    weight: 2,
  },
);

const summary: fc.Arbitrary<IncidentSummary> = fc.record({
  id,
  key: fc.oneof(fc.constantFrom("INC-1", "INC-75"), text),
  name: text,
  category: text,
  type: text,
  status: fc.oneof(fc.constantFrom("New", "Approved", "InProgress", "Resolved", "Closed"), text),
  severity: fc.oneof(fc.constantFrom("High", "Medium", "Low"), text),
  created: date,
  isConfirmed: fc.boolean(),
});

/** Mostly a few incidents; often a flood, so that a page is actually filled and the next one begins. */
const summaryList = fc.oneof(
  { arbitrary: fc.array(summary, { maxLength: 300 }), weight: 1 },
  { arbitrary: fc.array(summary, { minLength: 30, maxLength: 300, size: "max" }), weight: 1 },
);

const options: fc.Arbitrary<RenderOptions> = fc.record({
  locale: fc.constantFrom<Locale>("ru", "en"),
  timeZone: fc.constantFrom("Europe/Moscow", "UTC", "Asia/Kolkata", "America/St_Johns", "Not/AZone"),
  siemUrl: fc.oneof(fc.webUrl(), fc.constant("https://siem.example.local")),
  maxEvents: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 50 }), weight: 1 },
    { arbitrary: fc.integer({ min: 30, max: 50 }), weight: 2 },
  ),
});

const incidentView: fc.Arbitrary<IncidentView> = fc.record({
  incident: fc
    .tuple(summary, fc.option(text, { nil: undefined }))
    .map(([s, description]) => ({ ...s, description })),
  events: eventList,
  totalEvents: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constant(Number.NaN), fc.constant(-3)),
  lastAction: fc.option(fc.record({ status: text, by: fc.oneof(fc.constant("SIEM"), text), at: date })),
  confirmingClose: fc.option(fc.boolean(), { nil: undefined }),
});

describe("renderIncident properties", () => {
  it("always fits, is valid Telegram HTML, and keeps the key line and the link", () => {
    fc.assert(
      fc.property(incidentView, options, (view, opts) => {
        const out = renderIncident(view, opts);
        const check = checkTelegramHtml(out.html);
        if (!check.ok) throw new Error(check.error);

        // The limit, measured by the independent checker and by the renderer's own measure.
        expect(check.text.length).toBeLessThanOrEqual(4096);
        expect(visibleLength(out.html)).toBe(check.text.length);
        expect(out.plain.length).toBeLessThanOrEqual(4096);
        expect(hasLoneSurrogate(out.html)).toBe(false);
        expect(hasLoneSurrogate(out.plain)).toBe(false);

        // The key line and the link.
        const m = t(opts.locale);
        const key = clipText(cleanInline(view.incident.key), 64) || m.empty;
        expect(check.text.split("\n")[0]).toContain(m.incident.title(key));
        const url = incidentUrl(opts.siemUrl, view.incident.id);
        expect(out.html).toContain(`<a href="${escapeHtml(url)}">`);
        expect(out.plain).toContain(url);

        // Plain carries the same lines as the HTML, with the URL in place of the link text.
        expect(out.plain).toBe(check.text.replace(`🔗 ${m.incident.openInSiem}`, () => `🔗 ${url}`));

        // Shown events never exceed maxEvents, and shown + "more" accounts for every event.
        const eventLines = check.text.split("\n").filter((l) => l.startsWith("• ")).length;
        expect(eventLines).toBeLessThanOrEqual(opts.maxEvents);

        // Buttons, when present, parse back to this incident.
        for (const button of out.keyboard.flat()) {
          const data = decodeCallbackData(button.callbackData);
          expect(data?.kind).toBe("incident");
          expect(Buffer.byteLength(button.callbackData!, "utf8")).toBeLessThanOrEqual(64);
        }
        if (/^[0-9a-f-]{36}$/i.test(view.incident.id)) expect(out.keyboard.length).toBeGreaterThan(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("shows every event or says how many more there are", () => {
    const plain = (s: string) => s.split("\n");
    fc.assert(
      fc.property(
        eventList,
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom<Locale>("ru", "en"),
        (events, maxEvents, locale) => {
          const view: IncidentView = {
            incident: {
              id: "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
              key: "INC-1",
              name: "n",
              category: "",
              type: "",
              status: "New",
              severity: "High",
              created: new Date(0),
              isConfirmed: false,
            },
            events,
            totalEvents: events.length,
            lastAction: null,
          };
          const out = renderIncident(view, { locale, timeZone: "UTC", siemUrl: "https://s", maxEvents });
          const lines = plain(out.plain);
          const shown = lines.filter((l) => l.startsWith("• ")).length;
          const more = lines.map((l) => /^…(?:и ещё|and) (\d+)/.exec(l)).find(Boolean);
          expect(shown + (more ? Number(more[1]) : 0)).toBe(events.length);
          if (events.length > 0) expect(shown).toBeGreaterThan(0); // one short event always fits
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("renderDigestPage properties", () => {
  it("pages every incident once, in order, in valid messages within the limit, each header counting its page", () => {
    fc.assert(
      fc.property(summaryList, options, (items, opts) => {
        const pages = digestPages(items, opts);
        expect(pages.flatMap((p) => p.included)).toEqual(items.map((i) => i.id));
        let from = 0;
        for (const p of pages) {
          const check = checkTelegramHtml(p.html);
          if (!check.ok) throw new Error(check.error);
          expect(check.text.length).toBeLessThanOrEqual(4096);
          expect(p.plain.length).toBeLessThanOrEqual(4096);
          expect(hasLoneSurrogate(p.html) || hasLoneSurrogate(p.plain)).toBe(false);
          expect(p.included.length).toBeGreaterThan(0);
          const header = t(opts.locale).notices.digestHeader(p.included.length);
          expect(check.text.split("\n")[0]).toBe(header);
          expect(p.plain.split("\n")[0]).toBe(header);
          // An edit of the page's incidents, unchanged, shows exactly what was sent. (Compared without
          // expect: a diff of two full messages at every shrinking step would take minutes.)
          const held = items.slice(from, from + p.included.length);
          if (!isDeepStrictEqual(renderDigestEdit(held, opts), p))
            throw new Error("the edit differs from the page");
          from += p.included.length;
        }
      }),
      { numRuns: 100, interruptAfterTimeLimit: 20_000 },
    );
  });
});

describe("no direction overrides, isolates or zero-width characters", () => {
  /** Whatever a message shows: the HTML as sent, the text Telegram makes of it, the plain form, the button labels. */
  function assertNoInvisible(html: string, plain: string, buttons: string[] = []) {
    const check = checkTelegramHtml(html);
    if (!check.ok) throw new Error(check.error);
    for (const [form, value] of [
      ["html", html],
      ["shown text", check.text],
      ["plain", plain],
      ["buttons", buttons.join(" ")],
    ] as const) {
      const found = INVISIBLE.exec(value);
      if (found) {
        throw new Error(
          `${form} holds U+${found[0].charCodeAt(0).toString(16).toUpperCase()}: ${JSON.stringify(value)}`,
        );
      }
    }
  }

  it("in an incident card, whatever the SIEM (or a presser's name) holds", () => {
    fc.assert(
      fc.property(incidentView, options, (view, opts) => {
        const out = renderIncident(view, opts);
        assertNoInvisible(
          out.html,
          out.plain,
          out.keyboard.flat().map((b) => b.text),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("in a digest", () => {
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 100 }), options, (items, opts) => {
        for (const page of digestPages(items, opts)) assertNoInvisible(page.html, page.plain);
        const edited = renderDigestEdit(items, opts);
        if (edited) assertNoInvisible(edited.html, edited.plain);
      }),
      { numRuns: 100 },
    );
  });

  it("in every SIEM field, each filled with nothing but such characters around a word", () => {
    const wrap = (word: string) => `\u202E${word}\u2066\u200B\u061C\u200F`;
    const view: IncidentView = {
      incident: {
        id: "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        key: wrap("INC-1"),
        name: wrap("name"),
        category: wrap("category"),
        type: wrap("type"),
        status: wrap("New"),
        severity: wrap("High"),
        created: new Date(0),
        isConfirmed: false,
        description: wrap("line one\nline two"),
      },
      events: [{ id: "e", date: new Date(0), description: wrap("event") }],
      totalEvents: 1,
      lastAction: { status: wrap("Approved"), by: wrap("@ivan"), at: new Date(0) },
    };
    const opts: RenderOptions = { locale: "en", timeZone: "UTC", siemUrl: "https://s", maxEvents: 5 };
    const card = renderIncident(view, opts);
    assertNoInvisible(card.html, card.plain);
    for (const word of ["INC-1", "name", "type", "line one", "event", "@ivan", "High"]) {
      expect(card.plain).toContain(word);
    }
    for (const digest of [
      renderDigestPage([view.incident], opts)!,
      renderDigestEdit([view.incident], opts)!,
    ]) {
      assertNoInvisible(digest.html, digest.plain);
      expect(digest.plain).toContain("INC-1 name");
    }
  });
});

describe("the HTML checker itself", () => {
  it.each([
    ["<b>x", "unclosed"],
    ["<b><i>x</b></i>", "closes"],
    ["<div>x</div>", "unsupported"],
    ["a & b", "bare &"],
    ["a > b", "bare >"],
    ['<a href="x" target="y">z</a>', "bad <a>"],
    ["<b class=x>y</b>", "unexpected attributes"],
    ["&#x110000;", "bare &"],
  ])("rejects %j", (html, reason) => {
    const check = checkTelegramHtml(html);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error).toContain(reason);
  });

  it("accepts what Telegram accepts and decodes the text", () => {
    expect(checkTelegramHtml('<b>a</b> <a href="https://x/?a=1&amp;b=2">l&lt;</a> &#x1F600;')).toEqual({
      ok: true,
      text: "a l< 😀",
    });
  });

  it("finds lone surrogates", () => {
    expect(hasLoneSurrogate("a\uD800")).toBe(true);
    expect(hasLoneSurrogate("\uDC00a")).toBe(true);
    expect(hasLoneSurrogate("😀")).toBe(false);
  });
});
