// The poller against a SIEM that behaves like a real one: a collector with a wrong clock, one incident
// whose reads fail while the others work, events added without a visible modification, and a read
// model that shows a transition only some seconds after it. Clock and loop sleep are fake; the SIEM
// (the emulator over HTTP), its client and the store are real.

import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CHANGE_CURSOR_KEY, IncidentReader, READ_MODEL_LAG_TOLERANCE_MS } from "../../src/intake/index.js";
import { fakeTime, type Harness, MINUTE, queuedPairs, startHarness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CHATS = [101, -100202];
const HOUR = 60 * MINUTE;

function captureLog() {
  const lines: Array<{ level: number; msg: string; incident?: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/** Marks the incident's rows as delivered single messages (the event watch looks at those). */
async function markDelivered(harness: Harness, incidentId: string): Promise<void> {
  const rows = (await harness.store.outbox.pending(100_000)).filter((r) => r.incidentId === incidentId);
  const stored = await harness.store.incidents.get(incidentId);
  for (const [i, row] of rows.entries()) {
    await harness.store.outbox.markSent([row.id], 1000 + i, "single", stored?.version ?? 1);
  }
}

describe("intake against a SIEM that behaves like a real one", () => {
  it("delivers an incident dated hours ahead, and the incidents created after it still arrive", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    h.emu.state.addIncident();
    await h.intake.pollOnce();

    const ahead = h.emu.state.addIncident({ createdOffsetMs: 3 * HOUR });
    expect((await h.intake.pollOnce()).added).toBe(1);
    // The watermark never passes the SIEM's present (its Date header), whatever `created` says.
    expect(await h.store.incidents.watermark()).toBeLessThanOrEqual(time.now() + 1_000);

    time.advance(5 * MINUTE);
    const later = h.emu.state.addIncident();
    time.advance(MINUTE);
    const after = h.emu.state.addIncident();
    expect((await h.intake.pollOnce()).added).toBe(2);

    const queued = await queuedPairs(h.store);
    for (const incident of [ahead, later, after]) {
      expect(queued.filter((p) => p.startsWith(`${incident.id}/`))).toHaveLength(CHATS.length);
    }
  });

  it.each([
    { fault: { status: 500 as const }, what: "500" },
    { fault: { status: 403 as const }, what: "403" },
    { fault: { malformed: true }, what: "malformed JSON" },
  ])(
    "goes on when one incident's re-read answers $what: the others change, new ones arrive, it is retried with backoff and reported once",
    async ({ fault }) => {
      const time = fakeTime();
      const log = captureLog();
      h = await startHarness({ time, chats: CHATS });
      const intake = h.newIntake({ logger: log.logger });
      const broken = h.emu.state.addIncident();
      const fine = h.emu.state.addIncident();
      await intake.pollOnce();
      const cursorBefore = Number(await h.store.settings.get(CHANGE_CURSOR_KEY));

      time.advance(10_000);
      h.emu.state.failIncident(broken.id, { ...fault, calls: ["details", "events", "eventsCount"] });
      h.emu.state.setStatus(broken.id, "InProgress");
      h.emu.state.setStatus(fine.id, "Approved");
      const fresh = h.emu.state.addIncident();

      const result = await intake.pollOnce(); // never throws for one incident
      expect(result.added).toBe(1);
      expect(result.changed).toBe(1);
      expect((await h.store.incidents.get(fine.id))?.status).toBe("Approved");
      expect((await h.store.incidents.get(broken.id))?.status).toBe("New");
      expect((await queuedPairs(h.store)).filter((p) => p.startsWith(`${fresh.id}/`))).toHaveLength(2);
      expect(Number(await h.store.settings.get(CHANGE_CURSOR_KEY))).toBeGreaterThan(cursorBefore);
      const status = intake.status();
      expect(status.lastError).toBeNull();
      expect(status.consecutiveFailures).toBe(0);
      expect(status.outageSince).toBeNull();
      expect(status.failingIncidents).toBe(1);
      expect(h.notices).toEqual([]); // no "SIEM down" for one incident

      // Right away again: still backing off, so no new read of it.
      h.emu.state.resetStats();
      await intake.pollOnce();
      expect(h.emu.state.stats().requests["GET /api/incidentsReadModel/incidents/{id}"] ?? 0).toBe(0);

      // Several polls later, still failing: reported once, not once per poll.
      for (let i = 0; i < 5; i++) {
        time.advance(MINUTE);
        await intake.pollOnce();
      }
      const warnings = log.lines.filter((l) => l.level === 40 && l.incident === broken.id);
      expect(warnings).toHaveLength(1);
      expect(h.notices).toEqual([]);

      // Fixed in the SIEM: the next due retry reads it.
      h.emu.state.clearFaults();
      time.advance(15 * MINUTE);
      await intake.pollOnce();
      expect((await h.store.incidents.get(broken.id))?.status).toBe("InProgress");
      expect(intake.status().failingIncidents).toBe(0);
    },
  );

  it("remembers a change it could not read across a restart, though the cursor has moved on", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    const broken = h.emu.state.addIncident();
    await h.intake.pollOnce();
    time.advance(10_000);
    h.emu.state.failIncident(broken.id, { status: 500, calls: ["details"] });
    h.emu.state.setStatus(broken.id, "Resolved");
    await h.intake.pollOnce();
    // Far later, after a restart: the change is long out of the lastModification window.
    h.emu.state.clearFaults();
    time.advance(30 * MINUTE);
    await h.intake.pollOnce(); // moves the cursor past the change
    const restarted = h.newIntake();
    await restarted.pollOnce();
    expect((await h.store.incidents.get(broken.id))?.status).toBe("Resolved");
  });

  it("queues a new incident whose details fail, with what the list shows, and reads it once it can", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    await h.intake.pollOnce();
    const broken = h.emu.state.addIncident({ eventsCount: 3 });
    h.emu.state.failIncident(broken.id, { status: 500, calls: ["details"] });
    const fine = h.emu.state.addIncident({ eventsCount: 4 });
    expect((await h.intake.pollOnce()).added).toBe(2);
    expect((await queuedPairs(h.store)).filter((p) => p.startsWith(`${broken.id}/`))).toHaveLength(2);
    expect((await h.store.incidents.get(broken.id))?.enrichedAt).toBeNull();
    expect((await h.store.incidents.get(fine.id))?.totalEvents).toBe(4); // read before it was queued

    h.emu.state.clearFaults();
    time.advance(10 * MINUTE);
    await h.intake.pollOnce();
    const read = await h.store.incidents.get(broken.id);
    expect(read?.enrichedAt).not.toBeNull();
    expect(read?.totalEvents).toBe(3);
  });

  it("finds events added to an open incident without any other change, within its request budget", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    const quiet = h.emu.state.addIncident({ eventsCount: 2 });
    const others = h.emu.state.addBurst(5, { eventsCount: 1 });
    await h.intake.pollOnce();
    for (const incident of [quiet, ...others]) await markDelivered(h, incident.id);
    const before = await h.store.incidents.get(quiet.id);
    expect(before?.totalEvents).toBe(2);

    h.emu.state.addEvents(quiet.id, { count: 3, touchModified: false });
    // The lastModification list does not show it: only the event count can.
    h.emu.state.resetStats();
    let polls = 0;
    while ((await h.store.incidents.get(quiet.id))?.totalEvents !== 5 && polls < 40) {
      time.advance(3_000);
      await h.intake.pollOnce();
      polls++;
    }
    const after = await h.store.incidents.get(quiet.id);
    expect(after?.totalEvents).toBe(5);
    expect(after?.events).toHaveLength(5);
    expect(after?.version).toBeGreaterThan(before?.version ?? Number.POSITIVE_INFINITY);
    // The budget: 30 count requests a minute at most, however many incidents are open.
    const counts = h.emu.state.stats().requests["GET /api/incidents/{id}/events/count"] ?? 0;
    expect(counts).toBeGreaterThan(0);
    expect(counts).toBeLessThanOrEqual(Math.ceil(((polls * 3_000) / 60_000) * 30) + 1);
  });

  it("keeps a change made through the bot while the read model lags, then confirms it, then lets a later UI change win", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    const incident = h.emu.state.addIncident();
    await h.intake.pollOnce();
    h.emu.state.setReadModelLag(30_000);

    const reader = new IncidentReader({ siem: h.siem, store: h.store, maxEvents: 5, now: time.now });
    await h.siem.transition(incident.id, "Approved", { measures: "m", message: "approved by @ivan" });
    const shown = await reader.recordOwnChange(incident.id, "Approved", "@ivan");
    expect(shown?.status).toBe("Approved");

    // The read model still says New: neither a poll nor a Refresh takes the copies back.
    time.advance(5_000);
    await h.intake.pollOnce();
    await reader.reread(incident.id);
    let stored = await h.store.incidents.get(incident.id);
    expect(stored?.status).toBe("Approved");
    expect(stored?.lastAction).toMatchObject({ status: "Approved", by: "@ivan", pending: true });

    // Caught up: confirmed, still naming who acted.
    time.advance(30_000);
    await reader.reread(incident.id);
    stored = await h.store.incidents.get(incident.id);
    expect(stored?.status).toBe("Approved");
    expect(stored?.lastAction?.by).toBe("@ivan");
    expect(stored?.lastAction?.pending).toBeUndefined();

    // Someone closes it in the SIEM UI: once the read model shows it, it supersedes ours.
    time.advance(5_000);
    h.emu.state.setStatus(incident.id, "Closed");
    time.advance(31_000);
    await h.intake.pollOnce();
    stored = await h.store.incidents.get(incident.id);
    expect(stored?.status).toBe("Closed");
    expect(stored?.lastAction?.by).toBe("SIEM");
  });

  it("gives the SIEM the last word when its read model still disagrees long after our change", async () => {
    const time = fakeTime();
    h = await startHarness({ time, chats: CHATS });
    const incident = h.emu.state.addIncident();
    await h.intake.pollOnce();
    const reader = new IncidentReader({ siem: h.siem, store: h.store, maxEvents: 5, now: time.now });
    // Recorded as ours, but the SIEM never made it (say the transition was lost).
    await reader.recordOwnChange(incident.id, "Approved", "@ivan");
    time.advance(READ_MODEL_LAG_TOLERANCE_MS + 1_000);
    await reader.reread(incident.id);
    expect((await h.store.incidents.get(incident.id))?.status).toBe("New");
  });
});
