// Telegram answers 502 for 20 s while incidents keep coming. The service queues them, backs off, and
// afterwards delivers each exactly once — never during a retry_after.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHATS,
  firstPollDone,
  type RunningService,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

const OUTAGE_MS = 20_000;

describe("a Telegram outage of 20 s", () => {
  let world: World;
  let running: RunningService;

  beforeAll(async () => {
    world = await startWorld();
    await world.allowInStore();
    running = await world.startInProcess();
    await firstPollDone(running);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("is caught up with nothing lost or doubled", async () => {
    const before = world.emu.state.addIncident({ status: "New" });
    await waitForKeys(world, CHATS, [before.key], 15_000);

    world.fake.outage(OUTAGE_MS);
    const outageStarted = Date.now();
    const during = [];
    for (const at of [0, 5_000, 10_000, 15_000]) {
      await sleep(Math.max(0, outageStarted + at - Date.now()));
      during.push(...world.emu.state.addBurst(2, { status: "New" }));
    }
    const keys = during.map((i) => i.key);
    // Queued durably while Telegram is still down: one row per incident and chat.
    await waitUntil(
      "every incident queued for both chats",
      async () => {
        const pending = await running.service.parts.store.outbox.pendingCounts();
        return CHATS.every((chatId) => pending.get(chatId) === keys.length);
      },
      3_000,
      { pollMs: 100 },
    );
    expect(Date.now() - outageStarted).toBeLessThan(OUTAGE_MS);
    for (const chatId of CHATS) expect(world.tally(chatId, keys).missing).toEqual(keys);

    const caughtUpIn = await waitForKeys(world, CHATS, keys, 45_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    for (const chatId of CHATS) {
      const tally = world.tally(chatId, [before.key, ...keys]);
      expect(tally.missing).toEqual([]);
      expect(tally.repeated).toEqual([]);
      expect(tally.unexpected).toEqual([]);
    }
    expect(world.fake.stats().duringRetryAfter).toBe(0);
    if (process.env.INTEGRATION_FIGURES) {
      console.info(`Telegram outage: caught up ${caughtUpIn} ms after the last incident`);
    }
  }, 90_000);
});
