// One send window per chat: a chat whose sendMessage hangs (a slow link, a stuck call) holds back
// only itself. The crash guarantee that comes with it — at most one repeat per chat per crash — is
// checked by test/integration/crash.test.ts and the chaos verdict.
import { afterEach, describe, expect, it } from "vitest";
import { FAST_PACE, GROUP_CHAT, type Harness, keysShown, PRIVATE_CHAT, startHarness } from "./harness.js";

let h: Harness | undefined;

afterEach(async () => {
  h?.fake.release();
  await h?.close();
  h = undefined;
});

describe("one send window per chat", () => {
  it("keeps delivering to other chats while one chat's sendMessage hangs", async () => {
    // The hung call would only be cut by the call timeout (a minute here): nothing else may wait for it.
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE, tuning: { callTimeoutMs: 60_000 } });
    h.fake.hang("sendMessage", { chatId: GROUP_CHAT });
    const ids = await h.addIncidents(3);
    h.delivery.start();
    const keys = ids.map((id) => h!.emu.state.get(id)!.key);
    await h.fake.waitFor(() => keysShown(h!.fake, PRIVATE_CHAT).length === 3, 10_000);
    expect(keysShown(h.fake, PRIVATE_CHAT)).toEqual(keys);
    // The group's first send is held, and its lane sends nothing else meanwhile (order within a chat).
    expect(h.fake.hanging()).toBe(1);
    expect(
      h.fake.calls.filter((c) => c.method === "sendMessage" && c.params.chat_id === GROUP_CHAT),
    ).toHaveLength(1);

    // Telegram answers again: the group gets its three, each once.
    h.fake.release();
    await h.delivery.idle({ timeoutMs: 10_000 });
    expect(keysShown(h.fake, GROUP_CHAT)).toEqual(keys);
    expect(keysShown(h.fake, PRIVATE_CHAT)).toEqual(keys);
  });
});
