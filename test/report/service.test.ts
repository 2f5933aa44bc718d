// The shift report in the running service (app.ts wiring), on a SQLite file, with the service's clock
// injected: sent at start-up when the hour has passed, not again after a restart the same day, and again
// the next day. The SIEM is the emulator seeded with a realistic day; Telegram is the fake Bot API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planDay, playDay } from "../../src/emulator/index.js";
import { openStore } from "../../src/store/index.js";
import {
  ADMIN,
  firstPollDone,
  GROUP_CHAT,
  PRIVATE_CHAT,
  startWorld,
  type World,
  waitUntil,
} from "../integration/harness.js";

/** Yesterday 09:30 in Moscow (06:30 UTC): before the emulator's real clock. */
const DAY_MS = 86_400_000;
const REPORT_AT = Math.floor((Date.now() - DAY_MS) / DAY_MS) * DAY_MS + 6.5 * 3_600_000;

describe("the shift report in the service", () => {
  let world: World;
  let clock = REPORT_AT;
  const reports = (chatId: number) => world.fake.messages(chatId).filter((m) => m.plainText.startsWith("🌅"));

  beforeAll(async () => {
    world = await startWorld({ fakeLimits: false });
    playDay(world.emu.state, planDay({ seed: 5, end: new Date(REPORT_AT - 60_000), count: 50 }));
    await world.allowInStore();
    const store = await openStore(world.dbPath);
    await store.reports.enable(GROUP_CHAT, null, ADMIN.id);
    await store.close();
  });
  afterAll(async () => {
    await world.close();
  });

  /** Runs the service at `clock` until the group has `expected` reports (and a moment more, to catch a second). */
  async function runUntil(expected: number): Promise<void> {
    const running = await world.startInProcess({
      bot: { reportAt: "09:00", timeZone: "Europe/Moscow" },
      now: () => clock,
    });
    try {
      await firstPollDone(running);
      await waitUntil("the shift report", () => reports(GROUP_CHAT).length >= expected, 10_000, {
        pollMs: 50,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      await running.stop();
    }
  }

  it("goes out once at start-up after the hour, not again after a restart, again the next day", async () => {
    await runUntil(1);
    expect(reports(GROUP_CHAT)).toHaveLength(1);
    expect(reports(PRIVATE_CHAT)).toHaveLength(0);
    expect(reports(GROUP_CHAT)[0]!.plainText).toContain("Incidents created: 50 — SIEM, list");

    clock = REPORT_AT + 2 * 3_600_000;
    await runUntil(1);
    expect(reports(GROUP_CHAT)).toHaveLength(1);

    clock = REPORT_AT + DAY_MS;
    await runUntil(2);
    expect(reports(GROUP_CHAT)).toHaveLength(2);
  });
});
