// A chat's lane under issue 13 (routing and noise control), against a real store and the fake Bot API
// (which records the parameters of every call): High incidents alone and ahead of the rest, digests
// decided from the chat's own backlog and packed full, silent rows sent without a notification and
// marked 🔕 (in every edit too), and each row sent into its own forum topic.
import type { Transformer } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { storedSummary } from "../../src/delivery/index.js";
import { renderDigestPage } from "../../src/render/index.js";
import type { Route, RoutedDelivery } from "../../src/store/index.js";
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
  h = await startHarness(opts);
  return h;
}

const CHATS = [PRIVATE_CHAT, GROUP_CHAT];

function sends(hh: Harness, chatId: number) {
  return hh.fake.calls.filter(
    (c) => c.method === "sendMessage" && c.params.chat_id === chatId && (c.response as { ok?: boolean })?.ok,
  );
}

function keysOf(text: string): string[] {
  return [...text.matchAll(/INC-\d+/g)].map((m) => m[0]);
}

const keyOf = (hh: Harness, id: string) => hh.emu.state.get(id)!.key;

/** k: how many of these incidents one full digest holds (lines of this content, in this order). */
async function perDigest(hh: Harness, ids: string[]): Promise<number> {
  const stored = await hh.store.incidents.getMany(ids);
  const page = renderDigestPage(
    ids.map((id) => storedSummary(stored.get(id)!)),
    options(hh),
  );
  return page!.included.length;
}

function options(hh: Harness) {
  return {
    locale: hh.config.bot.locale,
    timeZone: hh.config.bot.timeZone,
    siemUrl: hh.config.siem.url,
    maxEvents: hh.config.bot.maxEvents,
  };
}

const loud = (chatId: number, threadId: number | null = null): RoutedDelivery => ({
  chatId,
  threadId,
  silent: false,
  muteId: null,
});

describe("High first", () => {
  it("a High incident inside a 300-incident burst arrives as its own card, before the digests, in every chat", async () => {
    // Telegram's own limits in the fake and the pacer's defaults.
    const hh = await harness();
    const low = await hh.addIncidents(150, { severity: "Low" });
    const [high] = await hh.addIncidents(1, { severity: "High" });
    const medium = await hh.addIncidents(149, { severity: "Medium" });
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 30_000 });

    const highKey = keyOf(hh, high!);
    // The lane's order after the High one: Medium before Low, each oldest first.
    const rest = [...medium, ...low];
    const k = await perDigest(hh, rest);
    for (const chatId of CHATS) {
      const messages = hh.fake.messages(chatId);
      expect(keysOf(messages[0]!.plainText), `chat ${chatId}`).toEqual([highKey]);
      expect(JSON.stringify(messages[0]!.replyMarkup)).toContain("Approve");
      for (const digest of messages.slice(1)) {
        expect(keysOf(digest.plainText).length).toBeGreaterThan(1);
        expect(digest.plainText).not.toContain(`${highKey} `);
      }
      expect(keysShown(hh.fake, chatId)).toEqual([highKey, ...rest.map((id) => keyOf(hh, id))]);
      // Packed full: the one High card, then ⌈299 / k⌉ digests (+ 2 at most).
      expect(messages.length).toBeLessThanOrEqual(1 + Math.ceil(rest.length / k) + 2);
    }
    expect(hh.fake.stats().tooManyRequests).toBe(0);
  });

  it("a High incident queued while a flood goes out overtakes the rows still queued", async () => {
    let highId: string | undefined;
    let queueHigh: Promise<void> | undefined;
    // At the first message of the flood, a High incident arrives (queued before that call returns).
    const arriveDuringFlood: Transformer = async (prev, method, payload, signal) => {
      if (method === "sendMessage" && queueHigh === undefined && h !== undefined) {
        const hh = h;
        queueHigh = hh.addIncidents(1, { severity: "High" }).then(([id]) => {
          highId = id;
        });
      }
      // No message of the flood is answered before the High one is queued.
      if (method === "sendMessage") await queueHigh;
      return prev(method, payload, signal);
    };
    const hh = await harness({ transformers: [arriveDuringFlood] });
    const flood = await hh.addIncidents(300, { severity: "Low" });
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 30_000 });

    const highKey = keyOf(hh, highId!);
    for (const chatId of CHATS) {
      const messages = hh.fake.messages(chatId);
      const at = messages.findIndex((m) => keysOf(m.plainText).includes(highKey));
      // The message in flight (or already chosen) when it arrived, then the High card.
      expect(at, `chat ${chatId}`).toBeLessThanOrEqual(1);
      expect(keysOf(messages[at]!.plainText)).toEqual([highKey]);
      expect(messages.length - 1).toBeGreaterThan(1); // the flood itself still went out in digests
      expect(new Set(keysShown(hh.fake, chatId))).toEqual(
        new Set([highKey, ...flood.map((id) => keyOf(hh, id))]),
      );
    }
  });
});

describe("digests", () => {
  it("are decided per chat from its own backlog: a chat whose filter admits a few gets cards", async () => {
    const hh = await harness();
    let n = 0;
    // The private chat's filter admits one incident in a hundred; the group takes them all.
    const route: Route = (_incident, recipients) =>
      recipients.filter((c) => c.id === GROUP_CHAT || n++ % 100 === 0).map((c) => loud(c.id));
    const ids = await hh.addIncidents(300, { severity: "Low" }, route);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 30_000 });

    const privateMessages = hh.fake.messages(PRIVATE_CHAT);
    expect(privateMessages).toHaveLength(3);
    for (const message of privateMessages) {
      expect(keysOf(message.plainText)).toHaveLength(1);
      expect(JSON.stringify(message.replyMarkup)).toContain("Approve");
    }
    expect(keysShown(hh.fake, PRIVATE_CHAT)).toEqual([0, 100, 200].map((i) => keyOf(hh, ids[i]!)));
    const k = await perDigest(hh, ids);
    const groupMessages = hh.fake.messages(GROUP_CHAT);
    expect(groupMessages.length).toBeLessThanOrEqual(Math.ceil(300 / k) + 2);
    expect(keysShown(hh.fake, GROUP_CHAT)).toEqual(ids.map((id) => keyOf(hh, id)));
  });

  it("send a 1,000-incident backlog in ⌈n/k⌉ + 2 messages per chat, each digest but the last one full", async () => {
    // The digest threshold short, as in flood.test.ts, so that the test does not wait out a minute of
    // a group's window; the limits are Telegram's.
    const hh = await harness({ tuning: { digestThresholdMs: 4_000 } });
    const ids = await hh.addIncidents(1000, { severity: "Low", name: "Network_port_scan" });
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 40_000 });
    const k = await perDigest(hh, ids);
    for (const chatId of CHATS) {
      const messages = hh.fake.messages(chatId);
      expect(keysShown(hh.fake, chatId)).toEqual(ids.map((id) => keyOf(hh, id)));
      expect(messages.length, `chat ${chatId}`).toBeLessThanOrEqual(Math.ceil(1000 / k) + 2);
      // Full: the next incident of the backlog would not have fitted into any digest but the last.
      const idOf = new Map(ids.map((id) => [keyOf(hh, id), id]));
      for (const [i, message] of messages.slice(0, -1).entries()) {
        const held = keysOf(message.plainText).map((key) => idOf.get(key)!);
        const next = idOf.get(keysOf(messages[i + 1]!.plainText)[0]!)!;
        expect(await perDigest(hh, [...held, next]), `chat ${chatId}, message ${i + 1}`).toBe(held.length);
      }
    }
    expect(hh.fake.stats().tooManyRequests).toBe(0);
  });
});

describe("silent delivery", () => {
  it("sends a silent row without a notification and marks its card 🔕, in every edit too", async () => {
    const hh = await harness({ fakeLimits: false, pacerLimits: FAST_PACE });
    const route: Route = (_incident, recipients) =>
      recipients.map((c) => ({
        ...loud(c.id),
        silent: c.id === PRIVATE_CHAT,
        muteId: c.id === PRIVATE_CHAT ? 7 : null,
      }));
    const [id] = await hh.addIncidents(1, {}, route);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });

    const [quiet] = sends(hh, PRIVATE_CHAT);
    const [ringing] = sends(hh, GROUP_CHAT);
    expect(quiet!.params.disable_notification).toBe(true);
    expect(ringing!.params.disable_notification).toBeUndefined();
    expect(hh.fake.messages(PRIVATE_CHAT)[0]!.plainText.split("\n")[0]).toMatch(
      new RegExp(` Incident ${keyOf(hh, id!)} · 🔕 silent$`),
    );
    expect(hh.fake.messages(GROUP_CHAT)[0]!.plainText).not.toContain("🔕");

    // Someone approves it: both copies are edited; the silent one keeps its mark.
    await hh.store.incidents.recordAction(id!, { status: "Approved", by: "@ivan", at: new Date() });
    hh.delivery.kick();
    await hh.delivery.idle({ timeoutMs: 10_000 });
    const edits = hh.fake.calls.filter((c) => c.method === "editMessageText");
    expect(edits).toHaveLength(2);
    for (const chatId of CHATS) {
      const message = hh.fake.messages(chatId)[0]!;
      expect(message.edits).toBe(1);
      expect(message.plainText).toContain("@ivan");
      expect(message.plainText.includes("🔕 silent")).toBe(chatId === PRIVATE_CHAT);
    }
  });

  it("sends a digest silently only when every incident in it is silent", async () => {
    const hh = await harness({ tuning: { digestThresholdMs: 4_000 } });
    let n = 0;
    // Every row to the private chat is silent; every other row to the group is.
    const route: Route = (_incident, recipients) => {
      n++;
      return recipients.map((c) => ({ ...loud(c.id), silent: c.id === PRIVATE_CHAT || n % 2 === 0 }));
    };
    await hh.addIncidents(300, { severity: "Low" }, route);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 30_000 });

    const quiet = sends(hh, PRIVATE_CHAT);
    const mixed = sends(hh, GROUP_CHAT);
    expect(quiet.length).toBeGreaterThan(1);
    expect(quiet.every((c) => c.params.disable_notification === true)).toBe(true);
    expect(
      hh.fake.messages(PRIVATE_CHAT).every((m) => m.plainText.split("\n")[0]!.endsWith("· 🔕 silent")),
    ).toBe(true);
    expect(mixed.every((c) => c.params.disable_notification === undefined)).toBe(true);
    expect(hh.fake.messages(GROUP_CHAT).some((m) => m.plainText.includes("🔕"))).toBe(false);
  });
});

describe("topics", () => {
  it("sends each row into its own topic, or the chat's when it has none, and never mixes topics in a digest", async () => {
    const hh = await harness({ tuning: { digestThresholdMs: 4_000 } });
    await hh.store.chats.setThread(GROUP_CHAT, 55);
    await hh.store.chats.setState(PRIVATE_CHAT, "denied", 1);
    let n = 0;
    // Alternately topic 77 and the chat's own topic (55).
    const route: Route = () => [loud(GROUP_CHAT, n++ % 2 === 0 ? 77 : null)];
    const ids = await hh.addIncidents(200, { severity: "Low" }, route);
    const [single] = await hh.addIncidents(1, { severity: "High" }, () => [loud(GROUP_CHAT, 77)]);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 30_000 });

    const topicOf = new Map(ids.map((id, i) => [keyOf(hh, id), i % 2 === 0 ? 77 : 55]));
    topicOf.set(keyOf(hh, single!), 77);
    const messages = hh.fake.messages(GROUP_CHAT);
    expect(keysOf(messages[0]!.plainText)).toEqual([keyOf(hh, single!)]);
    for (const message of messages) {
      const topics = new Set(keysOf(message.plainText).map((key) => topicOf.get(key)));
      expect(topics.size).toBe(1);
      expect(message.threadId).toBe([...topics][0]);
    }
    expect(new Set(keysShown(hh.fake, GROUP_CHAT))).toEqual(new Set(topicOf.keys()));
    expect(keysShown(hh.fake, GROUP_CHAT)).toHaveLength(201);
  });

  it("sends a row whose topic is gone to General, and its topic's next rows there at once; the chat's own topic stays", async () => {
    const hh = await harness({ fakeLimits: false, pacerLimits: FAST_PACE });
    await hh.store.chats.setThread(GROUP_CHAT, 55);
    await hh.store.chats.setState(PRIVATE_CHAT, "denied", 1);
    hh.fake.refusePosts(
      GROUP_CHAT,
      { code: 400, description: "Bad Request: message thread not found" },
      { threadId: 99 },
    );
    await hh.addIncidents(2, {}, () => [loud(GROUP_CHAT, 99)]);
    await hh.addIncidents(1, {}, () => [loud(GROUP_CHAT)]);
    hh.delivery.start();
    await hh.delivery.idle({ timeoutMs: 10_000 });

    const messages = hh.fake.messages(GROUP_CHAT);
    expect(messages.map((m) => m.threadId ?? null).sort()).toEqual([55, null, null].sort());
    const attempts = hh.fake.calls.filter((c) => c.method === "sendMessage");
    expect(attempts).toHaveLength(4); // one refused call to topic 99, then each incident once
    expect((await hh.store.chats.get(GROUP_CHAT))!.thread_id).toBe(55);
  });
});
