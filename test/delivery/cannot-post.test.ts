// A chat the bot is still in but may not post to (rights taken away, topic closed, group deactivated):
// delivery pauses that chat with Telegram's reason, tells the admins once, and keeps its undelivered
// rows, so that allowing the chat again (/accept) delivers them — each once.
import { afterEach, describe, expect, it } from "vitest";
import { CANNOT_POST_ERRORS } from "../../src/botapi-fake/index.js";
import { FAST_PACE, GROUP_CHAT, type Harness, keysShown, PRIVATE_CHAT, startHarness } from "./harness.js";

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

function sendsTo(hh: Harness, chatId: number) {
  return hh.fake.calls.filter((c) => c.method === "sendMessage" && c.params.chat_id === chatId);
}

describe("a chat that refuses the bot's posts", () => {
  it("is paused with the reason, its rows kept, the admins told once; allowed again it gets them once", async () => {
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    h.fake.refusePosts(GROUP_CHAT, CANNOT_POST_ERRORS.notEnoughRights);
    const ids = await h.addIncidents(3);
    const keys = ids.map((id) => h!.emu.state.get(id)!.key);
    h.delivery.start();
    await h.delivery.idle({ timeoutMs: 10_000 });

    const chat = await h.store.chats.get(GROUP_CHAT);
    expect(chat).toMatchObject({ state: "allowed", active: 0 });
    expect(chat!.inactive_reason).toContain("not enough rights to send text messages");
    expect(sendsTo(h, GROUP_CHAT)).toHaveLength(1); // the first refusal pauses it; no retries
    expect((await h.store.outbox.pendingForChat(GROUP_CHAT)).length).toBe(0); // not receiving now…
    expect(await h.store.outbox.totals()).toMatchObject({ pending: 3, sent: 3 }); // …but nothing dropped
    expect(h.notices).toHaveLength(1);
    expect(h.notices[0]).toContain(String(GROUP_CHAT));
    expect(h.notices[0]).toContain("not enough rights");
    expect(keysShown(h.fake, PRIVATE_CHAT)).toEqual(keys);

    // More refusals (an edit, a late row) do not tell the admins again.
    await h.store.incidents.refresh({ ...(await h.siem.getIncident(ids[0]!)), name: "Renamed" });
    h.delivery.kick();
    await h.delivery.idle({ timeoutMs: 10_000 });
    expect(h.notices).toHaveLength(1);

    // The admin fixes the bot's rights and allows the chat again (what /accept does to the record).
    h.fake.refusePosts(GROUP_CHAT, null);
    await h.store.chats.setState(GROUP_CHAT, "allowed", 1);
    h.delivery.kick();
    await h.delivery.idle({ timeoutMs: 10_000 });
    expect(keysShown(h.fake, GROUP_CHAT)).toEqual(keys);
    expect(sendsTo(h, GROUP_CHAT)).toHaveLength(4);
    expect(await h.store.outbox.totals()).toMatchObject({ sent: 6 });
    expect(await h.store.outbox.totals()).not.toHaveProperty("cancelled");
  });

  it("pauses a chat on each description Telegram uses for 'you cannot post here'", async () => {
    h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE });
    await h.store.chats.setState(PRIVATE_CHAT, "denied", 1);
    await h.addIncidents(1);
    h.delivery.start();
    await h.delivery.idle({ timeoutMs: 10_000 });
    for (const [name, error] of Object.entries(CANNOT_POST_ERRORS)) {
      await h.store.outbox.cancelForChat(GROUP_CHAT, "test reset");
      await h.store.chats.setState(GROUP_CHAT, "allowed", 1);
      h.fake.failNext("sendMessage", error);
      await h.addIncidents(1);
      h.delivery.kick();
      await h.delivery.idle({ timeoutMs: 10_000 });
      const chat = await h.store.chats.get(GROUP_CHAT);
      expect([name, chat!.active, chat!.inactive_reason]).toEqual([name, 0, error.description]);
      // the row that was refused waits for the chat to be allowed again
      expect([name, (await h.store.outbox.totals()).pending]).toEqual([name, 1]);
    }
    expect(h.notices).toHaveLength(Object.keys(CANNOT_POST_ERRORS).length);
  });
});
