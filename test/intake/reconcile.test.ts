// How a read from a lagging read model combines with a change made through the bot.
import { describe, expect, it } from "vitest";
import { READ_MODEL_LAG_TOLERANCE_MS, reconcileRead } from "../../src/intake/index.js";
import type { ActionLine, StoredIncident } from "../../src/store/index.js";

const T0 = Date.parse("2026-12-05T10:00:00.000Z");

function stored(status: string, lastAction: ActionLine | null): StoredIncident {
  return {
    id: "6a3c3f0e-2b1d-4c58-9f0e-5d7a1b2c3d4e",
    key: "INC-1",
    name: "n",
    severity: "High",
    status,
    type: "t",
    category: "c",
    description: null,
    created: new Date(T0 - 60_000),
    modified: new Date(T0 - 30_000),
    firstSeenAt: T0 - 60_000,
    events: [],
    totalEvents: 0,
    lastAction,
    enrichedAt: T0 - 50_000,
    version: 2,
  };
}

const ours: ActionLine = {
  status: "Approved",
  by: "@ivan",
  at: new Date(T0),
  pending: true,
  siemAt: new Date(T0), // the SIEM's Date header of the 204: whole seconds
};

describe("reconcileRead", () => {
  it("keeps our change and its author while the read model still shows the status before it", () => {
    const decide = reconcileRead(T0 + 5_000);
    const decision = decide(stored("Approved", ours), { status: "New", modified: new Date(T0 - 30_000) });
    expect(decision.status).toBe("Approved");
    expect(decision.lastAction).toBeUndefined(); // the stored "Approved by @ivan" stays
  });

  it("confirms our change when the read shows it, and stops treating reads as lagging", () => {
    const decide = reconcileRead(T0 + 5_000);
    const decision = decide(stored("Approved", ours), {
      status: "Approved",
      modified: new Date(T0 + 300),
    });
    expect(decision.status).toBe("Approved");
    expect(decision.lastAction).toEqual({
      status: "Approved",
      by: "@ivan",
      at: ours.at,
      siemAt: ours.siemAt,
    });
    expect(decision.lastAction?.pending).toBeUndefined();
  });

  it("lets a later change made in the SIEM UI supersede ours, named as the SIEM's", () => {
    const decide = reconcileRead(T0 + 20_000);
    const decision = decide(stored("Approved", ours), { status: "Closed", modified: new Date(T0 + 12_000) });
    expect(decision.status).toBe("Closed");
    expect(decision.lastAction).toMatchObject({ status: "Closed", by: "SIEM" });
  });

  it("treats a modification inside the second of our change as ours (the Date header has whole seconds)", () => {
    const decide = reconcileRead(T0 + 2_000);
    const decision = decide(stored("Approved", ours), { status: "New", modified: new Date(T0 + 999) });
    expect(decision.status).toBe("Approved");
  });

  it("gives the SIEM the last word when its read model still disagrees long after", () => {
    const decide = reconcileRead(T0 + READ_MODEL_LAG_TOLERANCE_MS + 1);
    const decision = decide(stored("Approved", ours), { status: "New", modified: new Date(T0 - 30_000) });
    expect(decision.status).toBe("New");
    expect(decision.lastAction).toMatchObject({ status: "New", by: "SIEM" });
  });

  it("takes a change seen only in the SIEM as it is when nothing of ours is pending", () => {
    const decide = reconcileRead(T0);
    const confirmed: ActionLine = { status: "Approved", by: "@ivan", at: new Date(T0 - 60_000) };
    const decision = decide(stored("Approved", confirmed), { status: "InProgress", modified: new Date(T0) });
    expect(decision).toEqual({
      status: "InProgress",
      lastAction: { status: "InProgress", by: "SIEM", at: new Date(T0) },
    });
    expect(decide(stored("New", null), { status: "New", modified: null })).toEqual({ status: "New" });
  });
});
