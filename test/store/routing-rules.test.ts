// Routing's tables on both dialects: filters and topics per chat, the config file's routes, mutes and
// their summaries, the generation token that tells intake to reload, and ingest's route hook.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const T0 = 1_700_000_000_000;

describe.each(DIALECTS)("%s: routing rules", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store;
  let now = T0;

  beforeEach(async () => {
    now = T0;
    store = await openStore(database.target, { now: () => now });
    for (const id of [11, -22]) {
      await store.chats.remember({ id, kind: id > 0 ? "private" : "supergroup" });
      await store.chats.setState(id, "allowed", null);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("keeps a chat's filters per destination, new topics after the others, and changes the generation", async () => {
    expect(await store.routing.generation()).toBeNull();
    expect(await store.routing.setFilter(-22, 7, "type=Network", 9001)).toBe("created");
    const g1 = await store.routing.generation();
    expect(g1).not.toBeNull();
    expect(await store.routing.setFilter(-22, null, "severity>=high", 9001)).toBe("created");
    expect(await store.routing.setFilter(-22, 5, "type=Host", 9001)).toBe("created");
    expect(await store.routing.setFilter(-22, 7, "type=Network severity>=medium", 9002)).toBe("updated");
    const g2 = await store.routing.generation();
    expect(g2).not.toBe(g1);
    const dests = await store.routing.destinationsOf(-22);
    expect(dests.map((d) => [d.threadId, d.position, d.filter, d.updatedBy])).toEqual([
      [7, 0, "type=Network severity>=medium", 9002],
      [null, 1, "severity>=high", 9001],
      [5, 2, "type=Host", 9001],
    ]);
    expect(await store.routing.clearFilter(-22, 7)).toBe("cleared");
    expect(await store.routing.clearFilter(-22, 7)).toBe("none");
    expect((await store.routing.destinationsOf(-22)).map((d) => d.threadId)).toEqual([null, 5]);
    const loaded = await store.routing.load(now);
    expect(loaded.generation).toBe(await store.routing.generation());
    expect(loaded.destinations.map((d) => [d.chatId, d.threadId])).toEqual([
      [-22, null],
      [-22, 5],
    ]);
  });

  it("config routes replace the file's rows, allow their chats, refuse Telegram changes, and leave when removed", async () => {
    await store.routing.setFilter(11, null, "severity=low", 9001);
    await store.chats.remember({ id: -33, kind: "supergroup", title: "banned one" });
    await store.chats.setState(-33, "banned", 9001);
    const sync = await store.routing.syncConfigRoutes([
      {
        chatId: 11,
        threadId: null,
        filter: "severity>=high",
        silent: "",
        activeHours: ["mon-fri 09:00-18:00"],
      },
      { chatId: -44, threadId: 3, filter: "type=Network", silent: "severity<=low", activeHours: [] },
      { chatId: -44, threadId: null, filter: "none", silent: "", activeHours: [] },
      { chatId: -33, threadId: null, filter: "", silent: "", activeHours: [] },
    ]);
    expect(sync).toEqual({ allowed: [-44], banned: [-33], removed: [] });
    expect(await store.chats.get(-44)).toMatchObject({ state: "allowed", active: 1, kind: "supergroup" });
    expect((await store.chats.get(-33))?.state).toBe("banned");
    // The file's routes replaced what Telegram had set for chat 11.
    expect(
      (await store.routing.destinationsOf(11)).map((d) => [d.filter, d.activeHours, d.managedByConfig]),
    ).toEqual([["severity>=high", ["mon-fri 09:00-18:00"], true]]);
    expect((await store.routing.destinationsOf(-44)).map((d) => [d.threadId, d.position, d.silent])).toEqual([
      [3, 0, "severity<=low"],
      [null, 1, ""],
    ]);
    expect(await store.routing.isManagedByConfig(-44)).toBe(true);
    expect(await store.routing.setFilter(-44, null, "type=x", 9001)).toBe("managed");
    expect(await store.routing.clearFilter(-44, null)).toBe("managed");

    // The same file again changes nothing, not even the generation.
    const g = await store.routing.generation();
    const again = await store.routing.syncConfigRoutes([
      {
        chatId: 11,
        threadId: null,
        filter: "severity>=high",
        silent: "",
        activeHours: ["mon-fri 09:00-18:00"],
      },
      { chatId: -44, threadId: 3, filter: "type=Network", silent: "severity<=low", activeHours: [] },
      { chatId: -44, threadId: null, filter: "none", silent: "", activeHours: [] },
      { chatId: -33, threadId: null, filter: "", silent: "", activeHours: [] },
    ]);
    expect(again).toEqual({ allowed: [], banned: [-33], removed: [] });
    expect(await store.routing.generation()).toBe(g);

    // Chat -44 leaves the file: its routes go and it stops receiving.
    const later = await store.routing.syncConfigRoutes([
      { chatId: 11, threadId: null, filter: "severity>=high", silent: "", activeHours: [] },
    ]);
    expect(later.removed).toEqual([-44, -33]);
    expect((await store.chats.get(-44))?.state).toBe("denied");
    expect((await store.chats.get(-33))?.state).toBe("banned");
    expect(await store.routing.destinationsOf(-44)).toEqual([]);
    expect(await store.routing.generation()).not.toBe(g);
  });

  it("keeps mutes with their author, lists the running ones, ends them, and bounds them per chat", async () => {
    const id1 = await store.routing.addMute(
      {
        chatId: 11,
        threadId: null,
        matchers: "severity<=medium",
        startsAt: now,
        endsAt: now + 3_600_000,
        createdBy: 9001,
        createdByName: "@soc_lead",
        comment: "night works",
      },
      3,
    );
    expect(id1).not.toBeNull();
    const id2 = await store.routing.addMute(
      {
        chatId: 11,
        threadId: 4,
        matchers: "",
        startsAt: now,
        endsAt: now + 60_000,
        createdBy: 11,
        createdByName: null,
        comment: null,
      },
      3,
    );
    await store.routing.addMute(
      {
        chatId: -22,
        threadId: null,
        matchers: "",
        startsAt: now,
        endsAt: now + 60_000,
        createdBy: 1,
        createdByName: null,
        comment: null,
      },
      3,
    );
    await store.routing.addMute(
      {
        chatId: 11,
        threadId: null,
        matchers: "",
        startsAt: now,
        endsAt: now + 60_000,
        createdBy: 1,
        createdByName: null,
        comment: null,
      },
      3,
    );
    expect(
      await store.routing.addMute(
        {
          chatId: 11,
          threadId: null,
          matchers: "",
          startsAt: now,
          endsAt: now + 60_000,
          createdBy: 1,
          createdByName: null,
          comment: null,
        },
        3,
      ),
    ).toBeNull();
    const running = await store.routing.activeMutes(11, now);
    expect(running.map((m) => [m.id, m.threadId, m.matchers, m.createdByName, m.comment])).toEqual([
      [id1, null, "severity<=medium", "@soc_lead", "night works"],
      [id2, 4, "", null, null],
      [expect.any(Number), null, "", null, null],
    ]);
    // Time passes: the one-minute mutes are over, not running, and due for their summary.
    now += 120_000;
    expect((await store.routing.activeMutes(11, now)).map((m) => m.id)).toEqual([id1]);
    expect((await store.routing.load(now)).mutes.map((m) => m.id)).toEqual([id1]);
    const due = await store.routing.dueSummaries(now);
    expect(due.map((m) => m.chatId).sort((a, b) => a - b)).toEqual([-22, 11, 11]);
    expect(due.map((m) => m.id)).not.toContain(id1);
    // /unmute ends the rest; then it is due as well.
    expect(await store.routing.endMutes(11, 9001)).toEqual([id1]);
    expect(await store.routing.endMutes(11, 9001)).toEqual([]);
    expect((await store.routing.dueSummaries(now)).map((m) => m.id)).toContain(id1);
    expect((await store.routing.activeMutes(11, now)).length).toBe(0);
  });

  it("claims a summary once, gives a claim back, and counts the rows each mute made silent", async () => {
    const mute = (await store.routing.addMute(
      {
        chatId: 11,
        threadId: null,
        matchers: "",
        startsAt: now,
        endsAt: now + 60_000,
        createdBy: 1,
        createdByName: null,
        comment: null,
      },
      20,
    ))!;
    const routed = (incidentId: string) =>
      [
        { chatId: 11, threadId: null, silent: true, muteId: incidentId.endsWith("3") ? null : mute },
        { chatId: -22, threadId: 8, silent: false, muteId: null },
      ] as const;
    await store.incidents.ingest(
      [1, 2, 3].map((n) => incidentSummary(n)),
      null,
      {
        route: (inc) => routed(inc.id).map((d) => ({ ...d })),
      },
    );
    expect(await store.routing.mutedCounts([mute, 999])).toEqual(
      new Map([
        [mute, 2],
        [999, 0],
      ]),
    );
    const rows = await store.routing.rowsOf([incidentSummary(1).id]);
    expect(rows.map((r) => [r.chatId, r.threadId, r.silent, r.muteId])).toEqual([
      [11, null, true, mute],
      [-22, 8, false, null],
    ]);
    now += 60_000;
    expect(await store.routing.claimSummaries([mute], now)).toEqual([mute]);
    expect(await store.routing.claimSummaries([mute], now + 1)).toEqual([]);
    expect(await store.routing.dueSummaries(now)).toEqual([]);
    await store.routing.releaseSummaries([mute], now);
    expect((await store.routing.dueSummaries(now)).map((m) => m.id)).toEqual([mute]);
  });

  it("ingest's route decides each chat's row: absent, silent, in a topic, with its rank; one row per chat", async () => {
    await store.incidents.ingest(
      [incidentSummary(1, T0, "Medium"), incidentSummary(2, T0 + 1, "Low")],
      null,
      {
        route: (inc, recipients) => {
          expect(recipients.map((c) => c.id).sort((a, b) => a - b)).toEqual([-22, 11]);
          if (inc.severity === "Low") return [{ chatId: 11, threadId: null, silent: true, muteId: null }];
          return [
            { chatId: -22, threadId: 5, silent: false, muteId: null },
            { chatId: -22, threadId: 6, silent: true, muteId: null },
          ];
        },
      },
    );
    const pending = await store.outbox.pending();
    expect(pending.map((p) => [p.incidentId, p.chatId, p.threadId, p.silent, p.rank])).toEqual([
      [incidentSummary(1).id, -22, 5, false, 1],
      [incidentSummary(2).id, 11, null, true, 2],
    ]);
  });

  it("a group that becomes a supergroup keeps its filters and mutes", async () => {
    await store.chats.remember({ id: -55, kind: "group", title: "SOC" });
    await store.chats.setState(-55, "allowed", null);
    await store.routing.setFilter(-55, null, "severity>=high", 1);
    await store.routing.addMute(
      {
        chatId: -55,
        threadId: null,
        matchers: "",
        startsAt: now,
        endsAt: now + 60_000,
        createdBy: 1,
        createdByName: null,
        comment: null,
      },
      20,
    );
    const g = await store.routing.generation();
    expect(await store.chats.migrate(-55, -10055)).toBe(true);
    expect((await store.routing.destinationsOf(-10055)).map((d) => d.filter)).toEqual(["severity>=high"]);
    expect(await store.routing.destinationsOf(-55)).toEqual([]);
    expect((await store.routing.activeMutes(-10055, now)).length).toBe(1);
    expect(await store.routing.generation()).not.toBe(g);
  });
});
