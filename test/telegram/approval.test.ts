// The new-chat approval flow, driven over HTTP: a private user, a group, a channel and a forum topic,
// in both locales, with a hostile display name; every admin's copy shows the decision.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeMessage, FakeUser } from "../../src/botapi-fake/index.js";
import type { Locale } from "../../src/config/types.js";
import { t } from "../../src/i18n/index.js";
import { startTelegramHarness, type TelegramHarness } from "../helpers/telegram-harness.js";

const HOSTILE = "_*[evil]<b>";
const LABELS = {
  ru: {
    allow: "Разрешить",
    ignore: "Проигнорировать",
    block: "Заблокировать",
    allowed: "Разрешено",
    ignored: "Проигнорировано",
    blocked: "Заблокировано",
  },
  en: {
    allow: "Allow",
    ignore: "Ignore",
    block: "Block",
    allowed: "Allowed",
    ignored: "Ignored",
    blocked: "Blocked",
  },
} as const;

type Button = { text: string; callback_data?: string };
function buttons(m: FakeMessage): Button[] {
  const markup = m.replyMarkup as { inline_keyboard?: Button[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat();
}

describe.each<Locale>(["ru", "en"])("chat approval (%s)", (locale) => {
  let h: TelegramHarness;
  const tx = t(locale);
  const label = LABELS[locale];

  beforeAll(async () => {
    h = await startTelegramHarness({ locale });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Each admin's open request about `chatId` (the message carrying its Allow button). */
  function requests(chatId: number): FakeMessage[] {
    return h.admins.map((a) => {
      const found = h.fake
        .messages(a.id)
        .filter((m) => buttons(m).some((b) => b.callback_data?.startsWith(`c:al:${chatId}`)));
      expect(found, `admin ${a.id} has one request about ${chatId}`).toHaveLength(1);
      return found[0]!;
    });
  }

  function waitForRequests(chatId: number, count = 1) {
    return h.fake.waitFor(
      () =>
        h.admins.every(
          (a) =>
            h.fake.messages(a.id).filter((m) => m.plainText.includes(`id ${chatId}`) && buttons(m).length > 0)
              .length >= count,
        ),
      5000,
    );
  }

  function pressOn(admin: FakeUser, request: FakeMessage, which: "allow" | "ignore" | "block") {
    const button = buttons(request).find((b) => b.text.includes(label[which]))!;
    expect(button, `a ${which} button labelled ${label[which]}`).toBeDefined();
    return h.press(admin, request.chatId, request.messageId, button.callback_data!);
  }

  it("a private user with a hostile name: /start asks every admin once; Allow subscribes and is written into every copy", async () => {
    const user: FakeUser = { id: 50_001, first_name: HOSTILE, last_name: "</i>&amp;", username: "evil_user" };
    await h.say(user, user.id, "/start");
    await waitForRequests(user.id);
    expect(h.textsIn(user.id)).toEqual([tx.chats.pending]);
    const copies = requests(user.id);
    for (const copy of copies) {
      // Sent as plain text: the hostile name arrives exactly as written, nothing parsed as markup.
      expect(copy.parseMode).toBeUndefined();
      expect(copy.plainText).toContain(`${HOSTILE} </i>&amp;`);
      expect(copy.plainText).toContain(`id ${user.id}`);
      expect(
        buttons(copy)
          .map((b) => b.text)
          .join(" "),
      ).toMatch(new RegExp(`${label.allow}.*${label.ignore}.*${label.block}`));
    }
    expect((await h.store.chats.get(user.id))?.state).toBe("pending");

    // Asking again while the request is open: told it was asked already, admins not asked again.
    await h.say(user, user.id, "/start");
    expect(h.textsIn(user.id)).toEqual([tx.chats.pending, tx.chats.alreadyAsked]);
    expect(
      h.admins.map((a) => h.fake.messages(a.id).filter((m) => m.plainText.includes(`id ${user.id}`)).length),
    ).toEqual([1, 1]);

    const answer = await pressOn(h.admins[0]!, copies[0]!, "allow");
    expect(answer).toContain(label.allowed);
    await h.fake.waitFor(() => h.textsIn(user.id).includes(tx.chats.allowed), 5000);
    await h.fake.waitFor(() => requestsEdited(user.id), 5000);
    for (const a of h.admins) {
      const copy = h.fake.messages(a.id).find((m) => m.plainText.includes(`id ${user.id}`))!;
      expect(copy.plainText).toContain(`${label.allowed}: @admin1`);
      expect(copy.plainText).toContain(`${HOSTILE} </i>&amp;`);
      expect(buttons(copy)).toEqual([]);
    }
    const chat = await h.store.chats.get(user.id);
    expect(chat).toMatchObject({ state: "allowed", active: 1, state_changed_by: h.admins[0]!.id });
    expect((await h.store.approvals.open(user.id)).length).toBe(0);
    const audit = await h.audit();
    expect(
      audit.some((e) => e.action === "chat.allow" && e.chat_id === user.id && e.actor_id === h.admins[0]!.id),
    ).toBe(true);

    // Allowed now: /start says so and asks nobody.
    await h.say(user, user.id, "/start");
    expect(h.textsIn(user.id).at(-1)).toBe(tx.chats.alreadySubscribed);
    expect(
      h.admins.map((a) => h.fake.messages(a.id).filter((m) => m.plainText.includes(`id ${user.id}`)).length),
    ).toEqual([1, 1]);
  });

  function requestsEdited(chatId: number): boolean {
    return h.admins.every((a) =>
      h.fake
        .messages(a.id)
        .some((m) => m.plainText.includes(`id ${chatId}`) && m.edits > 0 && buttons(m).length === 0),
    );
  }

  it("a group: being added asks the admins (naming the group and who added it); Ignore keeps nothing, so it may ask again", async () => {
    const group = -2001;
    const adder: FakeUser = { id: 50_002, first_name: "<script>", username: "adder" };
    h.fake.addChat({ id: group, type: "group", title: `SOC ${HOSTILE}` });
    h.fake.setMembership(group, "member", adder);
    await waitForRequests(group);
    for (const copy of requests(group)) {
      expect(copy.plainText).toContain(`SOC ${HOSTILE}`);
      expect(copy.plainText).toContain("<script>");
      expect(copy.plainText).toContain(tx.chats.kind("group"));
    }
    await h.fake.waitFor(() => h.textsIn(group).includes(tx.chats.pending), 5000);

    await pressOn(h.admins[1]!, requests(group)[1]!, "ignore");
    await h.fake.waitFor(() => requestsEdited(group), 5000);
    for (const a of h.admins) {
      const copy = h.fake.messages(a.id).find((m) => m.plainText.includes(`id ${group}`))!;
      expect(copy.plainText).toContain(`${label.ignored}: @admin2`);
    }
    expect((await h.store.chats.get(group))?.state).toBe("denied");
    expect((await h.store.chats.recipients()).map((c) => c.id)).not.toContain(group);

    // Ignored is not banned: the group can ask again, and the admins get a fresh request.
    await h.say(adder, group, "/start");
    await waitForRequests(group, 1);
    expect(h.fake.messages(h.admins[0]!.id).filter((m) => m.plainText.includes(`id ${group}`))).toHaveLength(
      2,
    );
    expect((await h.store.chats.get(group))?.state).toBe("pending");
  });

  it("a title and a name with direction overrides or zero-width characters reach the admins cleaned", async () => {
    const group = -2051;
    const adder: FakeUser = { id: 50_051, first_name: "Eve\u2066", last_name: "\u200BAdmin" };
    h.fake.addChat({ id: group, type: "group", title: "\u202Etxt.exe SOC\u200F" });
    h.fake.setMembership(group, "member", adder);
    await waitForRequests(group);
    for (const copy of requests(group)) {
      expect(copy.plainText).toContain("txt.exe SOC");
      expect(copy.plainText).toContain("Eve Admin");
      expect(copy.plainText).not.toMatch(/[\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069]/);
    }
  });

  it("a channel: Block bans it — its later requests reach no admin", async () => {
    const channel = -1_003_001;
    h.fake.addChat({ id: channel, type: "channel", title: "Alerts channel", username: "alerts" });
    h.fake.setMembership(channel, "administrator");
    await waitForRequests(channel);
    const copies = requests(channel);
    expect(copies[0]!.plainText).toContain(tx.chats.kind("channel"));
    expect(copies[0]!.plainText).toContain("@alerts");

    await pressOn(h.admins[0]!, copies[0]!, "block");
    await h.fake.waitFor(() => requestsEdited(channel), 5000);
    expect(
      h.fake.messages(h.admins[1]!.id).find((m) => m.plainText.includes(`id ${channel}`))!.plainText,
    ).toContain(`${label.blocked}: @admin1`);
    expect((await h.store.chats.get(channel))?.state).toBe("banned");

    // Removed and added again: banned chats are not asked about.
    h.fake.setMembership(channel, "left");
    h.fake.setMembership(channel, "administrator");
    await h.until(
      async () =>
        (await h.audit()).filter((e) => e.action === "chat.added" && e.chat_id === channel).length >= 2,
    );
    expect(
      h.fake.messages(h.admins[0]!.id).filter((m) => m.plainText.includes(`id ${channel}`)),
    ).toHaveLength(1);
    expect((await h.store.chats.get(channel))?.state).toBe("banned");
  });

  it("a forum topic: /start in a topic carries the topic; Allow subscribes that topic and answers there", async () => {
    const forum = -1_004_001;
    const member: FakeUser = { id: 50_004, first_name: "Topic", last_name: HOSTILE };
    h.fake.addChat({ id: forum, type: "supergroup", title: "SOC forum", is_forum: true });
    await h.say(member, forum, "/start", { threadId: 77 });
    await waitForRequests(forum);
    const copies = requests(forum);
    expect(buttons(copies[0]!).find((b) => b.text.includes(label.allow))!.callback_data).toBe(
      `c:al:${forum}:77`,
    );
    expect(copies[0]!.plainText).toContain(tx.chats.kind("topic"));
    expect(h.fake.messages(forum)[0]).toMatchObject({ threadId: 77, plainText: tx.chats.pending });

    await pressOn(h.admins[1]!, copies[1]!, "allow");
    await h.fake.waitFor(() => h.textsIn(forum).includes(tx.chats.allowed), 5000);
    expect(h.fake.messages(forum).find((m) => m.plainText === tx.chats.allowed)?.threadId).toBe(77);
    expect(await h.store.chats.get(forum)).toMatchObject({ state: "allowed", thread_id: 77 });
  });

  it("several /start at once (handled concurrently) still ask every admin only once", async () => {
    const eager: FakeUser = { id: 50_006, first_name: "Eager" };
    for (let i = 0; i < 5; i++) h.fake.sendText(eager, eager.id, "/start");
    await h.fake.waitFor(() => h.textsIn(eager.id).length === 5, 5000);
    expect(h.textsIn(eager.id).filter((text) => text === tx.chats.pending)).toHaveLength(1);
    expect(h.textsIn(eager.id).filter((text) => text === tx.chats.alreadyAsked)).toHaveLength(4);
    for (const a of h.admins) {
      expect(h.fake.messages(a.id).filter((m) => m.plainText.includes(`id ${eager.id}`))).toHaveLength(1);
    }
    expect(await h.store.approvals.open(eager.id)).toHaveLength(h.admins.length);
  });

  it("only admins decide: anyone else pressing a request's button is refused and nothing changes", async () => {
    const stranger: FakeUser = { id: 50_005, first_name: "Stranger" };
    const target = -2099;
    const answer = await h.press(stranger, stranger.id, 1, `c:al:${target}`);
    expect(answer).toBe(tx.commands.adminsOnly);
    expect(await h.store.chats.get(target)).toBeUndefined();
    expect(
      (await h.audit()).some(
        (e) => e.action === "chat.allow" && e.chat_id === target && e.result === "not_allowed",
      ),
    ).toBe(true);
  });
});
