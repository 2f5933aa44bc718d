// The digest decision on its own: single messages while the chat's pace keeps up, digests of the
// backlog when it cannot — packed full, High incidents never in one — and a digest page holding only
// what fits.
import { describe, expect, it } from "vitest";
import { chooseNextSend, fitDigest } from "../../src/delivery/digest-decision.js";
import { renderDigestPage } from "../../src/render/index.js";
import type { PendingDelivery, StoredIncident } from "../../src/store/index.js";

const row = (id: number, nextAttemptAt = 0, over: Partial<PendingDelivery> = {}): PendingDelivery => ({
  id,
  incidentId: `i${id}`,
  chatId: -1,
  chatKind: "supergroup",
  threadId: null,
  attempts: 0,
  nextAttemptAt,
  createdAt: 0,
  silent: false,
  muteId: null,
  rank: 2,
  ...over,
});
const opts = { digestThresholdMs: 60_000, flooding: false };

describe("chooseNextSend", () => {
  it("sends the first row alone while the backlog drains within the threshold", () => {
    expect(chooseNextSend([row(1), row(2)], 10, 30_000, opts)).toEqual({ kind: "single", row: row(1) });
  });

  it("offers a digest every due row once the backlog is too long", () => {
    const rows = [row(1), row(2), row(3), row(4), row(5)];
    expect(chooseNextSend(rows, 10, 120_000, opts)).toEqual({ kind: "digest", rows });
  });

  it("never digests a single due row, nor rows not due yet", () => {
    const rows = [row(1), row(2, 500), row(3, 500)];
    expect(chooseNextSend(rows, 10, 120_000, opts)).toEqual({ kind: "single", row: row(1) });
    expect(chooseNextSend(rows, 500, 120_000, opts).kind).toBe("digest");
  });

  it("sends a High row alone however long the backlog behind it", () => {
    const high = row(9, 0, { rank: 0 });
    const rows = [high, row(1), row(2), row(3)];
    expect(chooseNextSend(rows, 10, 10_000_000, { ...opts, flooding: true })).toEqual({
      kind: "single",
      row: high,
    });
  });

  it("offers a digest no High row and no row of another topic", () => {
    const rows = [
      row(1, 0, { threadId: 7 }),
      row(2, 0, { threadId: 8 }),
      row(3, 0, { threadId: 7 }),
      row(4, 0, { threadId: 7, rank: 0 }),
      row(5, 0, { threadId: 7, rank: 3 }),
    ];
    const next = chooseNextSend(rows, 10, 120_000, opts);
    expect(next.kind === "digest" && next.rows.map((r) => r.id)).toEqual([1, 3, 5]);
  });

  it("goes on with digests through the tail of a flood, but a last lone row is a card", () => {
    const rows = [row(1), row(2), row(3)];
    // Three rows would drain in 3 s; after a digest has gone out they go in one message all the same.
    expect(chooseNextSend(rows, 10, 3_000, opts).kind).toBe("single");
    expect(chooseNextSend(rows, 10, 3_000, { ...opts, flooding: true })).toEqual({ kind: "digest", rows });
    expect(chooseNextSend([row(3)], 10, 1_000, { ...opts, flooding: true }).kind).toBe("single");
  });
});

const incident = (n: number, name = `Rule ${n}`, severity = "Low"): StoredIncident =>
  ({
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    key: `INC-${n}`,
    name,
    category: "c",
    type: "t",
    status: "New",
    severity,
    created: new Date(1_700_000_000_000),
    description: null,
    events: [],
    totalEvents: 0,
    lastAction: null,
    enrichedAt: null,
    version: 1,
  }) as unknown as StoredIncident;
const options = { locale: "en" as const, timeZone: "UTC", siemUrl: "https://siem.example", maxEvents: 3 };

describe("fitDigest", () => {
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

  it("is silent, with 🔕 in its header, only when every incident it holds is", () => {
    const incidents = [incident(1), incident(2), incident(3)];
    const quiet = fitDigest(incidents, options, () => true)!;
    expect(quiet.silent).toBe(true);
    expect(quiet.plain.split("\n")[0]).toBe("3 new incidents · 🔕 silent");
    const mixed = fitDigest(incidents, options, (ids) => ids.every((id) => id !== incidents[1]!.id))!;
    expect(mixed.silent).toBe(false);
    expect(mixed.plain).not.toContain("🔕");
  });
});

/**
 * A chat's whole backlog through the decision, as its lane runs it: each step sends one message (a
 * card or a digest) and the rows it holds leave the backlog. `drainMs(n)`: the chat's pace.
 */
function drain(
  incidents: StoredIncident[],
  drainMs: (n: number) => number,
): { messages: number; digests: number[]; singles: string[] } {
  const byId = new Map(incidents.map((i) => [i.id, i]));
  let rows = incidents.map((inc, i) =>
    row(i + 1, 0, { incidentId: inc.id, rank: inc.severity === "High" ? 0 : 2 }),
  );
  rows.sort((a, b) => a.rank - b.rank || a.id - b.id);
  const digests: number[] = [];
  const singles: string[] = [];
  let flooding = false;
  for (let step = 0; rows.length > 0; step++) {
    if (step > incidents.length) throw new Error("the backlog never drained");
    const next = chooseNextSend(rows, 0, drainMs(rows.length), { digestThresholdMs: 60_000, flooding });
    let sent: string[];
    if (next.kind === "single") {
      sent = [next.row.incidentId];
      singles.push(next.row.incidentId);
    } else {
      const page = fitDigest(
        next.rows.map((r) => byId.get(r.incidentId)!),
        options,
      )!;
      sent = page.included;
      digests.push(sent.length);
      flooding = true;
    }
    const gone = new Set(sent);
    rows = rows.filter((r) => !gone.has(r.incidentId));
  }
  return { messages: digests.length + singles.length, digests, singles };
}

describe("a backlog packed into digests", () => {
  // Lines of one length (four-digit keys, one name), so that a full digest holds exactly k.
  const burst = (n: number) => Array.from({ length: n }, (_, i) => incident(1000 + i, "Network_port_scan"));
  const k = renderDigestPage(
    burst(1000).map((i) => ({ ...i, isConfirmed: false })),
    options,
  )!.included.length;
  const privatePace = (n: number) => n * 1000;

  it("a full digest holds what fits in 4096 characters, and one more line would not", () => {
    const page = renderDigestPage(
      burst(k + 1).map((i) => ({ ...i, isConfirmed: false })),
      options,
    )!;
    expect(page.included).toHaveLength(k);
    // Every line keeps room for the status mark an edit may add ("✔️ ", 3 units).
    const room = 3;
    const oneLine = page.plain.split("\n")[1]!.length + 1 + room;
    expect(page.plain.length + k * room).toBeLessThanOrEqual(4096);
    expect(page.plain.length + k * room + oneLine).toBeGreaterThan(4096);
  });

  it.each([61, 100, 250, 1000, 2500])(
    "%i incidents take at most ⌈n/k⌉ + 2 messages, every digest but the last one full",
    (n) => {
      const result = drain(burst(n), privatePace);
      expect(result.messages).toBeLessThanOrEqual(Math.ceil(n / k) + 2);
      expect(result.digests.slice(0, -1).every((size) => size === k)).toBe(true);
      expect(result.digests.reduce((a, b) => a + b, 0) + result.singles.length).toBe(n);
    },
  );

  it("holds the bound for every remainder a flood can leave (n from 61 to 4k + 61)", () => {
    const over: string[] = [];
    for (let n = 61; n <= 4 * k + 61; n += 3) {
      const { messages } = drain(burst(n), privatePace);
      if (messages > Math.ceil(n / k) + 2) over.push(`${n}: ${messages}`);
    }
    expect(over).toEqual([]);
  });

  it("sends each High incident alone and first, and packs the rest as tightly", () => {
    const incidents = burst(1000).map((inc, i) =>
      i % 250 === 100 ? incident(1000 + i, inc.name, "High") : inc,
    );
    const highs = incidents.filter((i) => i.severity === "High").map((i) => i.id);
    const result = drain(incidents, privatePace);
    expect(result.singles.slice(0, highs.length)).toEqual(highs);
    expect(result.messages).toBeLessThanOrEqual(highs.length + Math.ceil((1000 - highs.length) / k) + 2);
  });

  it("a backlog the chat's pace sends within the threshold goes out as cards", () => {
    expect(drain(burst(40), privatePace)).toMatchObject({ messages: 40, digests: [] });
  });
});
