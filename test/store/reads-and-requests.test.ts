// The repository methods added for the hardening, on both dialects: incidents stored with their first
// read, changes made through the bot and reads reconciled with them, the incidents the poller reads
// later or checks for events, chat requests, and Close confirmations.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { reconcileRead } from "../../src/intake/index.js";
import type { IncidentDetails } from "../../src/siem/types.js";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const T0 = 1_760_000_000_123;
const GROUP = -1_002_345_678_901;
const USER = 7_123_456_789;

function details(n: number, over: Partial<IncidentDetails> = {}): IncidentDetails {
  return {
    ...incidentSummary(n, T0 - 60_000),
    description: `description ${n}`,
    detected: null,
    modified: new Date(T0 - 30_000),
    correlationRules: [],
    ...over,
  };
}

const events = (total: number) => ({
  events: Array.from({ length: Math.min(total, 5) }, (_, i) => ({
    id: `e${i}`,
    date: new Date(T0 - i),
    description: `event ${i}`,
  })),
  total,
});

describe.each(DIALECTS)("%s: incidents read from the SIEM", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;
  let clock = T0;

  beforeEach(async () => {
    clock = T0;
    store = await openStore(database.target, { now: () => clock });
    await store.chats.remember({ id: GROUP, kind: "supergroup", title: "SOC" });
    await store.chats.setState(GROUP, "allowed", 1);
  });
  afterEach(async () => {
    await store.close();
  });

  it("stores an incident complete when its first read comes with it", async () => {
    const read = { details: details(1, { status: "Approved" }), events: events(7) };
    await store.incidents.ingest([incidentSummary(1, T0 - 60_000), incidentSummary(2)], null, {
      reads: new Map([[read.details.id, read]]),
    });
    const full = await store.incidents.get(incidentSummary(1).id);
    expect(full).toMatchObject({
      status: "Approved",
      description: "description 1",
      totalEvents: 7,
      enrichedAt: T0,
    });
    expect(full?.events).toHaveLength(5);
    expect(full?.modified?.getTime()).toBe(T0 - 30_000);
    expect((await store.incidents.get(incidentSummary(2).id))?.enrichedAt).toBeNull();
  });

  it("keeps a change made through the bot against a lagging read, and confirms it later", async () => {
    const id = incidentSummary(3).id;
    await store.incidents.ingest([incidentSummary(3)], null);
    const shown = await store.incidents.recordAction(id, {
      status: "Approved",
      by: "@ivan",
      at: new Date(T0),
      pending: true,
      siemAt: new Date(T0),
    });
    expect(shown).toMatchObject({ status: "Approved", version: 2 });
    expect(shown?.lastAction).toEqual({
      status: "Approved",
      by: "@ivan",
      at: new Date(T0),
      pending: true,
      siemAt: new Date(T0),
    });

    clock = T0 + 2_000;
    const stale = await store.incidents.refresh(details(3), events(1), undefined, reconcileRead(clock));
    expect(stale?.incident.status).toBe("Approved");
    expect(stale?.incident.lastAction?.by).toBe("@ivan");

    clock = T0 + 9_000;
    const caughtUp = await store.incidents.refresh(
      details(3, { status: "Approved", modified: new Date(T0 + 200) }),
      events(1),
      undefined,
      reconcileRead(clock),
    );
    expect(caughtUp?.incident.lastAction).toEqual({
      status: "Approved",
      by: "@ivan",
      at: new Date(T0),
      siemAt: new Date(T0),
    });
    // Being confirmed changes nothing a message shows: no edit of every copy for it.
    expect(caughtUp?.changed).toBe(false);
  });

  it("never takes the modification time or the number of events back", async () => {
    const id = incidentSummary(4).id;
    await store.incidents.ingest([incidentSummary(4)], null);
    await store.incidents.refresh(details(4, { modified: new Date(T0) }), events(9));
    const older = await store.incidents.refresh(details(4, { modified: new Date(T0 - 50_000) }), events(4));
    expect(older?.incident.modified?.getTime()).toBe(T0);
    expect(older?.incident.totalEvents).toBe(9);
    expect((await store.incidents.get(id))?.events).toHaveLength(5);
  });

  it("lets concurrent writes of one incident each make a version (a read never overwrites a change)", async () => {
    const id = incidentSummary(5).id;
    await store.incidents.ingest([incidentSummary(5)], null);
    const before = (await store.incidents.get(id))!.version;
    await Promise.all([
      store.incidents.recordAction(id, { status: "Closed", by: "@ivan", at: new Date(T0), pending: true }),
      store.incidents.refresh(details(5, { name: "renamed" }), events(2), undefined, reconcileRead(T0)),
      store.incidents.refresh(details(5, { name: "renamed" }), events(3), undefined, reconcileRead(T0)),
    ]);
    const after = await store.incidents.get(id);
    expect(after?.version).toBeGreaterThanOrEqual(before + 2);
    // Whatever the order, the bot's pending change is not lost to a read that began before it.
    expect(after?.status).toBe("Closed");
    expect(after?.lastAction?.by).toBe("@ivan");
    expect(after?.name).toBe("renamed");
  });

  it("lists the incidents still to be read that have a message of their own, and the open ones to check", async () => {
    const list = [6, 7, 8, 9].map((n) => incidentSummary(n));
    await store.incidents.ingest(list, null);
    const rows = await store.outbox.pending(100);
    const byIncident = new Map(rows.map((r) => [r.incidentId, r.id]));
    // 6: sent alone; 7: only in a digest; 8: still queued; 9: sent alone and closed since.
    await store.outbox.markSent([byIncident.get(list[0]!.id)!], 11, "single", 1);
    await store.outbox.markSent([byIncident.get(list[1]!.id)!], 12, "digest", 0);
    await store.outbox.markSent([byIncident.get(list[3]!.id)!], 13, "single", 1);
    await store.incidents.refresh(details(9, { status: "Closed" }), events(1));

    const unread = await store.incidents.unenriched(T0 - 1, 10);
    expect(new Set(unread)).toEqual(new Set([list[0]!.id, list[2]!.id]));
    expect(await store.incidents.unenriched(T0 + 1, 10)).toEqual([]);

    const open = await store.incidents.openAfter(T0 - 1, "", 10);
    expect(open.map((r) => r.id)).toEqual([list[0]!.id]);
    expect(await store.incidents.openAfter(T0 - 1, list[0]!.id, 10)).toEqual([]);
  });
});

describe.each(DIALECTS)("%s: chat requests and Close confirmations", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;

  beforeEach(async () => {
    store = await openStore(database.target, { now: () => T0 });
  });
  afterEach(async () => {
    await store.close();
  });

  it("keeps one open request per chat and counts the open ones a person caused", async () => {
    await store.approvals.openRequest(GROUP, USER, T0);
    await store.approvals.openRequest(GROUP - 1, USER, T0 + 1);
    await store.approvals.openRequest(GROUP - 2, USER, T0 - 7_200_000);
    expect(await store.approvals.pendingRequest(GROUP)).toEqual({
      chat_id: GROUP,
      requested_by: USER,
      requested_at: T0,
      decided_at: null,
    });
    expect(await store.approvals.pendingRequestsBy(USER, T0 - 3_600_000)).toBe(2);
    await store.approvals.markDecided(GROUP);
    expect(await store.approvals.pendingRequest(GROUP)).toBeUndefined();
    await store.approvals.withdrawRequest(GROUP - 1);
    expect(await store.approvals.pendingRequestsBy(USER, T0 - 3_600_000)).toBe(0);
    // A decided chat may ask again: the new request replaces the old row.
    await store.approvals.openRequest(GROUP, USER, T0 + 5);
    expect((await store.approvals.pendingRequest(GROUP))?.requested_at).toBe(T0 + 5);
  });

  it("counts a Yes, close only once, on the message where it was asked, and not after it expired", async () => {
    const incident = incidentSummary(1).id;
    await store.closeConfirmations.ask(GROUP, 77, incident, USER, T0);
    expect(await store.closeConfirmations.take(GROUP, 78, incident, T0)).toBe(false);
    expect(await store.closeConfirmations.take(GROUP, 77, incident, T0)).toBe(true);
    expect(await store.closeConfirmations.take(GROUP, 77, incident, T0)).toBe(false);
    await store.closeConfirmations.ask(GROUP, 77, incident, USER, T0);
    expect(await store.closeConfirmations.take(GROUP, 77, incident, T0 + 1)).toBe(false);
    await store.closeConfirmations.ask(GROUP, 77, incident, USER, T0);
    await store.closeConfirmations.withdraw(GROUP, 77);
    expect(await store.closeConfirmations.take(GROUP, 77, incident, T0)).toBe(false);
  });
});
