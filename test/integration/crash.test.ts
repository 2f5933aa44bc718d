// The real CLI (`node dist/cli.js run`) killed with SIGKILL in the middle of a burst, twice, at the
// worst moment: right as Telegram stores a message, before the service can record its id. After each
// restart nothing is lost and at most one message per chat repeats. A second service on the
// same database refuses to start while the first runs (the process lock).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHATS,
  type ChildService,
  ensureBuilt,
  keysIn,
  PRIVATE_CHAT,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

/** Resolves once `child` is killed with SIGKILL, the moment the chat holds `count` of `keys`. */
function killWhenShown(world: World, child: ChildService, keys: Set<string>, count: number): Promise<void> {
  return new Promise((done) => {
    const shown = () =>
      world.fake.messages(PRIVATE_CHAT).filter((m) => keysIn(m).some((k) => keys.has(k))).length;
    const kill = () => {
      unsubscribe();
      // Synchronously, inside the fake's handler: the answer to this send never reaches the service.
      child.child.kill("SIGKILL");
      void child.exited.then(() => done());
    };
    const unsubscribe = world.fake.onMessage((event) => {
      if (event.kind === "sent" && event.message.chatId === PRIVATE_CHAT && shown() >= count) kill();
    });
    if (shown() >= count) kill();
  });
}

describe("the service as a child process", () => {
  let world: World;

  beforeAll(async () => {
    await ensureBuilt();
    // Telegram's real limits in the fake; the CLI paces itself with its defaults.
    world = await startWorld();
    await world.allowInStore();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it("loses nothing after kill -9 mid-burst and repeats at most one message per chat per kill", async () => {
    let child = world.startChild();
    await child.started;
    await waitUntil("the first SIEM poll", () => child.output().includes("first SIEM poll"), 15_000, {
      pollMs: 50,
    });
    // Small enough to go out as single messages at 1/s (a digest would hide the per-message repeat).
    const incidents = world.emu.state.addBurst(12);
    const keys = incidents.map((i) => i.key);
    const kills = [3, 7];
    for (const at of kills) {
      await killWhenShown(world, child, new Set(keys), at);
      expect((await child.exited).signal).toBe("SIGKILL");
      child = world.startChild();
      await child.started;
    }
    await waitForKeys(world, CHATS, keys, 40_000);
    // A row resent after the last restart would show within a couple of seconds.
    await sleep(2_000);
    for (const chatId of CHATS) {
      const tally = world.tally(chatId, keys);
      expect(tally.missing, `chat ${chatId}: lost`).toEqual([]);
      expect(tally.unexpected).toEqual([]);
      // One send window per chat: each kill can repeat at most the one message in flight in each chat.
      expect(world.repeatedMessages(chatId).length, `chat ${chatId}: resent`).toBeLessThanOrEqual(
        kills.length,
      );
    }
    expect(world.fake.stats().duringRetryAfter).toBe(0);
    if (process.env.INTEGRATION_FIGURES) {
      console.info(
        `kill -9 ×${kills.length}: repeated messages ${CHATS.map((c) => world.repeatedMessages(c).length).join("/")}, ` +
          `429s ${world.fake.stats().tooManyRequests}`,
      );
    }

    // A second service on the same database while this one runs: refused, clearly, non-zero.
    const second = world.startChild();
    const refused = await Promise.race([second.exited, sleep(20_000).then(() => null)]);
    expect(refused, "the second service should exit on its own").not.toBeNull();
    expect(refused!.code).not.toBe(0);
    expect(second.output()).toContain("another mpsiem-telegram process is already using");
    expect(second.output()).toContain(world.dbPath);

    // The first is untouched by that and still stops cleanly.
    expect(child.child.exitCode).toBeNull();
    child.child.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);
  }, 90_000);
});
