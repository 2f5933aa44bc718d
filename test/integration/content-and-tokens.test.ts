// SIEM access tokens that stop working mid-run, and an incident whose every field is hostile to
// chat markup: neither loses an incident.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOSTILE_NAME } from "../../src/emulator/index.js";
import {
  CHATS,
  firstPollDone,
  type RunningService,
  SCALED_FAKE_LIMITS,
  SCALED_PACER_LIMITS,
  SCALED_TUNING,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

describe("SIEM token expiry and hostile content", () => {
  let world: World;
  let running: RunningService;

  beforeAll(async () => {
    // Scaled limits (see SCALED_FAKE_LIMITS), the same in the fake and the pacer.
    world = await startWorld({ fakeLimits: SCALED_FAKE_LIMITS });
    await world.allowInStore();
    running = await world.startInProcess({ pacerLimits: SCALED_PACER_LIMITS, deliveryTuning: SCALED_TUNING });
    await firstPollDone(running);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("loses nothing when every SIEM access token expires mid-run", async () => {
    const first = world.emu.state.addBurst(40, { status: "New" }).map((i) => i.key);
    await waitUntil(
      "part of the first batch delivered",
      () => first.length - world.tally(CHATS[0], first).missing.length >= 5,
      20_000,
      { pollMs: 50 },
    );
    const refusedBefore = world.emu.state.stats().responses["401"] ?? 0;
    expect(world.emu.state.expireAllTokens()).toBeGreaterThan(0);
    const second = world.emu.state.addBurst(10, { status: "New" }).map((i) => i.key);
    const keys = [...first, ...second];
    await waitForKeys(world, CHATS, keys, 40_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    for (const chatId of CHATS) {
      const tally = world.tally(chatId, keys);
      expect(tally.missing).toEqual([]);
      expect(tally.repeated).toEqual([]);
      expect(tally.unexpected).toEqual([]);
    }
    // The expired token really was refused, and the service logged in again by itself.
    expect(world.emu.state.stats().responses["401"] ?? 0).toBeGreaterThan(refusedBefore);
    expect(running.service.parts.intake.status().lastError).toBeNull();
  }, 60_000);

  it("delivers a hostile incident within Telegram's limits, its markup shown as text", async () => {
    const hostile = world.emu.state.addHostileIncident({ status: "New" });
    await waitForKeys(world, CHATS, [hostile.key], 20_000);
    for (const chatId of CHATS) {
      const copies = world.incidentMessages(chatId).filter((m) => m.plainText.includes(hostile.key));
      expect(copies).toHaveLength(1);
      const message = copies[0]!;
      // The fake accepted it (it enforces 4096 and parses the HTML strictly), and it is within limits.
      expect(message.plainText.length).toBeLessThanOrEqual(4096);
      if (message.parseMode === "HTML") {
        // Escaped, not interpreted: a person sees the SIEM's tags as text.
        expect(message.plainText).toContain("<b>Hostile</b> &");
      }
      expect(message.plainText).toContain(HOSTILE_NAME.slice(0, 24));
    }
    const sends = world.fake.calls.filter(
      (c) => c.method === "sendMessage" && JSON.stringify(c.params).includes(hostile.key),
    );
    if (process.env.INTEGRATION_FIGURES) {
      console.info(
        `hostile: sends ${sends.length}, parse modes ${CHATS.map((c) => world.incidentMessages(c).at(-1)?.parseMode ?? "plain").join("/")}, ` +
          `lengths ${CHATS.map((c) => world.incidentMessages(c).at(-1)?.plainText.length).join("/")}`,
      );
    }
  });
});
