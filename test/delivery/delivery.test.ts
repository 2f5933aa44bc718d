// The outbox sender against a real store, the fake Bot API and the SIEM emulator. Flood control is
// off in the fake (and pacing fast) here; test/delivery/flood.test.ts covers Telegram's limits.
import type { Transformer } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import {
  FAST_PACE,
  GROUP_CHAT,
  type Harness,
  type HarnessOptions,
  keysShown,
  PRIVATE_CHAT,
  startHarness,
} from "./harness.js";

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness({ fakeLimits: false, pacerLimits: FAST_PACE, ...opts });
  return h;
}

function sends(hh: Harness, chatId?: number) {
  return hh.fake.calls.filter(
    (c) => c.method === "sendMessage" && (chatId === undefined || c.params.chat_id === chatId),
  );
}

describe("single messages", () => {
  it("delivers each incident once, in creation order, to a private chat and a forum topic, with details", async () => {
    const hh = await harness();
    await hh.store.chats.setThread(GROUP_CHAT, 77);
    const ids = await hh.addIncidents(4);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 15_000 });

    const expectedKeys = ids.map((id) => hh.emu.state.get(id)!.key);
    for (const chatId of [PRIVATE_CHAT, GROUP_CHAT]) {
      expect(keysShown(hh.fake, chatId)).toEqual(expectedKeys);
      expect(sends(hh, chatId)).toHaveLength(4);
    }
    const groupMessages = hh.fake.messages(GROUP_CHAT);
    expect(groupMessages.every((m) => m.threadId === 77)).toBe(true);
    expect(hh.fake.messages(PRIVATE_CHAT).every((m) => m.threadId === undefined)).toBe(true);

    // message ids recorded per copy; details and events read from the SIEM before the first send
    for (const id of ids) {
      const copies = await hh.store.outbox.copies(id);
      expect(copies).toHaveLength(2);
      for (const copy of copies) {
        const message = hh.fake.messages(copy.chatId).find((m) => m.messageId === copy.messageId);
        expect(message?.plainText).toContain(hh.emu.state.get(id)!.key);
        expect(copy.via).toBe("single");
      }
      expect((await hh.store.incidents.get(id))!.enrichedAt).not.toBeNull();
    }
    const first = hh.fake.messages(PRIVATE_CHAT)[0]!;
    const event = hh.emu.state.eventsOf(ids[0]!)[0]!;
    expect(first.parseMode).toBe("HTML");
    expect(first.plainText).toContain(event.description.slice(0, 20));
    expect(JSON.stringify(first.replyMarkup)).toContain("Approve");
    expect(await hh.metric("deliveries", { result: "sent" })).toBe(8);
  });

  it("never sends a row again once its message id is recorded, across a restart", async () => {
    const hh = await harness();
    await hh.addIncidents(3);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 15_000 });
    await hh.delivery.stop();
    expect(sends(hh)).toHaveLength(6);

    const fresh = hh.restart();
    await hh.addIncidents(2);
    fresh.start();
    await fresh.idle({ timeoutMs: 15_000 });
    expect(sends(hh)).toHaveLength(10);
    for (const chatId of [PRIVATE_CHAT, GROUP_CHAT]) {
      const keys = keysShown(hh.fake, chatId);
      expect(new Set(keys).size).toBe(5);
      expect(keys).toHaveLength(5);
    }
  });

  it("sends what the store holds and never calls the SIEM (intake reads incidents, delivery only sends)", async () => {
    const hh = await harness();
    const [id] = await hh.addIncidents(1);
    // An incident queued without its details (a burst): sent as it is, edited later when intake reads it.
    await hh.store.incidents.ingest(
      [{ ...(await hh.siem.getIncident(id!)), id: "6a3c3f0e-2b1d-4c58-9f0e-5d7a1b2c3d4e", key: "INC-9999" }],
      null,
    );
    hh.emu.state.resetStats();
    hh.delivery.start();
    await hh.fake.waitFor(() => hh.fake.messages().length === 4, 10_000);
    await hh.delivery.idle({ timeoutMs: 10_000 });
    expect(hh.emu.state.stats().totalRequests).toBe(0);
    const event = hh.emu.state.eventsOf(id!)[0]!;
    expect(
      hh.fake.messages(PRIVATE_CHAT).some((m) => m.plainText.includes(event.description.slice(0, 20))),
    ).toBe(true);
  });
});

describe("errors", () => {
  it("retries 5xx answers and reset connections until each message is delivered once", async () => {
    const hh = await harness();
    hh.fake.failNext("sendMessage", { code: 502, description: "Bad Gateway" }, 3);
    hh.fake.resetConnections(2);
    await hh.addIncidents(3);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 20_000 });
    for (const chatId of [PRIVATE_CHAT, GROUP_CHAT]) {
      const keys = keysShown(hh.fake, chatId);
      expect(keys).toHaveLength(3);
      expect(new Set(keys).size).toBe(3);
    }
    expect(await hh.metric("deliveries", { result: "retry" })).toBeGreaterThanOrEqual(4);
    expect(await hh.metrics.total(hh.metrics.telegramErrors)).toBeGreaterThanOrEqual(5);
    expect(hh.pacer.health().lastOkAt).not.toBeNull();
  });

  it("ends every chat's backoff as soon as Telegram answers again after an outage", async () => {
    // a backoff of at least 14 s: only the early retry can deliver within the 8 s below
    const hh = await harness({ tuning: { backoffBaseMs: 20_000, backoffMaxMs: 20_000 } });
    hh.fake.outage(60_000);
    await hh.addIncidents(1);
    hh.delivery.start();
    await hh.fake.waitFor(() => sends(hh).length === 2, 5000);
    hh.fake.outage(0); // Telegram is back
    expect(await hh.store.outbox.totals()).toMatchObject({ pending: 2 });
    await hh.api.getMe(); // any answer, e.g. the bot's own getUpdates, shows it
    await hh.delivery.idle({ timeoutMs: 8000 });
    expect(keysShown(hh.fake, PRIVATE_CHAT)).toHaveLength(1);
    expect(keysShown(hh.fake, GROUP_CHAT)).toHaveLength(1);
    expect(sends(hh)).toHaveLength(4);
  });

  it("marks a chat that blocked the bot inactive, drops its queue and tells the admins once", async () => {
    const hh = await harness();
    hh.fake.blockBot(PRIVATE_CHAT);
    await hh.addIncidents(3);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 15_000 });
    const chat = await hh.store.chats.get(PRIVATE_CHAT);
    expect(chat).toMatchObject({ active: 0, state: "allowed" });
    expect(chat!.inactive_reason).toContain("blocked");
    expect(sends(hh, PRIVATE_CHAT)).toHaveLength(1); // the first refusal ends it; no retries
    expect(hh.notices).toHaveLength(1);
    expect(hh.notices[0]).toContain(String(PRIVATE_CHAT));
    expect(await hh.store.outbox.totals()).toMatchObject({ cancelled: 3, sent: 3 });
    expect(keysShown(hh.fake, GROUP_CHAT)).toHaveLength(3);
  });

  it("follows a group that became a supergroup and sends there", async () => {
    const hh = await harness();
    const oldGroup = -4001;
    const newGroup = -1004001;
    hh.fake.addChat({ id: oldGroup, type: "group", title: "Old SOC" });
    await hh.store.chats.remember({ id: oldGroup, kind: "group", title: "Old SOC" });
    await hh.store.chats.setState(oldGroup, "allowed", 1);
    hh.fake.migrateChat(oldGroup, newGroup);
    await hh.addIncidents(2);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 15_000 });
    expect(keysShown(hh.fake, newGroup)).toHaveLength(2);
    expect(hh.fake.messages(oldGroup)).toHaveLength(0);
    expect(await hh.store.chats.get(oldGroup)).toBeUndefined();
    expect(await hh.store.chats.get(newGroup)).toMatchObject({ state: "allowed", active: 1 });
    expect(hh.notices.join("\n")).toContain(String(newGroup));
  });

  it("resends as plain text when Telegram cannot parse the HTML", async () => {
    const hh = await harness();
    await hh.store.chats.setState(GROUP_CHAT, "denied", 1);
    hh.fake.failNext("sendMessage", { code: 400, description: "Bad Request: can't parse entities: bad tag" });
    const [id] = await hh.addIncidents(1);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    const [message] = hh.fake.messages(PRIVATE_CHAT);
    expect(message!.parseMode).toBeUndefined();
    expect(message!.text).toContain(hh.emu.state.get(id!)!.key);
    expect(message!.text).not.toContain("<b>");
    expect(await hh.metric("deliveries", { result: "plain_fallback" })).toBe(1);
  });

  it("sends to the General topic when the chat's forum topic is gone, and remembers it", async () => {
    const hh = await harness();
    await hh.store.chats.setState(PRIVATE_CHAT, "denied", 1);
    await hh.store.chats.setThread(GROUP_CHAT, 99);
    hh.fake.failNext("sendMessage", { code: 400, description: "Bad Request: message thread not found" });
    await hh.addIncidents(2);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    const messages = hh.fake.messages(GROUP_CHAT);
    expect(messages).toHaveLength(2);
    expect(messages.every((m) => m.threadId === undefined && m.parseMode === "HTML")).toBe(true);
    expect((await hh.store.chats.get(GROUP_CHAT))!.thread_id).toBeNull();
    expect(sends(hh)).toHaveLength(3); // the refused one, then each incident once
  });

  it("gives up on a message Telegram refuses even as plain text, and goes on with the next", async () => {
    const hh = await harness();
    await hh.store.chats.setState(GROUP_CHAT, "denied", 1);
    hh.fake.failNext("sendMessage", { code: 400, description: "Bad Request: message is too long" }, 2);
    const ids = await hh.addIncidents(2);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    expect(keysShown(hh.fake, PRIVATE_CHAT)).toEqual([hh.emu.state.get(ids[1]!)!.key]);
    expect(sends(hh)).toHaveLength(3); // HTML, plain, then the next incident — no loop
    expect(await hh.metric("deliveries", { result: "failed" })).toBe(1);
    expect(await hh.store.outbox.totals()).toMatchObject({ cancelled: 1, sent: 1 });
  });
});

describe("edits", () => {
  it("edits every copy after the incident changes, and treats 'not modified' as done", async () => {
    const hh = await harness();
    const [id] = await hh.addIncidents(1);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });

    hh.emu.state.setStatus(id!, "Approved");
    const details = await hh.siem.getIncident(id!);
    const { changed } = (await hh.store.incidents.refresh(details, undefined, {
      status: "Approved",
      by: "@ivan",
      at: new Date(),
    }))!;
    expect(changed).toBe(true);
    hh.fake.failNext("editMessageText", {
      code: 400,
      description:
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
    });
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 10_000 });

    const edited = hh.fake.messages().filter((m) => m.edits === 1);
    expect(edited).toHaveLength(1); // the other one answered "not modified"
    expect(edited[0]!.plainText).toContain("@ivan");
    expect(JSON.stringify(edited[0]!.replyMarkup)).not.toContain("Approve");
    expect(JSON.stringify(edited[0]!.replyMarkup)).toContain("Refresh");
    expect(await hh.metric("edits", { result: "edited" })).toBe(1);
    expect(await hh.metric("edits", { result: "not_modified" })).toBe(1);
    expect(await hh.store.outbox.staleCopies()).toEqual([]);
    expect(hh.fake.calls.filter((c) => c.method === "editMessageText")).toHaveLength(2);
  });

  it("never edits copies in a chat that was denied or banned; other chats are still edited", async () => {
    const hh = await harness();
    const other = -1009000000077;
    hh.fake.addChat({ id: other, type: "supergroup", title: "Banned SOC" });
    await hh.store.chats.remember({ id: other, kind: "supergroup", title: "Banned SOC" });
    await hh.store.chats.setState(other, "allowed", 1);
    const [id] = await hh.addIncidents(1);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    expect(hh.fake.messages()).toHaveLength(3);

    // An admin denies one chat and bans another; both stay "active" (the bot was not removed).
    await hh.store.chats.setState(GROUP_CHAT, "denied", 1);
    await hh.store.chats.setState(other, "banned", 1);
    await hh.store.incidents.refresh({ ...(await hh.siem.getIncident(id!)), name: "Renamed by the SIEM" });
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 10_000 });

    const edits = hh.fake.calls.filter((c) => c.method === "editMessageText");
    expect(edits.map((c) => c.params.chat_id)).toEqual([PRIVATE_CHAT]);
    expect(hh.fake.messages(PRIVATE_CHAT)[0]!.plainText).toContain("Renamed by the SIEM");
    expect(hh.fake.messages(GROUP_CHAT)[0]!.plainText).not.toContain("Renamed by the SIEM");
    expect(await hh.store.outbox.staleChatIds()).toEqual([]);
  });

  it("stops editing a copy whose message was deleted", async () => {
    const hh = await harness();
    const [id] = await hh.addIncidents(1);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    const copy = (await hh.store.outbox.copyIn(id!, PRIVATE_CHAT))!;
    await hh.api.deleteMessage(PRIVATE_CHAT, copy.messageId);

    await hh.store.incidents.refresh({ ...(await hh.siem.getIncident(id!)), name: "Renamed by the SIEM" });
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    expect(await hh.metric("edits", { result: "gone" })).toBe(1);
    expect(hh.fake.messages(GROUP_CHAT)[0]!.plainText).toContain("Renamed by the SIEM");
    const editCalls = hh.fake.calls.filter((c) => c.method === "editMessageText");
    expect(editCalls.filter((c) => c.params.chat_id === PRIVATE_CHAT)).toHaveLength(1);
    expect(sends(hh)).toHaveLength(2); // a deleted message is not sent again
  });

  it("puts an edit before a waiting backlog in the same chat", async () => {
    const hh = await harness();
    await hh.store.chats.setState(GROUP_CHAT, "denied", 1);
    const [first] = await hh.addIncidents(1);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    await hh.delivery.stop();

    await hh.addIncidents(5);
    await hh.store.incidents.refresh({ ...(await hh.siem.getIncident(first!)), name: "Changed" });
    const fresh = hh.restart();
    const before = hh.fake.calls.length;
    fresh.start();
    await fresh.idle({ timeoutMs: 10_000 });
    const methods = hh.fake.calls.slice(before).map((c) => c.method);
    expect(methods[0]).toBe("editMessageText");
    expect(methods.filter((m) => m === "sendMessage")).toHaveLength(5);
  });
});

describe("stop()", () => {
  it("lets the message in flight finish and record its id, and sends nothing after", async () => {
    let inFlight: (() => void) | undefined;
    const started = new Promise<void>((resolve) => {
      inFlight = resolve;
    });
    // Holds each send 400 ms after it starts, as a slow network would.
    const slow: Transformer = async (prev, method, payload, signal) => {
      if (method === "sendMessage") {
        inFlight?.();
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      return prev(method, payload, signal);
    };
    const hh = await harness({ transformers: [slow] });
    await hh.store.chats.setState(GROUP_CHAT, "denied", 1);
    await hh.addIncidents(3);
    hh.delivery.start();
    await started;
    await hh.delivery.stop();
    expect(hh.fake.messages(PRIVATE_CHAT)).toHaveLength(1);
    expect(await hh.store.outbox.totals()).toMatchObject({ sent: 1, pending: 2 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sends(hh)).toHaveLength(1);
  });

  it("returns at once when the chat is waiting out a retry_after", async () => {
    const hh = await harness({ tuning: { stopTimeoutMs: 20_000 } });
    await hh.addIncidents(1);
    hh.pacer.recordRetryAfter(PRIVATE_CHAT, 60);
    hh.pacer.recordRetryAfter(GROUP_CHAT, 60);
    hh.delivery.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const began = Date.now();
    await hh.delivery.stop();
    expect(Date.now() - began).toBeLessThan(10_000); // not the 60 s ban, not the 20 s grace
    expect(sends(hh)).toHaveLength(0);
  });
});
