// Chats an admin or Telegram takes out of delivery, driven the way people do it over the fake Bot API:
// a group where the bot loses the right to post is paused (its queue kept) and resumes with /accept,
// each incident arriving once; a chat an admin denies is never edited again.
import { afterEach, describe, expect, it } from "vitest";
import { CANNOT_POST_ERRORS } from "../../src/botapi-fake/index.js";
import {
  ADMIN,
  CHATS,
  firstPollDone,
  GROUP_CHAT,
  keysIn,
  PRIVATE_CHAT,
  type RunningService,
  sleep,
  startWorld,
  type World,
  waitForKeys,
  waitUntil,
} from "./harness.js";

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function started(): Promise<{ w: World; running: RunningService }> {
  const w = await startWorld({ fakeLimits: false });
  world = w;
  await w.allowInStore();
  const running = await w.startInProcess();
  await firstPollDone(running);
  await waitUntil("the bot polls Telegram", () => running.logged("polling for updates").length > 0, 15_000, {
    pollMs: 50,
  });
  return { w, running };
}

/** The admin sends a command in their private chat; resolves with the bot's reply. */
async function adminSays(w: World, text: string): Promise<string> {
  const before = w.fake.messages(ADMIN.id).length;
  w.fake.sendText(ADMIN, ADMIN.id, text);
  await waitUntil(`the bot answers ${text}`, () => w.fake.messages(ADMIN.id).length > before, 10_000, {
    pollMs: 20,
  });
  return w.fake.messages(ADMIN.id).at(-1)!.plainText;
}

const sendsTo = (w: World, chatId: number) =>
  w.fake.calls.filter((c) => c.method === "sendMessage" && c.params.chat_id === chatId);

describe("a group where the bot may not post", () => {
  it("is paused with its queue kept, shown in /accepted with the reason, and /accept delivers each incident once", async () => {
    const { w, running } = await started();
    w.fake.refusePosts(GROUP_CHAT, CANNOT_POST_ERRORS.notEnoughRights);
    const keys = w.emu.state.addBurst(3).map((i) => i.key);
    await waitForKeys(w, [PRIVATE_CHAT], keys, 15_000);
    const store = running.service.parts.store;
    await waitUntil(
      "the group is paused",
      async () => (await store.chats.get(GROUP_CHAT))?.active === 0,
      10_000,
      {
        pollMs: 50,
      },
    );
    expect(sendsTo(w, GROUP_CHAT)).toHaveLength(1);
    expect((await store.outbox.totals()).pending).toBe(3);

    // The admins are told once, with the reason and the way back.
    const notices = () => w.fake.messages(ADMIN.id).filter((m) => m.plainText.includes("may not post"));
    await waitUntil("the admin's notice", () => notices().length === 1, 10_000, { pollMs: 50 });
    expect(notices()[0]!.plainText).toContain("not enough rights");
    expect(notices()[0]!.plainText).toContain(`/accept ${GROUP_CHAT}`);
    expect(await adminSays(w, "/accepted")).toContain(
      "inactive, not receiving: Bad Request: not enough rights",
    );

    // The admin gives the bot its rights back and allows the chat again.
    w.fake.refusePosts(GROUP_CHAT, null);
    await adminSays(w, `/accept ${GROUP_CHAT}`);
    await waitForKeys(w, [GROUP_CHAT], keys, 15_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    await sleep(500);
    for (const chatId of CHATS) {
      const tally = w.tally(chatId, keys);
      expect(tally.missing).toEqual([]);
      expect(tally.repeated).toEqual([]);
    }
    expect(await store.outbox.totals()).toEqual({ sent: 6 });
    expect(notices()).toHaveLength(1);
  }, 60_000);
});

describe("a chat an admin denies", () => {
  it("is never edited again, while the other chats' copies follow the SIEM", async () => {
    const { w, running } = await started();
    const [incident] = w.emu.state.addBurst(1);
    await waitForKeys(w, CHATS, [incident!.key], 15_000);
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });

    expect(await adminSays(w, `/deny ${GROUP_CHAT}`)).toContain(String(GROUP_CHAT));
    w.emu.state.setStatus(incident!.id, "Approved");
    const showsApproved = (chatId: number) =>
      w.fake
        .messages(chatId)
        .some((m) => keysIn(m).includes(incident!.key) && /Status: Approved/.test(m.plainText));
    await waitUntil("the private chat's copy shows the change", () => showsApproved(PRIVATE_CHAT), 15_000, {
      pollMs: 50,
    });
    await running.service.parts.delivery.idle({ timeoutMs: 10_000 });
    await sleep(1_500); // an edit of the denied chat would have gone out by now
    expect(
      w.fake.calls.filter((c) => c.method === "editMessageText" && c.params.chat_id === GROUP_CHAT),
    ).toEqual([]);
    expect(showsApproved(GROUP_CHAT)).toBe(false);
  }, 60_000);
});
