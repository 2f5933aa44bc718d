// Fifty strangers each add the bot to a group while incidents are being delivered — to Alice and to the
// admin's own private chat, which receives incidents like any other. The whole service runs in this
// process against the emulator and the fake Bot API (Telegram's limits in both, the real pacer). The
// requests must take nothing from the incidents: in each chat the incident messages keep the chat's own
// pace, and no request notice reaches the admin's chat while incidents still wait for it.
//
// The bound: the pacer lets a private chat have 2 messages at once, then one per 1000/0.95 ≈ 1053 ms
// (DEFAULT_PACER_LIMITS). So after the first two, each incident message comes at most 1053 ms after the
// one before, plus scheduling slack on a loaded machine (SLACK_MS). Before the fix the 50 notices queued
// for the admin's chat took its turns (the pacer has no priorities): gaps of many seconds.

import { afterEach, describe, expect, it } from "vitest";
import type { FakeMessageEvent } from "../../src/botapi-fake/index.js";
import { DEFAULT_PACER_LIMITS } from "../../src/delivery/pacer.js";
import { type InProcessWorld, startInProcessWorld, until } from "../chaos/in-process.js";

const ADMIN = 9401;
const ALICE = 4848;
const INCIDENTS = 8;
const STRANGERS = 50;
const PACE_MS = Math.ceil(1000 / DEFAULT_PACER_LIMITS.perChatPerSec);
const SLACK_MS = 750;

let world: InProcessWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("a flood of new-chat requests", () => {
  it("does not slow the incidents, not even in the admin's own chat", async () => {
    const w = await startInProcessWorld({
      adminId: ADMIN,
      chats: [
        { id: ALICE, type: "private", first_name: "Alice", allowed: true },
        { id: ADMIN, type: "private", first_name: "Admin", allowed: true },
      ],
    });
    world = w;
    const service = await w.start();
    await until("the admin hears the bot is up", () => w.fake.messages(ADMIN).length > 0);
    await service.parts.delivery.idle({ timeoutMs: 20_000 });

    const ids = new Set<string>();
    const arrivals = new Map<number, number[]>([
      [ALICE, []],
      [ADMIN, []],
    ]);
    /** Every bot message in the admin's chat after the flood began, in order: incident or request. */
    const adminChat: Array<"incident" | "request"> = [];
    let floodStarted = false;
    const unsubscribe = w.fake.onMessage((event: FakeMessageEvent) => {
      if (event.kind !== "sent") return;
      const { chatId, text } = event.message;
      const isIncident = [...ids].some((id) => text.includes(id));
      if (isIncident) arrivals.get(chatId)?.push(Date.now());
      if (chatId === ADMIN && floodStarted) adminChat.push(isIncident ? "incident" : "request");
    });
    try {
      for (let i = 0; i < INCIDENTS; i++) ids.add(w.emu.state.addIncident({ status: "New" }).id);
      await until("the first incident reaches the admin", () => arrivals.get(ADMIN)!.length > 0);

      floodStarted = true;
      for (let i = 0; i < STRANGERS; i++) {
        const group = -1_009_000_000 - i;
        w.fake.addChat({ id: group, type: "supergroup", title: `Flood ${i}` });
        w.fake.setMembership(group, "member", { id: 700_000 + i, first_name: `Stranger ${i}` });
      }
      await until(
        "every incident reaches both chats",
        () => [...arrivals.values()].every((times) => times.length === INCIDENTS),
        40_000,
      );

      for (const [chatId, times] of arrivals) {
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        if (process.env.INTEGRATION_FIGURES) console.info(`request flood: chat ${chatId} gaps ${gaps} ms`);
        // The first two may go at once (the burst); every later one within the chat's own pace.
        for (const [i, gap] of gaps.entries()) {
          expect(
            gap,
            `chat ${chatId}: gap before incident message ${i + 2} (all gaps: ${gaps})`,
          ).toBeLessThanOrEqual(PACE_MS + SLACK_MS);
        }
        expect(times.at(-1)! - times[0]!, `chat ${chatId}: all ${INCIDENTS}`).toBeLessThanOrEqual(
          (INCIDENTS - 2) * PACE_MS + 2 * SLACK_MS,
        );
      }
      // The requests were not lost, only held back: they reach the admin once the incidents are out.
      await until("the first request reaches the admin", () => adminChat.includes("request"), 15_000);
      const firstRequest = adminChat.indexOf("request");
      expect(adminChat.slice(firstRequest)).not.toContain("incident");
      expect(w.fake.stats().tooManyRequests).toBe(0);
      expect(w.fake.stats().duringRetryAfter).toBe(0);
    } finally {
      unsubscribe();
    }
  }, 90_000);
});
