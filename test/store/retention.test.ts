// BOT_RETENTION: what a prune deletes and what it keeps, in bounded batches, on both dialects with an
// injected clock.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, RetentionTask, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const DAY = 86_400_000;
const RETENTION = 90 * DAY;
const T0 = 20_000 * DAY; // "long ago"
const T1 = T0 + 100 * DAY; // "now": T0 is 100 days back, older than the retention
const PRIVATE = 11;
const GROUP = -22;

let store: Store;
let clock = T0;
const logs: Array<{ obj: Record<string, unknown>; msg: string }> = [];
const logger = {
  info: (obj: object, msg: string) => logs.push({ obj: obj as Record<string, unknown>, msg }),
  warn: (obj: object, msg: string) => logs.push({ obj: obj as Record<string, unknown>, msg }),
};

const id = (n: number) => incidentSummary(n).id;

async function rowsOf(n: number): Promise<Array<{ chatId: number; state: string }>> {
  const pending = (await store.outbox.pending(10_000)).filter((r) => r.incidentId === id(n));
  const sent = await store.outbox.copies(id(n));
  return [
    ...pending.map((r) => ({ chatId: r.chatId, state: "pending" })),
    ...sent.map((c) => ({ chatId: c.chatId, state: "sent" })),
  ].sort((a, b) => a.chatId - b.chatId);
}

async function rowFor(n: number, chatId: number) {
  const row = (await store.outbox.pendingForChat(chatId)).find((r) => r.incidentId === id(n));
  if (!row) throw new Error(`no pending row for incident ${n} in ${chatId}`);
  return row;
}

function task(opts: { batchSize?: number; pauseMs?: number } = {}): RetentionTask {
  return new RetentionTask({
    repository: store.retention,
    retentionMs: RETENTION,
    logger,
    now: () => clock,
    pauseMs: 0,
    ...opts,
  });
}

describe.each(DIALECTS)("%s: retention", (dialect) => {
  const database = databasePerTest(dialect);

  beforeEach(async () => {
    logs.length = 0;
    clock = T0;
    store = await openStore(database.target, { now: () => clock });
    for (const chat of [PRIVATE, GROUP]) {
      await store.chats.remember({ id: chat, kind: chat > 0 ? "private" : "supergroup" });
      await store.chats.setState(chat, "allowed", null);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  describe("a prune", () => {
    beforeEach(async () => {
      // Long ago: 1 delivered everywhere, 2 delivered to the private chat and still pending for the group,
      // 3 cancelled everywhere, 6 delivered to the private chat only now (below) and pending for the group.
      clock = T0;
      await store.incidents.ingest(
        [1, 2, 3, 6].map((n) => incidentSummary(n)),
        5_000,
      );
      await store.settings.set("telegram.retryAfterBans", "{}");
      for (const chat of [PRIVATE, GROUP]) {
        await store.outbox.markSent([(await rowFor(1, chat)).id], 100 + chat, "single", 1);
      }
      await store.outbox.markSent([(await rowFor(2, PRIVATE)).id], 200, "single", 1);
      await store.outbox.cancel([(await rowFor(3, PRIVATE)).id, (await rowFor(3, GROUP)).id], "refused");
      await store.audit.record({ actorId: 1, action: "chat.allow", result: "ok" });
      // Now: 4 is young and delivered; 6's private copy was only delivered now.
      clock = T1;
      await store.incidents.ingest([incidentSummary(4)], 6_000);
      await store.outbox.markSent([(await rowFor(4, PRIVATE)).id], 400, "single", 1);
      await store.outbox.markSent([(await rowFor(6, PRIVATE)).id], 600, "single", 1);
      await store.audit.record({ actorId: 1, action: "chat.ban", result: "ok" });
    });

    it("deletes old delivered and cancelled rows, old audit entries and old incidents no chat waits for", async () => {
      const counts = await task().runOnce();
      expect(counts).toEqual({ incidents: 2, outbox: 5, audit: 1 });
      expect(await store.incidents.get(id(1))).toBeUndefined();
      expect(await store.incidents.get(id(3))).toBeUndefined();
      expect(await rowsOf(1)).toEqual([]);
      expect((await store.audit.recent()).map((a) => a.action)).toEqual(["chat.ban"]);
      const logged = logs.find((l) => l.msg.startsWith("retention: pruned"));
      expect(logged?.obj).toMatchObject({ incidents: 2, outbox: 5, audit: 1 });
    });

    it("keeps pending rows and their incidents, young rows, chats, the watermark and other settings", async () => {
      await task().runOnce();
      // 2: the group still waits for it, so the incident and that row stay; its old delivered copy goes.
      expect(await store.incidents.get(id(2))).toBeDefined();
      expect(await rowsOf(2)).toEqual([{ chatId: GROUP, state: "pending" }]);
      // 6: pending for the group, and its private copy was delivered within the retention.
      expect(await rowsOf(6)).toEqual([
        { chatId: GROUP, state: "pending" },
        { chatId: PRIVATE, state: "sent" },
      ]);
      // 4: young.
      expect(await rowsOf(4)).toEqual([
        { chatId: GROUP, state: "pending" },
        { chatId: PRIVATE, state: "sent" },
      ]);
      expect(await store.incidents.watermark()).toBe(6_000);
      expect(await store.settings.get("telegram.retryAfterBans")).toBe("{}");
      expect((await store.chats.list()).map((c) => c.id).sort()).toEqual([GROUP, PRIVATE].sort());
      expect(await store.incidents.count()).toBe(3);
    });

    it("deletes nothing while everything is younger than the retention", async () => {
      clock = T0 + 89 * DAY;
      expect(await task().runOnce()).toEqual({ incidents: 0, outbox: 0, audit: 0 });
      expect(await store.incidents.count()).toBe(5);
      expect(logs.filter((l) => l.msg.startsWith("retention: pruned"))).toEqual([]);
    });

    it("a second prune finds nothing more", async () => {
      await task().runOnce();
      expect(await task().runOnce()).toEqual({ incidents: 0, outbox: 0, audit: 0 });
    });
  });

  describe("batches", () => {
    beforeEach(async () => {
      clock = T0;
      await store.incidents.ingest(
        Array.from({ length: 7 }, (_, i) => incidentSummary(i + 1)),
        null,
      );
      for (const row of await store.outbox.pending(100))
        await store.outbox.markSent([row.id], row.id, "single", 1);
      for (let i = 0; i < 7; i++) await store.audit.record({ actorId: 1, action: `a${i}`, result: "ok" });
      clock = T1;
    });

    it("delete at most the batch size per transaction", async () => {
      const cutoff = clock - RETENTION;
      expect(await store.retention.pruneIncidents(cutoff, 3)).toEqual({ incidents: 3, outbox: 6 });
      expect(await store.incidents.count()).toBe(4);
      expect(await store.retention.pruneAudit(cutoff, 3)).toBe(3);
      expect((await store.audit.recent()).length).toBe(4);
    });

    it("follow one another until nothing old is left", async () => {
      const counts = await task({ batchSize: 3 }).runOnce();
      expect(counts).toEqual({ incidents: 7, outbox: 14, audit: 7 });
      // Incidents 3 + 3 + 1, outbox 0 (gone with them), audit 3 + 3 + 1.
      const logged = logs.find((l) => l.msg.startsWith("retention: pruned"));
      expect(logged?.obj.batches).toBe(3 + 1 + 3);
    });

    it("stop() ends a prune after the batch under way", async () => {
      const slow = task({ batchSize: 1, pauseMs: 200 });
      const run = slow.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopStarted = Date.now();
      await slow.stop();
      expect(Date.now() - stopStarted).toBeLessThan(1_000);
      const counts = await run;
      expect(counts.incidents).toBeGreaterThanOrEqual(1);
      expect(counts.incidents).toBeLessThan(7);
      expect(await store.incidents.count()).toBe(7 - counts.incidents);
    });
  });

  describe("the task", () => {
    it("prunes at start and again after its interval, until stopped", async () => {
      clock = T0;
      await store.incidents.ingest([incidentSummary(1)], null);
      await store.outbox.markSent([(await rowFor(1, PRIVATE)).id], 1, "single", 1);
      await store.outbox.markSent([(await rowFor(1, GROUP)).id], 2, "single", 1);
      clock = T1;
      const periodic = new RetentionTask({
        repository: store.retention,
        retentionMs: RETENTION,
        logger,
        now: () => clock,
        intervalMs: 100,
        pauseMs: 0,
      });
      periodic.start();
      try {
        const deadline = Date.now() + 5_000;
        while ((await store.incidents.count()) > 0 && Date.now() < deadline) await sleep(10);
        expect(await store.incidents.count()).toBe(0);
        // A new old incident is pruned by a later run, without a restart.
        clock = T0;
        await store.incidents.ingest([incidentSummary(2)], null);
        await store.outbox.markSent([(await rowFor(2, PRIVATE)).id], 3, "single", 1);
        await store.outbox.markSent([(await rowFor(2, GROUP)).id], 4, "single", 1);
        clock = T1;
        while ((await store.incidents.count()) > 0 && Date.now() < deadline) await sleep(10);
        expect(await store.incidents.count()).toBe(0);
      } finally {
        await periodic.stop();
      }
      const runs = logs.filter((l) => l.msg.startsWith("retention: pruned")).length;
      await sleep(300);
      expect(logs.filter((l) => l.msg.startsWith("retention: pruned")).length).toBe(runs);
    });

    it("logs a failure and does not throw (a closed database)", async () => {
      const broken = task();
      await store.close();
      expect(await broken.runOnce()).toEqual({ incidents: 0, outbox: 0, audit: 0 });
      expect(logs.some((l) => l.msg.startsWith("retention: pruning failed"))).toBe(true);
      store = await openStore(database.target, { now: () => clock });
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
