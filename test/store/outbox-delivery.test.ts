// The outbox methods delivery added: per-chat stale copies and giving up on single rows.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const incident = (n: number) => incidentSummary(n);

describe.each(DIALECTS)("%s: outbox additions for delivery", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;

  beforeEach(async () => {
    store = await openStore(database.target);
    for (const id of [11, -22]) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", null);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("lists stale single copies of one chat only", async () => {
    await store.incidents.ingest([incident(1), incident(2)], null);
    const rows = await store.outbox.pending();
    expect(rows).toHaveLength(4);
    for (const [i, row] of rows.entries()) await store.outbox.markSent([row.id], 100 + i, "single", 1);
    expect(await store.outbox.staleCopiesForChat(11)).toEqual([]);
    expect(await store.outbox.staleChatIds()).toEqual([]);
    await store.incidents.refresh({ ...incident(1), status: "Approved" });
    const stale = await store.outbox.staleCopiesForChat(11);
    expect(stale.map((c) => [c.chatId, c.incidentId, c.version])).toEqual([[11, incident(1).id, 2]]);
    expect((await store.outbox.staleCopiesForChat(-22)).map((c) => c.chatId)).toEqual([-22]);
    expect(await store.outbox.staleCopies()).toHaveLength(2);
    expect((await store.outbox.staleChatIds()).sort((a, b) => a - b)).toEqual([-22, 11]);
    await store.chats.setActive(-22, false, "kicked");
    expect(await store.outbox.staleChatIds()).toEqual([11]);
  });

  it("reads several incidents at once", async () => {
    await store.incidents.ingest([incident(1), incident(2)], null);
    const found = await store.incidents.getMany([incident(2).id, "no-such-id", incident(1).id]);
    expect([...found.keys()].sort()).toEqual([incident(1).id, incident(2).id]);
    expect(found.get(incident(2).id)).toMatchObject({ key: "INC-2", name: "Rule_2", version: 1 });
    expect((await store.incidents.getMany([])).size).toBe(0);
  });

  it("cancels given pending rows with a reason and leaves sent ones alone", async () => {
    await store.incidents.ingest([incident(1), incident(2)], null);
    const [first, second, third] = await store.outbox.pending();
    await store.outbox.markSent([third!.id], 5, "single", 1);
    expect(await store.outbox.cancel([first!.id, third!.id], "Bad Request: message is too long")).toBe(1);
    const left = await store.outbox.pending();
    expect(left.map((r) => r.id)).not.toContain(first!.id);
    expect(left.map((r) => r.id)).toContain(second!.id);
    expect(await store.outbox.totals()).toMatchObject({ cancelled: 1, sent: 1, pending: 2 });
    expect(await store.outbox.cancel([], "nothing")).toBe(0);
  });
});

describe.each(DIALECTS)("%s: chats that stop receiving", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;

  beforeEach(async () => {
    store = await openStore(database.target);
    for (const id of [11, -22]) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", null);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("never lists copies in a denied or banned chat as stale", async () => {
    await store.incidents.ingest([incident(1)], null);
    for (const [i, row] of (await store.outbox.pending()).entries()) {
      await store.outbox.markSent([row.id], 100 + i, "single", 1);
    }
    await store.chats.setState(-22, "denied", 1);
    await store.incidents.refresh({ ...incident(1), status: "Approved" });
    expect(await store.outbox.staleChatIds()).toEqual([11]);
    await store.chats.setState(11, "banned", 1);
    expect(await store.outbox.staleCopies()).toEqual([]);
    // allowed again: its copies are brought up to date
    await store.chats.setState(-22, "allowed", 1);
    expect(await store.outbox.staleChatIds()).toEqual([-22]);
  });

  it("stops a chat and drops or keeps its undelivered rows in one step, reporting the chat as it was", async () => {
    await store.incidents.ingest([incident(1), incident(2)], null);
    const kept = await store.chats.stopReceiving(-22, "Bad Request: TOPIC_CLOSED", { keepUndelivered: true });
    expect(kept).toMatchObject({ before: { active: 1, state: "allowed" }, cancelled: 0 });
    expect(await store.chats.get(-22)).toMatchObject({
      active: 0,
      inactive_reason: "Bad Request: TOPIC_CLOSED",
    });
    expect(await store.outbox.pendingForChat(-22)).toEqual([]); // not receiving now
    expect(await store.outbox.totals()).toEqual({ pending: 4 }); // but kept

    // a second report of the same change sees it was already not receiving
    const again = await store.chats.stopReceiving(-22, "bot kicked", { keepUndelivered: false });
    expect(again).toMatchObject({ before: { active: 0 }, cancelled: 2 });
    expect(await store.chats.get(-22)).toMatchObject({ active: 0, inactive_reason: "bot kicked" });
    expect(await store.outbox.totals()).toEqual({ pending: 2, cancelled: 2 });

    expect(await store.chats.stopReceiving(999, "x", { keepUndelivered: false })).toEqual({
      before: undefined,
      cancelled: 0,
    });
  });

  it("lets exactly one of two simultaneous reports see the chat change", async () => {
    const reports = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        store.chats.stopReceiving(11, `report ${i}`, { keepUndelivered: true }),
      ),
    );
    expect(reports.filter((r) => r.before?.active === 1)).toHaveLength(1);
  });
});
