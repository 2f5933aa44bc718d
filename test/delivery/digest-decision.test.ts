// The digest decision on its own: single messages while the chat's pace keeps up, digests of the
// oldest due rows when it cannot, and a digest page holding only what fits.
import { describe, expect, it } from "vitest";
import { chooseNextSend, fitDigest } from "../../src/delivery/digest-decision.js";
import type { PendingDelivery, StoredIncident } from "../../src/store/index.js";

const row = (id: number, nextAttemptAt = 0): PendingDelivery => ({
  id,
  incidentId: `i${id}`,
  chatId: -1,
  chatKind: "supergroup",
  threadId: null,
  attempts: 0,
  nextAttemptAt,
  createdAt: 0,
});
const opts = { digestThresholdMs: 60_000, digestBatch: 3 };

describe("chooseNextSend", () => {
  it("sends the oldest row alone while the backlog drains within the threshold", () => {
    expect(chooseNextSend([row(1), row(2)], 10, 30_000, opts)).toEqual({ kind: "single", row: row(1) });
  });

  it("offers a digest its oldest due rows, at most a batch, once the backlog is too long", () => {
    const rows = [row(1), row(2), row(3), row(4), row(5)];
    expect(chooseNextSend(rows, 10, 120_000, opts)).toEqual({ kind: "digest", rows: rows.slice(0, 3) });
  });

  it("never digests a single due row, nor rows not due yet", () => {
    const rows = [row(1), row(2, 500), row(3, 500)];
    expect(chooseNextSend(rows, 10, 120_000, opts)).toEqual({ kind: "single", row: row(1) });
    expect(chooseNextSend(rows, 500, 120_000, opts).kind).toBe("digest");
  });
});

describe("fitDigest", () => {
  const incident = (n: number, name = `Rule ${n}`): StoredIncident =>
    ({
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      key: `INC-${n}`,
      name,
      category: "c",
      type: "t",
      status: "New",
      severity: "High",
      created: new Date(1_700_000_000_000),
      description: null,
      events: [],
      totalEvents: 0,
      lastAction: null,
      enrichedAt: null,
      version: 1,
    }) as unknown as StoredIncident;
  const options = { locale: "en" as const, timeZone: "UTC", siemUrl: "https://siem.example", maxEvents: 3 };

  it("holds every incident when they fit, and counts only what it holds when they do not", () => {
    const few = fitDigest([incident(1), incident(2)], options);
    expect(few?.included).toHaveLength(2);
    expect(few?.plain.split("\n")[0]).toContain("2");

    const many = Array.from({ length: 200 }, (_, i) => incident(i + 1, "x".repeat(150)));
    const page = fitDigest(many, options)!;
    expect(page.included.length).toBeGreaterThan(1);
    expect(page.included.length).toBeLessThan(200);
    expect(page.included).toEqual(many.slice(0, page.included.length).map((i) => i.id));
    expect(page.plain.split("\n")[0]).toContain(String(page.included.length));
    expect(page.plain.split("\n")[0]).not.toContain("/");
  });
});
