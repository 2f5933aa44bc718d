// A graceful restart in the middle of a burst: the second service, on the same database, carries on
// where the first stopped. Nothing is lost; nothing is repeated but, at most, the message in flight.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHATS,
  firstPollDone,
  GROUP_CHAT,
  type RunningService,
  SCALED_FAKE_LIMITS,
  SCALED_PACER_LIMITS,
  SCALED_TUNING,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

describe("a graceful restart mid-burst", () => {
  let world: World;
  const start = () =>
    world.startInProcess({ pacerLimits: SCALED_PACER_LIMITS, deliveryTuning: SCALED_TUNING });

  beforeAll(async () => {
    // Scaled limits (see SCALED_FAKE_LIMITS), the same in the fake and the pacer.
    world = await startWorld({ fakeLimits: SCALED_FAKE_LIMITS });
    await world.allowInStore();
  });
  afterAll(async () => {
    await world?.close();
  });

  it("loses nothing and repeats nothing beyond the message in flight", async () => {
    let running: RunningService = await start();
    await firstPollDone(running);
    const keys = world.emu.state.addBurst(600).map((i) => i.key);
    // Stop once the group has part of the burst, but far from all of it.
    await waitUntil(
      "a third of the burst in the group",
      () => keys.length - world.tally(GROUP_CHAT, keys).missing.length >= 200,
      30_000,
      { pollMs: 20 },
    );
    await running.stop();
    const shownAtStop = CHATS.map((chatId) => keys.length - world.tally(chatId, keys).missing.length);
    expect(Math.min(...shownAtStop)).toBeLessThan(keys.length);

    running = await start();
    await waitForKeys(world, CHATS, keys, 45_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });

    for (const chatId of CHATS) {
      const tally = world.tally(chatId, keys);
      expect(tally.missing, `chat ${chatId}: lost`).toEqual([]);
      expect(tally.unexpected).toEqual([]);
      expect(world.repeatedMessages(chatId).length, `chat ${chatId}: messages resent`).toBeLessThanOrEqual(1);
    }
    expect(world.fake.stats().duringRetryAfter).toBe(0);
    if (process.env.INTEGRATION_FIGURES) {
      console.info(
        `graceful restart: shown at stop ${shownAtStop.join("/")}, 429s ${world.fake.stats().tooManyRequests}, repeated keys ` +
          CHATS.map((c) => world.tally(c, keys).repeated.length).join("/"),
      );
    }
  }, 90_000);
});

describe("a restart while a group's minute is nearly used up", () => {
  let world: World;
  // Per chat and per bot scaled as above; the group's 20 a minute stays real: it is what this is about.
  const fakeLimits = { ...SCALED_FAKE_LIMITS, perGroupPerMin: 20 };
  const pacerLimits = { ...SCALED_PACER_LIMITS, perGroupPerMin: 19 };

  beforeAll(async () => {
    world = await startWorld({ fakeLimits });
    await world.allowInStore([GROUP_CHAT]);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("does not send the group more than Telegram allows in that minute (no 429)", async () => {
    let running = await world.startInProcess({ pacerLimits });
    await firstPollDone(running);
    const first = world.emu.state.addBurst(15).map((i) => i.key);
    await waitForKeys(world, [GROUP_CHAT], first, 20_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    await running.stop();

    running = await world.startInProcess({ pacerLimits });
    const second = world.emu.state.addBurst(10).map((i) => i.key);
    // What still fits the minute goes at once; the rest waits for the window, not for a 429.
    await waitUntil(
      "the group's minute filled up",
      () => world.fake.messages(GROUP_CHAT).length >= 19,
      15_000,
      { pollMs: 50 },
    );
    await sleep(3_000);
    expect(world.fake.stats().tooManyRequests).toBe(0);
    expect(world.fake.messages(GROUP_CHAT).length).toBeLessThanOrEqual(20);
    expect(world.tally(GROUP_CHAT, [...first, ...second]).repeated).toEqual([]);
  });
});
