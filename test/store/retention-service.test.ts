// The running service prunes at start (app.ts wires the retention task) and stops it within stop().
import { afterEach, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { incidentSummary } from "../helpers/incidents.js";
import { CHATS, startWorld, type World, waitUntil } from "../integration/harness.js";

const DAY = 86_400_000;
let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

it("prunes what is older than BOT_RETENTION at start, logs it, and stops with the service", async () => {
  world = await startWorld({ fakeLimits: false });
  await world.allowInStore();
  // A hundred days ago: two incidents delivered to both chats, one audit entry.
  const longAgo = Date.now() - 100 * DAY;
  const seeded = await openStore(world.dbPath, { now: () => longAgo });
  try {
    await seeded.incidents.ingest([incidentSummary(1), incidentSummary(2)], null);
    let message = 1;
    for (const chat of CHATS) {
      for (const row of await seeded.outbox.pendingForChat(chat)) {
        await seeded.outbox.markSent([row.id], message++, "single", 1);
      }
    }
    await seeded.audit.record({ actorId: 1, action: "chat.allow", result: "ok" });
  } finally {
    await seeded.close();
  }

  const running = await world.startInProcess({ bot: { retentionMs: 90 * DAY } });
  await waitUntil("the prune at start", () => running.logged("retention: pruned").length > 0, 10_000, {
    pollMs: 20,
  });
  const line = JSON.parse(running.logged("retention: pruned")[0]!) as Record<string, unknown>;
  expect(line).toMatchObject({ incidents: 2, outbox: 4, audit: 1 });
  expect(await running.service.parts.store.incidents.count()).toBe(0);

  const stopStarted = Date.now();
  await running.stop();
  expect(Date.now() - stopStarted).toBeLessThan(5_000);
});
