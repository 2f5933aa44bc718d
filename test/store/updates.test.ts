// The Telegram updates kept by update_id, on both dialects: a polled batch is claimed once and moves the
// offset; what one epoch claimed and never handled is the next epoch's; a webhook post is claimed by one
// instance only, and taken over only once its claim is stale; old rows are pruned.
import { afterEach, describe, expect, it } from "vitest";
import { FencedError, openStore, type Store, UPDATE_OFFSET_KEY } from "../../src/store/index.js";
import { DIALECTS, databasePerTest } from "../helpers/store-dialects.js";

const update = (id: number) => ({
  updateId: id,
  body: JSON.stringify({ update_id: id, message: { text: `m${id}` } }),
});

describe.each(DIALECTS)("%s: Telegram updates", (dialect) => {
  const database = databasePerTest(dialect);
  let store: Store | undefined;
  let clock = 1_700_000_000_000;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  const open = async () => {
    clock = 1_700_000_000_000;
    store = await openStore(database.target, { now: () => clock });
    return store;
  };

  it("claims a polled batch once, moves the offset past it, and hands an earlier epoch's unhandled updates to the next", async () => {
    const s = await open();
    expect(await s.updates.offset()).toBe(0);
    const first = await s.updates.receive([update(10), update(11), update(12)], "a", 1);
    expect([...first].sort()).toEqual([10, 11, 12]);
    expect(await s.updates.offset()).toBe(13);
    expect(await s.settings.get(UPDATE_OFFSET_KEY)).toBe("13");
    await s.updates.markHandled(10, "a");

    // The same batch again in the same epoch (not confirmed yet): nothing to handle twice.
    expect([...(await s.updates.receive([update(10), update(11)], "a", 1))]).toEqual([]);
    // The offset never goes back.
    expect(await s.updates.offset()).toBe(13);

    // A new leader (epoch 2): 11 and 12 were received but never handled; 10 was handled.
    const replay = await s.updates.reclaimUnhandled("b", 2, clock - 60_000, 100);
    expect(replay.map((u) => u.updateId)).toEqual([11, 12]);
    expect(JSON.parse(replay[0]!.body)).toEqual({ update_id: 11, message: { text: "m11" } });
    // Now b's: neither a nor another epoch-2 look takes them again.
    expect(await s.updates.reclaimUnhandled("c", 2, clock - 60_000, 100)).toEqual([]);
    await s.updates.markHandled(11, "a"); // a is not the claimer any more: no effect
    expect(await s.updates.handledBy(11)).toEqual({ by: "b", handled: false });
    await s.updates.markHandled(11, "b");
    expect(await s.updates.handledBy(11)).toEqual({ by: "b", handled: true });
    // If epoch 2 re-fetches 12 before handling it, it is already its own: not handed out twice.
    expect([...(await s.updates.receive([update(12), update(13)], "b", 2))]).toEqual([13]);
  });

  it("lets one instance claim a webhook post; a claim is taken over only when stale and unhandled", async () => {
    const s = await open();
    expect(await s.updates.claim(update(5), "a", clock - 60_000)).toBe(true);
    expect(await s.updates.claim(update(5), "b", clock - 60_000)).toBe(false);
    clock += 61_000;
    // a died without handling it: a minute later the retry is b's.
    expect(await s.updates.claim(update(5), "b", clock - 60_000)).toBe(true);
    expect(await s.updates.claim(update(5), "a", clock - 60_000)).toBe(false);
    await s.updates.markHandled(5, "b");
    clock += 120_000;
    expect(await s.updates.claim(update(5), "a", clock - 60_000)).toBe(false);
    // An abandoned webhook claim is also the leader's sweep's once stale.
    expect(await s.updates.claim(update(6), "a", clock - 60_000)).toBe(true);
    expect(await s.updates.reclaimUnhandled("b", 3, clock - 60_000, 100)).toEqual([]);
    clock += 61_000;
    expect((await s.updates.reclaimUnhandled("b", 3, clock - 60_000, 100)).map((u) => u.updateId)).toEqual([
      6,
    ]);
  });

  it("prunes handled rows after a day and unhandled ones Telegram no longer keeps", async () => {
    const s = await open();
    await s.updates.receive([update(1), update(2)], "a", 1);
    await s.updates.markHandled(1, "a");
    clock += 25 * 3_600_000;
    await s.updates.receive([update(3)], "a", 1);
    expect(await s.updates.prune(clock - 24 * 3_600_000, clock - 24 * 3_600_000)).toBe(2);
    expect(await s.updates.handledBy(1)).toBeUndefined();
    expect(await s.updates.handledBy(2)).toBeUndefined();
    expect(await s.updates.handledBy(3)).toEqual({ by: "a", handled: false });
  });

  it("fences the leader's writes on PostgreSQL only: on SQLite the one process always leads", async () => {
    const s = await open();
    const epoch = await s.lease.takeAlone("solo", 15_000);
    const stale = s.fenced(epoch + 1);
    if (dialect === "postgres") {
      await expect(stale.settings.set("intake.changeCursor", "5")).rejects.toBeInstanceOf(FencedError);
      expect(await s.settings.get("intake.changeCursor")).toBeUndefined();
      await s.fenced(epoch).settings.set("intake.changeCursor", "6");
      expect(await s.settings.get("intake.changeCursor")).toBe("6");
    } else {
      await stale.settings.set("intake.changeCursor", "5");
      expect(await s.settings.get("intake.changeCursor")).toBe("5");
    }
  });

  it("keeps the instances' heartbeats and gives SQLite's single process a new epoch at every start", async () => {
    const s = await open();
    expect(await s.lease.read()).toBeUndefined();
    expect(await s.lease.takeAlone("solo-1", 15_000)).toBe(1);
    expect(await s.lease.takeAlone("solo-2", 15_000)).toBe(2);
    expect(await s.lease.read()).toMatchObject({ holder: "solo-2", epoch: 2 });
    const beat = { host: "h", pid: 1, startedAt: clock, epoch: null };
    await s.lease.heartbeat({ name: "a", role: "leader", heartbeatAt: clock, ...beat, epoch: 2 });
    await s.lease.heartbeat({ name: "b", role: "standby", heartbeatAt: clock - 700_000, ...beat });
    await s.lease.heartbeat({ name: "b", role: "standby", heartbeatAt: clock - 1_000, ...beat });
    expect((await s.lease.instances(clock - 600_000)).map((i) => [i.name, i.role, i.epoch])).toEqual([
      ["a", "leader", 2],
      ["b", "standby", null],
    ]);
    expect(await s.lease.forgetInstances(clock - 500)).toBe(1);
    expect((await s.lease.instances(0)).map((i) => i.name)).toEqual(["a"]);
  });
});
