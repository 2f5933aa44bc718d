// New incidents: every page, once per allowed chat, late arrivals, the first start, and a watermark
// that never passes what was not durably queued.

import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { CHANGE_CURSOR_KEY } from "../../src/intake/index.js";
import { counterValue, type Harness, MINUTE, queuedPairs, startHarness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CHATS = [101, -100202];

describe("new incidents", () => {
  it("ingests a burst of 2,500 incidents (all pages) once per allowed chat, and re-polling adds nothing", async () => {
    h = await startHarness({ chats: CHATS });
    // A chat waiting for the admins must not receive anything.
    await h.store.chats.remember({ id: 303, kind: "group", title: "pending" });
    const burst = h.emu.state.addBurst(2_500);

    const first = await h.intake.pollOnce();
    expect(first.added).toBe(2_500);
    // 2,500 at 500 a page needs five list calls for the creation window alone.
    expect(h.emu.state.stats().requests["POST /api/v2/incidents"]).toBeGreaterThanOrEqual(5);

    const pairs = await queuedPairs(h.store);
    const expected = burst.flatMap((i) => CHATS.map((chat) => `${i.id}/${chat}`));
    expect(pairs).toHaveLength(5_000);
    expect(new Set(pairs)).toEqual(new Set(expected));
    expect(await h.store.incidents.count()).toBe(2_500);
    expect(await counterValue(h.metrics.incidentsSeen)).toBe(2_500);
    expect(h.kicks.count).toBeGreaterThanOrEqual(1);

    const newest = Math.max(...burst.map((i) => Date.parse(i.created)));
    expect(h.intake.status().watermark).toBe(newest);
    expect(await h.store.incidents.watermark()).toBe(newest);

    const again = await h.intake.pollOnce();
    expect(again).toEqual({ added: 0, changed: 0 });
    expect(await queuedPairs(h.store)).toHaveLength(5_000);
    expect(await h.store.incidents.watermark()).toBe(newest);
  });

  it("still queues an incident that shows up late, created 2 minutes before the newest one seen", async () => {
    h = await startHarness({ chats: CHATS });
    const newest = h.emu.state.addIncident();
    await h.intake.pollOnce();
    const watermark = await h.store.incidents.watermark();
    expect(watermark).toBe(Date.parse(newest.created));

    const late = h.emu.state.addIncident({ created: new Date(Date.parse(newest.created) - 2 * MINUTE) });
    const result = await h.intake.pollOnce();
    expect(result.added).toBe(1);
    expect((await queuedPairs(h.store)).filter((p) => p.startsWith(`${late.id}/`))).toHaveLength(2);
    // The watermark never moves back to the late incident's time.
    expect(await h.store.incidents.watermark()).toBe(watermark);
  });

  it("on the very first start looks back BOT_INITIAL_LOOKBACK: 24h sends what is there", async () => {
    h = await startHarness({ chats: CHATS, bot: { initialLookbackMs: 24 * 60 * MINUTE } });
    const now = Date.now();
    const old = h.emu.state.addIncident({ created: new Date(now - 5 * 60 * MINUTE) });
    const recent = h.emu.state.addIncident({ created: new Date(now - 5 * MINUTE) });
    const tooOld = h.emu.state.addIncident({ created: new Date(now - 25 * 60 * MINUTE) });

    expect(await h.store.incidents.watermark()).toBeUndefined();
    const result = await h.intake.pollOnce();
    expect(result.added).toBe(2);
    const queued = new Set((await queuedPairs(h.store)).map((p) => p.split("/")[0]));
    expect(queued).toEqual(new Set([old.id, recent.id]));
    expect(queued.has(tooOld.id)).toBe(false);
    expect(await h.store.incidents.watermark()).toBe(Date.parse(recent.created));
  });

  it("with BOT_INITIAL_LOOKBACK=0 sends nothing that existed before the start, but everything after", async () => {
    h = await startHarness({ chats: CHATS, bot: { initialLookbackMs: 0 } });
    const now = Date.now();
    const existing = h.emu.state.addIncident({ created: new Date(now - 3 * MINUTE) });
    h.emu.state.addIncident({ created: new Date(now - 3 * 60 * MINUTE) });

    const first = await h.intake.pollOnce();
    expect(first.added).toBe(0);
    expect(await queuedPairs(h.store)).toEqual([]);
    // The watermark is set (the SIEM's newest time), so this is no longer a first start.
    expect(await h.store.incidents.watermark()).toBe(Date.parse(existing.created));
    expect(await h.store.settings.getNumber(CHANGE_CURSOR_KEY)).toBe(Date.parse(existing.created));

    // The next poll re-reads the overlap window: the incident from before the start stays unsent.
    expect((await h.intake.pollOnce()).added).toBe(0);
    expect(await queuedPairs(h.store)).toEqual([]);

    const fresh = h.emu.state.addIncident();
    expect((await h.intake.pollOnce()).added).toBe(1);
    expect(new Set((await queuedPairs(h.store)).map((p) => p.split("/")[0]))).toEqual(new Set([fresh.id]));
  });

  it("with BOT_INITIAL_LOOKBACK=0 and an empty SIEM stores the watermark = now", async () => {
    h = await startHarness({ chats: CHATS, bot: { initialLookbackMs: 0 } });
    const before = Date.now();
    await h.intake.pollOnce();
    const watermark = await h.store.incidents.watermark();
    expect(watermark).toBeGreaterThanOrEqual(before);
    expect(watermark).toBeLessThanOrEqual(Date.now());
  });

  it("does not advance the watermark when the store cannot write, and catches up once it can", async () => {
    h = await startHarness({ chats: CHATS });
    h.emu.state.addIncident();
    await h.intake.pollOnce();
    const watermark = await h.store.incidents.watermark();
    const burst = h.emu.state.addBurst(30);

    // A second connection makes the outbox refuse rows, as a full disk or a broken file would:
    // the ingest transaction fails half-way and must leave nothing behind.
    const raw = new SQLite(h.store.path);
    raw.exec(
      "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;",
    );
    try {
      await expect(h.intake.pollOnce()).rejects.toThrow(/disk I\/O error/);
      expect(await h.store.incidents.watermark()).toBe(watermark);
      expect(await h.store.incidents.known(burst.map((i) => i.id))).toEqual(new Set());
      expect(h.intake.status().consecutiveFailures).toBe(1);
      // Not a SIEM failure: no outage starts.
      expect(h.intake.status().outageSince).toBeNull();
    } finally {
      raw.exec("DROP TRIGGER refuse_outbox");
      raw.close();
    }

    const result = await h.intake.pollOnce();
    expect(result.added).toBe(30);
    expect(await h.store.incidents.watermark()).toBe(Math.max(...burst.map((i) => Date.parse(i.created))));
    expect(h.intake.status().consecutiveFailures).toBe(0);
  });

  it("does not advance the watermark when the SIEM fails in the middle of paging", async () => {
    let failListCall: number | null = null;
    h = await startHarness({ chats: CHATS, pageSize: 100, failListCalls: (n) => n === failListCall });
    h.emu.state.addIncident();
    await h.intake.pollOnce();
    const watermark = await h.store.incidents.watermark();
    const burst = h.emu.state.addBurst(250);

    // The next poll's creation list needs three pages; its second page gets a 503.
    failListCall = (h.proxy?.listCalls() ?? 0) + 2;
    await expect(h.intake.pollOnce()).rejects.toThrow(/503/);
    expect(h.proxy?.listCalls()).toBe(failListCall);
    expect(await h.store.incidents.watermark()).toBe(watermark);
    expect(await h.store.incidents.known(burst.map((i) => i.id))).toEqual(new Set());
    expect(await counterValue(h.metrics.siemErrors, { kind: "server" })).toBe(1);
    expect(await counterValue(h.metrics.polls, { kind: "creation", result: "error" })).toBe(1);

    const result = await h.intake.pollOnce();
    expect(result.added).toBe(250);
    expect(await queuedPairs(h.store)).toHaveLength(2 * 251);
    expect(await h.store.incidents.watermark()).toBe(Math.max(...burst.map((i) => Date.parse(i.created))));
  });

  it("keeps idle polling to at most 2 SIEM requests per poll", async () => {
    h = await startHarness({ chats: CHATS });
    h.emu.state.addBurst(20);
    await h.intake.pollOnce();
    await h.intake.pollOnce();
    h.emu.state.resetStats();
    const polls = 6;
    for (let i = 0; i < polls; i++) await h.intake.pollOnce();
    const stats = h.emu.state.stats();
    expect(stats.totalRequests).toBeLessThanOrEqual(2 * polls);
    expect(stats.requests["POST /api/v2/incidents"]).toBe(stats.totalRequests);
    expect(await counterValue(h.metrics.polls, { kind: "creation", result: "ok" })).toBe(polls + 2);
  });
});
