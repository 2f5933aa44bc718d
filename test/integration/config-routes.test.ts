// The config file's `routes:` take effect when the service starts (design.md §3): the chats listed are
// allowed by being there (nobody sent /start, nobody pressed Allow) and receive what their routes admit,
// silently where a silent rule says so; a chat the file no longer lists stops receiving on the next start.
import { afterEach, describe, expect, it } from "vitest";
import { firstPollDone, GROUP_CHAT, PRIVATE_CHAT, startWorld, type World, waitForKeys } from "./harness.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("routes from the config file", () => {
  it("allow the chats they list at start-up and route by their filters and silent rules", async () => {
    world = await startWorld();
    const routes = [
      { chatId: PRIVATE_CHAT, topic: null, filter: "severity>=high", silent: "", activeHours: [] },
      { chatId: GROUP_CHAT, topic: null, filter: "", silent: "severity<medium", activeHours: [] },
    ];
    const running = await world.startInProcess({ routes });
    await firstPollDone(running);
    const high = world.emu.state.addIncident({ severity: "High" });
    const low = world.emu.state.addIncident({ severity: "Low" });
    await waitForKeys(world, [GROUP_CHAT], [high.key, low.key], 20_000);
    await waitForKeys(world, [PRIVATE_CHAT], [high.key], 20_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    expect(world.tally(PRIVATE_CHAT, [high.key]).unexpected).toEqual([]);
    const sends = world.fake.calls.filter((c) => c.method === "sendMessage");
    const silentOf = (chatId: number, key: string) =>
      sends.find((c) => Number(c.params.chat_id) === chatId && String(c.params.text ?? "").includes(key))
        ?.params.disable_notification === true;
    expect(silentOf(GROUP_CHAT, low.key)).toBe(true);
    expect(silentOf(GROUP_CHAT, high.key)).toBe(false);
    expect(silentOf(PRIVATE_CHAT, high.key)).toBe(false);
    await running.stop();

    // Started again with the private chat gone from the file: it receives nothing more.
    const again = await world.startInProcess({ routes: [routes[1]!] });
    await firstPollDone(again);
    const later = world.emu.state.addIncident({ severity: "High" });
    await waitForKeys(world, [GROUP_CHAT], [later.key], 20_000);
    await again.service.parts.delivery.idle({ timeoutMs: 10_000 });
    expect(world.tally(PRIVATE_CHAT, [later.key]).missing).toEqual([later.key]);
  });
});
