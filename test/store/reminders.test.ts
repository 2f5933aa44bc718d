// The reminder jobs and the messages they owe (migration 0009), on both dialects: one job per (incident,
// policy), found once delivered and still New; a step over an old generation writes nothing (neither the
// job nor its messages nor the card's line); a bump (status change, snooze, mute) makes an older reader
// exit; messages are claimed once; the card's line bumps the version so that every copy is edited.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const T0 = 1_700_000_000_000;
const CHATS = [11, -22];

describe.each(DIALECTS)("%s: reminder jobs", (dialect) => {
  const database = databasePerTest(dialect);
  let now = T0;
  let store: Store;

  beforeEach(async () => {
    now = T0;
    store = await openStore(database.target, { now: () => now });
    for (const id of CHATS) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", null);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  /** Incidents 1..n ingested and delivered to every chat (message ids 100 + i). */
  async function delivered(n: number): Promise<void> {
    await store.incidents.ingest(
      Array.from({ length: n }, (_, i) => incidentSummary(i + 1, T0 - 1_000)),
      null,
    );
    for (const [i, row] of (await store.outbox.pending()).entries()) {
      await store.outbox.markSent([row.id], 100 + i, "single", 1);
    }
  }

  const job = (n: number) => ({
    incidentId: incidentSummary(n).id,
    policy: "env",
    anchorAt: T0,
    nextDueAt: T0 + 60_000,
    escalateAt: null,
    snoozedUntil: null,
    doneAt: null,
  });

  it("lists delivered New incidents without a job, once each, and schedules each pair only once", async () => {
    await delivered(2);
    await store.incidents.ingest([incidentSummary(3, T0 - 1_000)], null); // queued, not sent yet
    const found = await store.reminders.unscheduled("env", 10);
    expect(found.map((u) => u.incidentId)).toEqual([incidentSummary(1).id, incidentSummary(2).id]);
    expect(found[0]).toMatchObject({
      severity: "High",
      status: "New",
      createdAt: T0 - 1_000,
      firstSentAt: T0,
    });

    expect(await store.reminders.schedule(job(1))).toBe(true);
    expect(await store.reminders.schedule(job(1))).toBe(false);
    expect((await store.reminders.unscheduled("env", 10)).map((u) => u.incidentId)).toEqual([
      incidentSummary(2).id,
    ]);
    // Another policy schedules on its own.
    expect((await store.reminders.unscheduled("night", 10)).length).toBe(2);
    // An incident that left New is not scheduled.
    await store.incidents.refresh({ ...incidentSummary(2, T0 - 1_000), status: "Approved" }, undefined, null);
    expect(await store.reminders.unscheduled("env", 10)).toEqual([]);
  });

  it("a step writes the job, its messages and the card's line together, only over the generation it read", async () => {
    await delivered(1);
    await store.reminders.schedule(job(1));
    now = T0 + 60_000;
    const [due] = await store.reminders.due(now, 10);
    expect(due).toMatchObject({ generation: 1, remindersSent: 0, nextDueAt: T0 + 60_000 });
    const versionBefore = (await store.incidents.get(incidentSummary(1).id))!.version;
    const messages = CHATS.map((chatId, i) => ({
      incidentId: incidentSummary(1).id,
      chatId,
      threadId: null,
      kind: "remind" as const,
      replyTo: 100 + i,
      newForMs: 61_000,
    }));
    expect(
      await store.reminders.step(due!, { remindersSent: 1, nextDueAt: now + 60_000 }, messages, {
        newForMs: 60_000,
      }),
    ).toBe(true);
    // A second reader of the same generation (another instance, a tick cut short) writes nothing.
    expect(
      await store.reminders.step(due!, { remindersSent: 1, nextDueAt: now + 60_000 }, messages, {
        newForMs: 60_000,
      }),
    ).toBe(false);
    expect(await store.reminders.pendingChats()).toEqual(new Map(CHATS.map((c) => [c, 1])));
    const incident = (await store.incidents.get(incidentSummary(1).id))!;
    expect(incident.reminderNote).toEqual({ newForMs: 60_000 });
    expect(incident.version).toBe(versionBefore + 1);
    // Every copy shows an older version now: delivery edits them.
    expect((await store.outbox.staleChatIds()).sort((a, b) => a - b)).toEqual(
      [...CHATS].sort((a, b) => a - b),
    );
    expect(await store.reminders.job(incidentSummary(1).id, "env")).toMatchObject({
      generation: 2,
      remindersSent: 1,
      nextDueAt: now + 60_000,
    });
    expect(await store.reminders.due(now, 10)).toEqual([]);
  });

  it("Snooze's drop takes the incident's queued reminders, not an escalation already queued", async () => {
    await delivered(2);
    await store.reminders.schedule(job(1));
    await store.reminders.schedule(job(2));
    now = T0 + 60_000;
    const due = await store.reminders.due(now, 10);
    const owed = (n: number) => [
      ...CHATS.map((chatId, i) => ({
        incidentId: incidentSummary(n).id,
        chatId,
        threadId: null,
        kind: "remind" as const,
        replyTo: 100 + i,
        newForMs: 60_000,
      })),
      {
        incidentId: incidentSummary(n).id,
        chatId: -999,
        threadId: null,
        kind: "escalate" as const,
        replyTo: null,
        newForMs: 60_000,
      },
    ];
    expect(
      await store.reminders.steps(due.map((j, i) => ({ job: j, patch: {}, messages: owed(i + 1) }))),
    ).toEqual([true, true]);
    expect(await store.reminders.dropPendingReminders(incidentSummary(1).id)).toBe(2);
    const states = async (n: number) =>
      (await store.reminders.messagesOf(incidentSummary(n).id)).map((m) => `${m.kind}:${m.state}`);
    expect(await states(1)).toEqual(["remind:dropped", "remind:dropped", "escalate:pending"]);
    // Another incident's are untouched.
    expect(await states(2)).toEqual(["remind:pending", "remind:pending", "escalate:pending"]);
  });

  it("the card's line makes single cards stale, never a digest (whose lines do not show it)", async () => {
    await store.incidents.ingest([incidentSummary(1, T0 - 1_000)], null);
    const [single, digest] = await store.outbox.pending();
    await store.outbox.markSent([single!.id], 100, "single", 1);
    await store.outbox.markSent([digest!.id], 200, "digest", 1);
    await store.reminders.schedule(job(1));
    now = T0 + 60_000;
    const [due] = await store.reminders.due(now, 10);
    expect(await store.outbox.staleChatIds()).toEqual([]);
    expect(
      await store.reminders.step(due!, { remindersSent: 1, nextDueAt: now + 60_000 }, [], {
        newForMs: 60_000,
      }),
    ).toBe(true);
    // Only the single card is edited: an edit of the digest would change nothing a reader sees, and would
    // spend the group's Telegram budget (20 a minute) during the very flood that fills digests.
    expect(await store.outbox.staleChatIds()).toEqual([single!.chatId]);
    expect(await store.outbox.staleDigestsForChat(digest!.chatId)).toEqual([]);
    // A status change still brings the digest line up to date.
    await store.incidents.refresh({ ...incidentSummary(1, T0 - 1_000), status: "Approved" }, undefined, null);
    expect((await store.outbox.staleDigestsForChat(digest!.chatId)).length).toBe(1);
  });

  it("a bump makes a job read before it exit; done ends it; a snooze is kept", async () => {
    await delivered(1);
    await store.reminders.schedule(job(1));
    now = T0 + 60_000;
    const [read] = await store.reminders.due(now, 10);
    expect(await store.reminders.bump(incidentSummary(1).id, { snoozedUntil: now + 3_600_000 })).toBe(1);
    expect(await store.reminders.step(read!, { remindersSent: 1 })).toBe(false);
    const [again] = await store.reminders.due(now, 10);
    expect(again).toMatchObject({ generation: 2, snoozedUntil: now + 3_600_000 });
    expect(await store.reminders.bump(incidentSummary(1).id, { done: true })).toBe(1);
    expect(await store.reminders.due(now + 86_400_000, 10)).toEqual([]);
    expect(await store.reminders.job(incidentSummary(1).id, "env")).toMatchObject({
      doneAt: now,
      nextDueAt: null,
    });
    // A job already over is not bumped again.
    expect(await store.reminders.bump(incidentSummary(1).id, { done: true })).toBe(0);
  });

  it("messages are claimed once, settled by outcome, and counted per chat and hour by Telegram message", async () => {
    await delivered(2);
    await store.reminders.schedule(job(1));
    await store.reminders.schedule(job(2));
    for (const n of [1, 2]) {
      const j = (await store.reminders.job(incidentSummary(n).id, "env"))!;
      await store.reminders.step(j, { remindersSent: 1 }, [
        {
          incidentId: incidentSummary(n).id,
          chatId: 11,
          threadId: null,
          kind: "remind",
          replyTo: 100,
          newForMs: 1,
        },
      ]);
    }
    const owed = await store.reminders.pendingForChat(11, 10);
    expect(owed.map((m) => m.incidentId)).toEqual([incidentSummary(1).id, incidentSummary(2).id]);
    const ids = owed.map((m) => m.id);
    expect(await store.reminders.claim(ids)).toEqual(ids);
    expect(await store.reminders.claim(ids)).toEqual([]);
    expect(await store.reminders.pendingChats()).toEqual(new Map());
    // Both went out in one collapsed message: one message this hour.
    await store.reminders.settle(ids, "sent", 555);
    expect(await store.reminders.sentToChatSince(11, now - 3_600_000)).toBe(1);
    expect(await store.reminders.sentToChatSince(-22, now - 3_600_000)).toBe(0);
    expect((await store.reminders.messagesOf(incidentSummary(1).id)).map((m) => m.state)).toEqual(["sent"]);
  });

  it("a claim a stopped sender never settled is dropped at the next start, never sent twice", async () => {
    await delivered(1);
    await store.reminders.schedule(job(1));
    const j = (await store.reminders.job(incidentSummary(1).id, "env"))!;
    await store.reminders.step(j, { remindersSent: 1 }, [
      {
        incidentId: incidentSummary(1).id,
        chatId: 11,
        threadId: null,
        kind: "remind",
        replyTo: 100,
        newForMs: 1,
      },
    ]);
    const [owed] = await store.reminders.pendingForChat(11, 10);
    await store.reminders.claim([owed!.id]);
    expect(await store.reminders.settleAbandoned()).toBe(1);
    expect(await store.reminders.pendingForChat(11, 10)).toEqual([]);
    expect((await store.reminders.messagesOf(incidentSummary(1).id)).map((m) => m.state)).toEqual([
      "dropped",
    ]);
  });

  it("a paused chat's reminders wait", async () => {
    await delivered(1);
    await store.reminders.schedule(job(1));
    const j = (await store.reminders.job(incidentSummary(1).id, "env"))!;
    await store.reminders.step(
      j,
      { remindersSent: 1 },
      CHATS.map((chatId) => ({
        incidentId: incidentSummary(1).id,
        chatId,
        threadId: null,
        kind: "remind" as const,
        replyTo: 100,
        newForMs: 1,
      })),
    );
    await store.chats.stopReceiving(-22, "CHAT_WRITE_FORBIDDEN", { keepUndelivered: true });
    expect(await store.reminders.pendingChats()).toEqual(new Map([[11, 1]]));
  });
});

describe.each(DIALECTS)("%s: reminder rows and retention", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;
  const now = T0;
  afterEach(async () => {
    await store.close();
  });

  it("prunes old reminders sent or dropped, never one still owed, and an incident's jobs with it", async () => {
    store = await openStore(database.target, { now: () => now });
    await store.chats.remember({ id: 11, kind: "private" });
    await store.chats.setState(11, "allowed", null);
    await store.incidents.ingest([incidentSummary(1, T0 - 1_000), incidentSummary(2, T0 - 1_000)], null);
    for (const [i, row] of (await store.outbox.pending()).entries()) {
      await store.outbox.markSent([row.id], 100 + i, "single", 1);
    }
    for (const n of [1, 2]) {
      await store.reminders.schedule({
        incidentId: incidentSummary(n).id,
        policy: "env",
        anchorAt: T0,
        nextDueAt: T0,
        escalateAt: null,
        snoozedUntil: null,
        doneAt: null,
      });
      const job = (await store.reminders.job(incidentSummary(n).id, "env"))!;
      await store.reminders.step(job, { remindersSent: 1 }, [
        {
          incidentId: incidentSummary(n).id,
          chatId: 11,
          threadId: null,
          kind: "remind",
          replyTo: 100,
          newForMs: 1,
        },
        {
          incidentId: incidentSummary(n).id,
          chatId: 11,
          threadId: null,
          kind: "remind",
          replyTo: 100,
          newForMs: 2,
        },
      ]);
    }
    const [sent] = await store.reminders.pendingForChat(11, 1);
    await store.reminders.settle(await store.reminders.claim([sent!.id]), "sent", 900);
    await store.retention.pruneOutbox(T0 + 1, 100);
    // Incident 1: the sent one is gone, the owed one stays; incident 2: both owed, both stay.
    expect((await store.reminders.messagesOf(incidentSummary(1).id)).map((m) => m.state)).toEqual([
      "pending",
    ]);
    expect(await store.reminders.messagesOf(incidentSummary(2).id)).toHaveLength(2);

    // Once an incident itself is pruned, its jobs and reminders go with it.
    await store.reminders.settle(
      await store.reminders.claim((await store.reminders.pendingForChat(11, 10)).map((m) => m.id)),
      "dropped",
    );
    await store.retention.pruneIncidents(T0 + 1, 100);
    for (const n of [1, 2]) {
      expect(await store.reminders.job(incidentSummary(n).id, "env")).toBeUndefined();
      expect(await store.reminders.messagesOf(incidentSummary(n).id)).toEqual([]);
    }
  });
});
