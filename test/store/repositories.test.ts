// Every repository method on both dialects, with the values that differ between them: 64-bit Telegram
// ids and millisecond timestamps (int8 on PostgreSQL), counts, empty inputs, and upserts.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

// A supergroup id and a user id as Telegram issues them today: beyond 32 bits.
const GROUP = -1_002_345_678_901;
const USER = 7_123_456_789;
const ADMIN = 5_987_654_321;
const T0 = 1_760_000_000_123;

describe.each(DIALECTS)("%s: repositories", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;
  let clock = T0;

  beforeEach(async () => {
    clock = T0;
    store = await openStore(database.target, { now: () => clock });
  });
  afterEach(async () => {
    await store.close();
  });

  it("chats: 64-bit ids and times come back as the same numbers", async () => {
    await store.chats.remember({ id: GROUP, kind: "supergroup", title: "SOC" });
    clock = T0 + 1;
    await store.chats.setState(GROUP, "allowed", ADMIN);
    await store.chats.setThread(GROUP, 2_147_483_648);
    const chat = await store.chats.get(GROUP);
    expect(chat).toEqual({
      id: GROUP,
      kind: "supergroup",
      title: "SOC",
      username: null,
      first_name: null,
      last_name: null,
      thread_id: 2_147_483_648,
      state: "allowed",
      active: 1,
      inactive_reason: null,
      created_at: T0,
      state_changed_at: T0 + 1,
      state_changed_by: ADMIN,
    });
    // remember() of a known chat updates its names and keeps its state (an upsert).
    await store.chats.remember({ id: GROUP, kind: "supergroup", title: "SOC 2" });
    expect(await store.chats.get(GROUP)).toMatchObject({ title: "SOC 2", state: "allowed" });
  });

  it("chats: ensure, setActive, list and recipients", async () => {
    expect(await store.chats.ensure(USER, "allowed", ADMIN)).toMatchObject({ id: USER, kind: "private" });
    expect(await store.chats.ensure(GROUP, "banned", ADMIN)).toMatchObject({ id: GROUP, kind: "supergroup" });
    expect(await store.chats.setActive(USER, false, "blocked the bot")).toMatchObject({ active: 1 });
    expect(await store.chats.get(USER)).toMatchObject({ active: 0, inactive_reason: "blocked the bot" });
    expect(await store.chats.setActive(404, true, null)).toBeUndefined();
    expect(await store.chats.recipients()).toEqual([]);
    await store.chats.setActive(USER, true, null);
    expect((await store.chats.recipients()).map((c) => c.id)).toEqual([USER]);
    expect((await store.chats.list()).map((c) => c.id).sort((a, b) => a - b)).toEqual([GROUP, USER]);
    expect((await store.chats.list([])).length).toBe(2);
  });

  it("settings: set overwrites, numbers read back", async () => {
    expect(await store.settings.get("x")).toBeUndefined();
    await store.settings.set("x", "1");
    await store.settings.set("x", String(T0));
    expect(await store.settings.get("x")).toBe(String(T0));
    expect(await store.settings.getNumber("x")).toBe(T0);
    await store.settings.set("y", "not a number");
    expect(await store.settings.getNumber("y")).toBeUndefined();
  });

  it("audit: 64-bit actor and chat ids, newest first", async () => {
    await store.audit.record({ actorId: USER, chatId: GROUP, action: "chat.allow", result: "ok" });
    clock = T0 + 5;
    await store.audit.record({
      actorId: null,
      action: "incident.approve",
      target: "INC-1",
      result: "failed",
    });
    const [newest, oldest] = await store.audit.recent();
    expect(newest).toMatchObject({ actor_id: null, chat_id: null, action: "incident.approve", at: T0 + 5 });
    expect(oldest).toMatchObject({ actor_id: USER, chat_id: GROUP, at: T0 });
    expect(typeof newest!.id).toBe("number");
    expect(newest!.id).toBeGreaterThan(oldest!.id);
    expect(await store.audit.recent(1)).toHaveLength(1);
  });

  it("approvals: every admin's copy, open until decided", async () => {
    await store.approvals.add(GROUP, ADMIN, 10);
    await store.approvals.add(GROUP, USER, 11);
    await store.approvals.add(-5, ADMIN, 12);
    const open = await store.approvals.open(GROUP);
    expect(open.map((a) => [a.admin_chat_id, a.message_id]).sort((a, b) => a[1]! - b[1]!)).toEqual([
      [ADMIN, 10],
      [USER, 11],
    ]);
    expect(open[0]).toMatchObject({ chat_id: GROUP, created_at: T0, decided_at: null });
    clock = T0 + 9;
    await store.approvals.markDecided(GROUP);
    expect(await store.approvals.open(GROUP)).toEqual([]);
    expect((await store.approvals.all(GROUP)).map((a) => a.decided_at)).toEqual([T0 + 9, T0 + 9]);
    expect(await store.approvals.open(-5)).toHaveLength(1);
  });

  it("incidents and the outbox: counts are numbers, empty inputs are harmless", async () => {
    await store.chats.ensure(GROUP, "allowed", ADMIN);
    await store.chats.ensure(USER, "allowed", ADMIN);
    const incidents = [1, 2, 3].map((n) => incidentSummary(n, T0 - n));
    expect((await store.incidents.ingest(incidents, T0)).queued).toBe(6);
    expect(await store.incidents.watermark()).toBe(T0);
    expect(await store.incidents.count()).toBe(3);
    expect([...(await store.incidents.known([incidents[0]!.id, "nope"]))]).toEqual([incidents[0]!.id]);
    expect((await store.incidents.known([])).size).toBe(0);
    expect((await store.incidents.get(incidents[0]!.id))?.created.getTime()).toBe(T0 - 1);

    expect(await store.outbox.pendingCounts()).toEqual(
      new Map([
        [GROUP, 3],
        [USER, 3],
      ]),
    );
    expect(await store.outbox.depthByKind()).toEqual({ supergroup: 3, private: 3 });
    expect(await store.outbox.totals()).toEqual({ pending: 6 });

    const [first, second] = await store.outbox.pendingForChat(GROUP);
    await store.outbox.retryLater([first!.id], T0 + 60_000, "429");
    await store.outbox.retryLater([], T0, "nothing");
    await store.outbox.markSent([], 1, "single", 1);
    expect((await store.outbox.pendingForChat(GROUP))[0]).toMatchObject({
      id: first!.id,
      attempts: 1,
      nextAttemptAt: T0 + 60_000,
      createdAt: T0,
      chatKind: "supergroup",
    });
    await store.outbox.markSent([first!.id, second!.id], 2_200_000_000, "digest", 0);
    expect(await store.outbox.copyIn(first!.incidentId, GROUP)).toMatchObject({
      messageId: 2_200_000_000,
      via: "digest",
    });
    expect(await store.outbox.cancelForChat(GROUP, "denied")).toBe(1);
    expect(await store.outbox.totals()).toEqual({ pending: 3, sent: 2, cancelled: 1 });
    expect(await store.outbox.sentSince(T0)).toEqual([{ chatId: GROUP, sentAt: T0 }]);
  });
});
