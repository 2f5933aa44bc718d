// The copies /inc sends and what digests hold (migration 0008), on both dialects: a card /inc sent is a
// copy brought up to date like an outbox copy; a digest message remembers its lines in order, becomes
// stale when one of its incidents changes, and stops being stale once shown; retention removes them.
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const CHAT = 5;
const OTHER = 6;

describe.each(DIALECTS)("%s: lookup copies and digest messages", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function open(): Promise<Store> {
    store = await openStore(database.target, { now: () => 1_000_000 });
    for (const id of [CHAT, OTHER]) {
      await store.chats.remember({ id, kind: "private" });
      await store.chats.setState(id, "allowed", 1);
    }
    return store;
  }

  const changeStatus = (s: Store, n: number, status: string) =>
    s.incidents.refresh({ ...incidentSummary(n), status }, undefined, null);

  it("a card /inc sent is stale after a change, found by copyIn with its message id, and up to date once edited", async () => {
    const s = await open();
    await s.incidents.ingest([incidentSummary(1)], null, { queue: false });
    await s.outbox.addLookupCopy({
      incidentId: incidentSummary(1).id,
      chatId: CHAT,
      threadId: 9,
      messageId: 700,
      renderedVersion: 1,
      askedBy: 42,
    });
    expect(await s.outbox.staleCopiesForChat(CHAT)).toEqual([]);
    expect(await s.outbox.staleChatIds()).toEqual([]);
    expect((await s.outbox.copyIn(incidentSummary(1).id, CHAT, 700))?.via).toBe("lookup");
    expect(await s.outbox.copyIn(incidentSummary(1).id, CHAT, 701)).toBeUndefined();
    expect(await s.outbox.copyIn(incidentSummary(1).id, OTHER)).toBeUndefined();

    await changeStatus(s, 1, "Approved");
    const [stale] = await s.outbox.staleCopiesForChat(CHAT);
    expect(stale).toMatchObject({ via: "lookup", messageId: 700, renderedVersion: 1, version: 2 });
    expect(await s.outbox.staleChatIds()).toEqual([CHAT]);
    await s.outbox.setRenderedVersion(stale!.id, 2, "lookup");
    expect(await s.outbox.staleCopiesForChat(CHAT)).toEqual([]);
  });

  it("a card for an incident the store does not hold yet waits, and is stale once the poller stores it", async () => {
    const s = await open();
    await s.outbox.addLookupCopy({
      incidentId: incidentSummary(3).id,
      chatId: CHAT,
      threadId: null,
      messageId: 800,
      renderedVersion: 0,
      askedBy: null,
    });
    expect(await s.outbox.staleCopiesForChat(CHAT)).toEqual([]);
    await s.incidents.ingest([incidentSummary(3)], null);
    expect((await s.outbox.staleCopiesForChat(CHAT)).map((c) => c.messageId)).toEqual([800]);
  });

  it("an escalation card in a group the store never stored (BOT_ESCALATE_CHAT by id alone) is stale after a change; an old group's after it moved is not", async () => {
    const s = await open();
    const ESCALATION_CHAT = -1_001_234_567_890;
    const OLD_GROUP = -4_070_001;
    await s.chats.remember({ id: OLD_GROUP, kind: "group", title: "SOC duty" });
    await s.chats.setState(OLD_GROUP, "allowed", 1);
    await s.incidents.ingest([incidentSummary(4)], null, { queue: false });
    for (const [chatId, messageId] of [
      [ESCALATION_CHAT, 900],
      [OLD_GROUP, 901],
    ] as const) {
      await s.outbox.addLookupCopy({
        incidentId: incidentSummary(4).id,
        chatId,
        threadId: null,
        messageId,
        renderedVersion: 1,
        askedBy: null,
      });
    }
    // The group becomes a supergroup: its old messages cannot be edited any more.
    expect(await s.chats.migrate(OLD_GROUP, -1_004_070_001)).toBe(true);
    await changeStatus(s, 4, "Closed");
    expect((await s.outbox.staleCopiesForChat(ESCALATION_CHAT)).map((c) => c.messageId)).toEqual([900]);
    expect(await s.outbox.staleCopiesForChat(OLD_GROUP)).toEqual([]);
    expect(await s.outbox.staleChatIds()).toEqual([ESCALATION_CHAT]);
  });

  it("a digest remembers its lines in order, is stale when one of them changes, and not once shown", async () => {
    const s = await open();
    await s.incidents.ingest(
      [1, 2, 3].map((n) => incidentSummary(n, 1_700_000_000_000 + n, "Low")),
      null,
    );
    const pending = await s.outbox.pendingForChat(CHAT);
    // Lines in an order of their own (not the rows' id order).
    const rows = [pending[2]!, pending[0]!, pending[1]!].map((r) => ({
      id: r.id,
      incidentId: r.incidentId,
      version: 1,
    }));
    await s.outbox.markDigestSent({ chatId: CHAT, messageId: 900, rows, silent: true, shownHash: "h1" });
    expect(await s.outbox.pendingForChat(CHAT)).toEqual([]);
    expect(await s.outbox.staleDigestsForChat(CHAT)).toEqual([]);
    // A digest line has no buttons: the card /inc sent is the copy a press comes from.
    const first = rows[0]!.incidentId;
    expect((await s.outbox.copyIn(first, CHAT))?.via).toBe("digest");
    await s.outbox.addLookupCopy({
      incidentId: first,
      chatId: CHAT,
      threadId: null,
      messageId: 901,
      renderedVersion: 1,
      askedBy: 1,
    });
    expect(await s.outbox.copyIn(first, CHAT)).toMatchObject({ via: "lookup", messageId: 901 });
    expect(await s.outbox.copyIn(first, CHAT, 900)).toMatchObject({ via: "digest", messageId: 900 });

    await changeStatus(s, 2, "Closed");
    await changeStatus(s, 3, "InProgress");
    const [digest] = await s.outbox.staleDigestsForChat(CHAT);
    expect(digest).toMatchObject({ chatId: CHAT, messageId: 900, silent: true, shownHash: "h1" });
    expect(digest!.rows.map((r) => r.incidentId)).toEqual(rows.map((r) => r.incidentId));
    expect(digest!.rows.map((r) => r.version)).toEqual([2, 1, 2]);
    expect(await s.outbox.staleChatIds()).toEqual([CHAT]);
    // Other chats' digests and copies are not this chat's.
    expect(await s.outbox.staleDigestsForChat(OTHER)).toEqual([]);

    await s.outbox.digestShown(CHAT, 900, digest!.rows, "h2");
    expect(await s.outbox.staleDigestsForChat(CHAT)).toEqual([]);
    await changeStatus(s, 1, "Approved");
    expect((await s.outbox.staleDigestsForChat(CHAT))[0]?.shownHash).toBe("h2");
  });

  it("retention removes the cards of pruned incidents and old digest records", async () => {
    const s = await open();
    await s.incidents.ingest([incidentSummary(4)], null, { queue: false });
    await s.outbox.addLookupCopy({
      incidentId: incidentSummary(4).id,
      chatId: CHAT,
      threadId: null,
      messageId: 1,
      renderedVersion: 1,
      askedBy: null,
    });
    await s.outbox.markDigestSent({ chatId: CHAT, messageId: 2, rows: [], silent: false, shownHash: "x" });
    await s.retention.pruneIncidents(2_000_000, 100);
    expect(await s.outbox.lookupCopies(incidentSummary(4).id)).toEqual([]);
    await s.retention.pruneOutbox(2_000_000, 100);
    await changeStatus(s, 4, "Closed");
    expect(await s.outbox.staleChatIds()).toEqual([]);
  });
});
