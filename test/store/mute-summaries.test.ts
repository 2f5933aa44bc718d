// The store's side of the mute-end summary, on both dialects: which mutes are due (over by time or by
// /unmute, with the chat their line goes to; a paused chat waits), the claim that lets exactly one sender
// have each line (two instances racing, a restart), the claim fenced on the leader's epoch, and the count.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FencedError, type NewMute, openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

describe.each(DIALECTS)("%s: mute summaries", (dialect) => {
  const database = databasePerTest(dialect);
  let now = T0;
  const opened: Store[] = [];
  const open = async () => {
    const store = await openStore(database.target, { now: () => now });
    opened.push(store);
    return store;
  };
  let store: Store;

  const mute = (chatId: number, over: Partial<NewMute> = {}): Promise<number | null> =>
    store.routing.addMute(
      {
        chatId,
        threadId: null,
        matchers: "",
        startsAt: now,
        endsAt: now + 10 * MINUTE,
        createdBy: 9001,
        createdByName: null,
        comment: null,
        ...over,
      },
      20,
      now,
    );

  beforeEach(async () => {
    now = T0;
    store = await open();
    for (const id of [11, -22, -33]) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", null);
    }
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it("is due once over, by time or by /unmute, with the chat's state and thread; a paused chat waits", async () => {
    await store.chats.setThread(-22, 77);
    const byTime = (await mute(11, { endsAt: now + MINUTE }))!;
    const unmuted = (await mute(-22))!;
    const topic = (await mute(-22, { threadId: 5 }))!;
    const paused = (await mute(-33, { endsAt: now + MINUTE }))!;
    await store.chats.stopReceiving(-33, "CHAT_WRITE_FORBIDDEN", { keepUndelivered: true });
    const running = (await mute(11, { endsAt: now + 5 * MINUTE }))!;
    expect(await store.routing.dueSummaries(now)).toEqual([]);

    now += MINUTE;
    expect((await store.routing.dueSummaries(now)).map((m) => m.id)).toEqual([byTime]);
    expect(await store.routing.endMutes(-22, 9001, now)).toEqual([unmuted, topic]);
    // Due as of the moment it ended, not before.
    expect(await store.routing.dueSummaries(now - 1)).toEqual([]);
    const due = await store.routing.dueSummaries(now);
    expect(due.map((m) => [m.id, m.chatId, m.threadId, m.chatState, m.chatThreadId])).toEqual([
      [byTime, 11, null, "allowed", null],
      [unmuted, -22, null, "allowed", 77],
      [topic, -22, 5, "allowed", 77],
    ]);
    expect(due.map((m) => m.id)).not.toContain(running);
    expect(due.map((m) => m.id)).not.toContain(paused);

    // Allowed again: its line is due. A chat that was denied is listed, for the sender to drop.
    await store.chats.setState(-33, "allowed", 9001);
    await store.chats.setState(11, "denied", 9001);
    const later = await store.routing.dueSummaries(now);
    expect(later.map((m) => [m.id, m.chatState])).toEqual([
      [byTime, "denied"],
      [unmuted, "allowed"],
      [topic, "allowed"],
      [paused, "allowed"],
    ]);
  });

  it("lets exactly one of two instances claim a line, keeps it claimed across a restart, and counts its rows", async () => {
    const id = (await mute(11))!;
    const other = (await mute(-22))!;
    await store.incidents.ingest(
      [1, 2, 3, 4].map((n) => incidentSummary(n)),
      null,
      {
        route: (inc) => [
          { chatId: 11, threadId: null, silent: true, muteId: inc.id.endsWith("4") ? null : id },
          { chatId: -22, threadId: null, silent: false, muteId: null },
        ],
      },
    );
    now += 10 * MINUTE;
    // Two instances share a PostgreSQL database; SQLite has one process (its file lock): two claims at once.
    const second = dialect === "postgres" ? await open() : store;
    const [a, b] = await Promise.all([
      store.routing.claimSummaries([id, other], now),
      second.routing.claimSummaries([id, other], now + 1),
    ]);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual([id, other].sort((x, y) => x - y));
    expect(a.filter((x) => b.includes(x))).toEqual([]);
    expect(await store.routing.mutedCounts([id, other])).toEqual(
      new Map([
        [id, 3],
        [other, 0],
      ]),
    );
    // A restart finds nothing due and claims nothing again.
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    store = await open();
    expect(await store.routing.dueSummaries(now)).toEqual([]);
    expect(await store.routing.claimSummaries([id, other], now + 2)).toEqual([]);
  });

  it("gives back only its own claim", async () => {
    const id = (await mute(11))!;
    now += 10 * MINUTE;
    expect(await store.routing.claimSummaries([id], now)).toEqual([id]);
    // Another claim time: not this caller's claim; nothing changes.
    await store.routing.releaseSummaries([id], now - 1);
    expect(await store.routing.dueSummaries(now)).toEqual([]);
    await store.routing.releaseSummaries([id], now);
    expect((await store.routing.dueSummaries(now)).map((m) => m.id)).toEqual([id]);
  });

  it("fences the claim on the leader's epoch on PostgreSQL: a deposed leader claims nothing", async () => {
    const id = (await mute(11))!;
    now += 10 * MINUTE;
    const epoch = await store.lease.takeAlone("solo", 15_000);
    const stale = store.fenced(epoch - 1);
    if (dialect === "postgres") {
      await expect(stale.routing.claimSummaries([id], now)).rejects.toBeInstanceOf(FencedError);
      expect((await store.routing.dueSummaries(now)).map((m) => m.id)).toEqual([id]);
      expect(await store.fenced(epoch).routing.claimSummaries([id], now)).toEqual([id]);
    } else {
      // One process on SQLite (its file lock): the fence lets every write through.
      expect(await stale.routing.claimSummaries([id], now)).toEqual([id]);
    }
    expect(await store.routing.dueSummaries(now)).toEqual([]);
  });
});
