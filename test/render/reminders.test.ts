// The card's side of reminders (design.md §5, issue 15): Snooze on a New card only while reminders or
// escalation are on, its payload parsing back; the "⏰ … without a reaction" line while New, in both
// languages, and "escalated to …" kept after.
import { describe, expect, it } from "vitest";
import { decodeCallbackData } from "../../src/render/callback-data.js";
import { incidentKeyboard, isOffered, renderIncident } from "../../src/render/index.js";
import type { IncidentView, RenderOptions } from "../../src/render/types.js";

const ID = "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
const RU: RenderOptions = {
  locale: "ru",
  timeZone: "Europe/Moscow",
  siemUrl: "https://siem.local",
  maxEvents: 5,
};
const EN: RenderOptions = { ...RU, locale: "en" };

const labels = (kb: ReturnType<typeof incidentKeyboard>) => kb.map((row) => row.map((b) => b.text));

function view(status: string, reminder?: IncidentView["reminder"]): IncidentView {
  return {
    incident: {
      id: ID,
      key: "INC-75",
      name: "Brute force",
      category: "Attack",
      type: "Undefined",
      status,
      severity: "High",
      created: new Date("2024-03-12T06:12:00Z"),
      isConfirmed: status !== "New",
    },
    events: [],
    totalEvents: 0,
    lastAction: null,
    ...(reminder ? { reminder } : {}),
  };
}

describe("Snooze", () => {
  it("sits beside Refresh on a New card only while reminders or escalation are on", () => {
    const withSnooze = incidentKeyboard(ID, "New", "ru", false, { snooze: true });
    expect(labels(withSnooze).at(-1)).toEqual([
      "Отложить",
      incidentKeyboard(ID, "New", "ru").at(-1)![0]!.text,
    ]);
    expect(labels(incidentKeyboard(ID, "New", "en", false, { snooze: true })).at(-1)![0]).toBe("Snooze");
    expect(decodeCallbackData(withSnooze.at(-1)![0]!.callbackData)).toEqual({
      kind: "incident",
      action: "snooze",
      incidentId: ID,
    });
    // Off: the card is exactly as before; past New: no Snooze.
    expect(labels(incidentKeyboard(ID, "New", "en", false, { snooze: false }))).toEqual(
      labels(incidentKeyboard(ID, "New", "en")),
    );
    for (const status of ["Approved", "InProgress", "Resolved", "Closed"]) {
      expect(labels(incidentKeyboard(ID, status, "en", false, { snooze: true }))).toEqual(
        labels(incidentKeyboard(ID, status, "en")),
      );
    }
    expect(isOffered("snooze", "New")).toBe(true);
    expect(isOffered("snooze", "Approved")).toBe(false);
  });

  it("comes with the card when the render options say reminders are on", () => {
    const on = renderIncident(view("New"), { ...EN, snooze: true });
    expect(on.keyboard.flat().map((b) => b.text)).toContain("Snooze");
    const off = renderIncident(view("New"), EN);
    expect(off.keyboard.flat().map((b) => b.text)).not.toContain("Snooze");
  });
});

describe("the card's reminder line", () => {
  it("shows how long without a reaction while New, in both languages", () => {
    expect(renderIncident(view("New", { newForMs: 30 * 60_000 }), RU).plain).toContain(
      "⏰ 30 мин без реакции",
    );
    expect(renderIncident(view("New", { newForMs: 30 * 60_000 }), EN).plain).toContain(
      "⏰ 30 min without a reaction",
    );
    expect(renderIncident(view("New", { newForMs: 125 * 60_000 }), EN).plain).toContain(
      "⏰ 2 h 5 min without a reaction",
    );
  });

  it("drops the ⏰ once the incident left New, and keeps where it was escalated", () => {
    const note = { newForMs: 30 * 60_000, escalatedTo: "SOC <leads>" };
    const approved = renderIncident(view("Approved", note), EN);
    expect(approved.plain).not.toContain("⏰");
    expect(approved.plain).toContain("🚨 Escalated to SOC <leads>");
    expect(approved.html).toContain("SOC &lt;leads&gt;");
    expect(renderIncident(view("New", note), RU).plain).toContain("🚨 Эскалировано в SOC <leads>");
  });
});
