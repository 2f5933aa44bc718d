// Requests to receive incidents are bounded: one open request per chat (a repeated /start is told it was
// asked already, the admins hear once), and at most 3 open requests within an hour caused by one person
// (beyond that the chat gets a short answer, the admins nothing, and it is audited). Admins are not capped.
// Every notice to the admins goes through the Api's transformers, where the service puts its pacer.
import type { Transformer } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage, FakeUser } from "../../src/botapi-fake/index.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const tx = t("en");
const HOUR = 3_600_000;

let h: TelegramHarness;
let clock = Date.now();
/** Every call that went through the bot's Api transformers: method and chat. */
const transformed: Array<{ method: string; chatId: unknown }> = [];
const recorder: Transformer = (prev, method, payload, signal) => {
  transformed.push({ method, chatId: (payload as { chat_id?: unknown }).chat_id });
  return prev(method, payload, signal);
};

beforeAll(async () => {
  h = await startTelegramHarness({
    locale: "en",
    commandRateLimit: { limit: 1000, windowMs: 1000 },
    now: () => clock,
    apiTransformers: [recorder],
  });
});
afterAll(async () => {
  await h?.close();
});

const hasAllow = (chatId: number) => (m: FakeMessage) =>
  JSON.stringify(m.replyMarkup ?? null).includes(`"c:al:${chatId}`);
/** How many requests about `chatId` each admin got. */
const requestsAbout = (chatId: number) =>
  h.admins.map((a) => h.fake.messages(a.id).filter(hasAllow(chatId)).length);
const requestAudit = async (chatId: number) =>
  (await h.audit()).filter((e) => e.action === "chat.request" && e.chat_id === chatId);

/** Adds the bot to a new group as `by`, and waits for what the bot says there. */
async function addTo(group: number, by: FakeUser): Promise<string> {
  h.fake.addChat({ id: group, type: "supergroup", title: `Group ${group}` });
  h.fake.setMembership(group, "member", by);
  await h.fake.waitFor(() => h.textsIn(group).length > 0, 10_000);
  return h.textsIn(group)[0]!;
}

describe("one open request per chat", () => {
  it("a repeated /start is told it was asked already; the admins hear once, through the pacer's transformer", async () => {
    const user: FakeUser = { id: 82_001, first_name: "Repeat" };
    await h.say(user, user.id, "/start");
    await h.fake.waitFor(() => requestsAbout(user.id).every((n) => n === 1), 5000);
    for (let i = 0; i < 3; i++) await h.say(user, user.id, "/start");
    expect(h.textsIn(user.id)).toEqual([
      tx.chats.pending,
      tx.chats.alreadyAsked,
      tx.chats.alreadyAsked,
      tx.chats.alreadyAsked,
    ]);
    expect(requestsAbout(user.id)).toEqual([1, 1]);
    expect((await requestAudit(user.id)).map((e) => e.result)).toEqual(["ok"]);
    for (const a of h.admins) {
      expect(transformed).toContainEqual({ method: "sendMessage", chatId: a.id });
    }
  });
});

describe("requests one person causes", () => {
  it("at most 3 wait at once: the 4th and 5th group get a short answer, the admins nothing; audited", async () => {
    const adder: FakeUser = { id: 82_010, first_name: "Adder", username: "adder" };
    const groups = [-8201, -8202, -8203, -8204, -8205];
    const said: string[] = [];
    for (const g of groups) said.push(await addTo(g, adder));
    expect(said).toEqual([
      tx.chats.pending,
      tx.chats.pending,
      tx.chats.pending,
      tx.chats.tooManyRequests,
      tx.chats.tooManyRequests,
    ]);
    expect(groups.map((g) => requestsAbout(g)[0])).toEqual([1, 1, 1, 0, 0]);
    for (const g of groups.slice(3)) {
      const [row] = await requestAudit(g);
      expect(row).toMatchObject({ result: "capped", actor_id: adder.id, actor_name: "@adder" });
      expect((await h.store.chats.get(g))?.state).not.toBe("pending");
    }

    // An admin decides on one: a slot frees up.
    const admin = h.admins[0]!;
    const request = h.fake.messages(admin.id).find(hasAllow(groups[0]!))!;
    await h.press(admin, admin.id, request.messageId, `c:ig:${groups[0]}`);
    expect(await addTo(-8206, adder)).toBe(tx.chats.pending);
    expect(await addTo(-8207, adder)).toBe(tx.chats.tooManyRequests);

    // After an hour the old ones no longer count (they still wait for the admins, who still have them).
    clock += HOUR + 1;
    expect(await addTo(-8208, adder)).toBe(tx.chats.pending);
    // And a capped group may ask again itself once there is room.
    clock += HOUR + 1;
    await h.say(adder, groups[3]!, "/start");
    expect(h.textsIn(groups[3]!).at(-1)).toBe(tx.chats.pending);
    expect(requestsAbout(groups[3]!)[0]).toBe(1);
  });

  it("holds when the additions arrive all at once (handled concurrently)", async () => {
    const adder: FakeUser = { id: 82_020, first_name: "Burst" };
    const groups = [-8301, -8302, -8303, -8304, -8305, -8306];
    for (const g of groups) {
      h.fake.addChat({ id: g, type: "supergroup", title: `Burst ${g}` });
      h.fake.setMembership(g, "member", adder);
    }
    // 3 requests × 2 admins + 6 answers go out at the request traffic's own pace (2/s after 4 at once).
    await h.fake.waitFor(() => groups.every((g) => h.textsIn(g).length > 0), 15_000);
    const said = groups.map((g) => h.textsIn(g)[0]);
    expect(said.filter((s) => s === tx.chats.pending)).toHaveLength(3);
    expect(said.filter((s) => s === tx.chats.tooManyRequests)).toHaveLength(3);
    expect(groups.map((g) => requestsAbout(g)[0]).reduce((a, b) => a! + b!, 0)).toBe(3);
  });

  it("does not apply to admins", async () => {
    const admin = h.admins[1]!;
    const groups = [-8401, -8402, -8403, -8404, -8405];
    for (const g of groups) expect(await addTo(g, admin)).toBe(tx.chats.pending);
    expect(groups.map((g) => requestsAbout(g)[0])).toEqual([1, 1, 1, 1, 1]);
  });
});
