// A burst far larger than one SIEM page and than a chat's pace, and an incident that shows up late
// with an older creation time: each reaches both chats exactly once, within Telegram's limits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHATS,
  firstPollDone,
  keysIn,
  type RunningService,
  SCALED_FAKE_LIMITS,
  SCALED_PACER_LIMITS,
  SCALED_TUNING,
  startWorld,
  type World,
  waitForKeys,
} from "./harness.js";

describe("the service under a burst of incidents", () => {
  let world: World;
  let running: RunningService;

  beforeAll(async () => {
    // Scaled limits (see SCALED_FAKE_LIMITS): the same numbers in the fake and in the pacer.
    world = await startWorld({ fakeLimits: SCALED_FAKE_LIMITS });
    await world.allowInStore();
    running = await world.startInProcess({
      pacerLimits: SCALED_PACER_LIMITS,
      deliveryTuning: SCALED_TUNING,
    });
    await firstPollDone(running);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("delivers 2,500 incidents exactly once to a private chat and a group, never during a retry_after", async () => {
    const started = Date.now();
    // Medium and Low, with five High ones spread through the burst: a High incident is never put in a
    // digest (each takes a message of its own, ahead of the rest), so a burst of the emulator's own mix
    // (over 40 % High) would be a thousand single messages per chat by contract.
    const burst = Array.from({ length: 2500 }, (_, i) =>
      world.emu.state.addIncident({ severity: i % 500 === 250 ? "High" : i % 3 === 0 ? "Medium" : "Low" }),
    );
    const keys = burst.map((i) => i.key);
    const highKeys = burst.filter((i) => i.severity === "High").map((i) => i.key);
    await waitForKeys(world, CHATS, keys, 55_000);
    const tookMs = Date.now() - started;
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });

    for (const chatId of CHATS) {
      const tally = world.tally(chatId, keys);
      expect(tally.missing, `chat ${chatId}: lost`).toEqual([]);
      expect(tally.repeated, `chat ${chatId}: shown twice`).toEqual([]);
      expect(tally.unexpected, `chat ${chatId}: not from the burst`).toEqual([]);
      // Far fewer messages than incidents: the flood went out as digests.
      expect(world.incidentMessages(chatId).length).toBeLessThan(keys.length / 5);
      // The High ones first, each alone (a card), then the digests.
      const messages = world.incidentMessages(chatId);
      expect(messages.slice(0, highKeys.length).map(keysIn)).toEqual(highKeys.map((key) => [key]));
      expect(messages.slice(highKeys.length).every((m) => keysIn(m).length > 1)).toBe(true);
    }
    const stats = world.fake.stats();
    expect(stats.duringRetryAfter).toBe(0);
    expect(stats.tooManyRequests).toBe(0);
    expect(await running.service.parts.store.outbox.pendingCounts()).toEqual(new Map());
    if (process.env.INTEGRATION_FIGURES) {
      console.info(
        `2,500 burst: ${tookMs} ms; messages private ${world.incidentMessages(CHATS[0]).length}, ` +
          `group ${world.incidentMessages(CHATS[1]).length}; 429s ${stats.tooManyRequests}; ` +
          `calls ${JSON.stringify(stats.byMethod)}; SIEM ${JSON.stringify(world.emu.state.stats().requests)}`,
      );
    }
  }, 75_000);

  it("delivers an incident that appears late, created 2 minutes before the newest one seen", async () => {
    const newest = running.service.parts.intake.status().watermark;
    expect(newest).not.toBeNull();
    const late = world.emu.state.addIncident({ created: new Date(newest! - 120_000), status: "New" });
    await waitForKeys(world, CHATS, [late.key], 15_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    for (const chatId of CHATS) {
      expect(world.tally(chatId, [late.key]).counts.get(late.key)).toBe(1);
    }
    // The watermark did not move back: the late one was found by the overlap window.
    expect(running.service.parts.intake.status().watermark).toBe(newest);
  });
});
