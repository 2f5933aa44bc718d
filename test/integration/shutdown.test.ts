// stop() of the whole service takes at most 5 s (the CLI's limit) in every state it can be in, sends
// nothing after it began, and leaves the database closed with every sent message's id recorded:
// mid-burst, inside a 429's retry_after, while Telegram hangs, and with sends queued behind pacing.
import { afterEach, describe, expect, it } from "vitest";
import type { RecordedCall } from "../../src/botapi-fake/index.js";
import { openStore } from "../../src/store/index.js";
import {
  ensureBuilt,
  GROUP_CHAT,
  keysIn,
  PRIVATE_CHAT,
  type RunningService,
  sleep,
  startWorld,
  type World,
  waitUntil,
} from "./harness.js";

const STOP_LIMIT_MS = 5_000;
const POSTS = new Set(["sendMessage", "editMessageText", "editMessageReplyMarkup"]);

let world: World | undefined;

afterEach(async () => {
  world?.fake.release();
  await world?.close();
  world = undefined;
});

/** A service polling Telegram and the SIEM, with `chats` allowed. */
async function started(chats: number[], fakeLimits?: false): Promise<{ w: World; running: RunningService }> {
  const w = await startWorld(fakeLimits === false ? { fakeLimits: false } : {});
  world = w;
  await w.allowInStore(chats);
  const running = await w.startInProcess();
  await waitUntil("the bot polls Telegram", () => running.logged("polling for updates").length > 0, 15_000, {
    pollMs: 50,
  });
  await waitUntil(
    "the first SIEM poll",
    () => running.service.parts.intake.status().lastSuccessAt !== null,
    10_000,
    {
      pollMs: 50,
    },
  );
  return { w, running };
}

/** Stops the service; returns how long it took and the posts the fake received after stop began. */
async function stopAndWatch(w: World, running: RunningService, began = Date.now()) {
  await running.stop();
  const tookMs = Date.now() - began;
  if (process.env.INTEGRATION_FIGURES) console.info(`stop took ${tookMs} ms`);
  await sleep(500); // a send issued late would have reached the fake by now
  const late = w.fake.calls.filter((c: RecordedCall) => POSTS.has(c.method) && c.at > began);
  return { tookMs, late };
}

async function expectStoreClosedWithIdsRecorded(w: World, running: RunningService): Promise<void> {
  await expect(running.service.parts.store.outbox.totals()).rejects.toThrow();
  // Every incident message the fake holds has its id recorded: a restart would not send it again.
  const store = await openStore(w.dbPath);
  try {
    for (const chatId of [PRIVATE_CHAT, GROUP_CHAT]) {
      const shown = w.incidentMessages(chatId).filter((m) => keysIn(m).length === 1);
      for (const message of shown) {
        const incident = w.emu.state.listAll().find((i) => i.key === keysIn(message)[0]);
        const copy = await store.outbox.copyIn(incident!.id, chatId);
        expect(copy?.messageId, `chat ${chatId}: ${keysIn(message)[0]}`).toBe(message.messageId);
      }
    }
  } finally {
    await store.close();
  }
}

describe("stopping the service", () => {
  it("mid-burst: lets the send in flight finish and record its id, then sends nothing", async () => {
    const { w, running } = await started([PRIVATE_CHAT]);
    w.fake.delayAnswers(300); // every send is in flight for a while
    w.emu.state.addBurst(10);
    let began = 0;
    const stopping = new Promise<{ tookMs: number; late: RecordedCall[] }>((done, fail) => {
      const unsubscribe = w.fake.onMessage((event) => {
        if (event.kind !== "sent" || event.message.chatId !== PRIVATE_CHAT) return;
        if (w.incidentMessages(PRIVATE_CHAT).length < 3) return;
        unsubscribe();
        // Synchronously, while this send's answer is still on its way.
        began = Date.now();
        stopAndWatch(w, running, began).then(done, fail);
      });
    });
    const { tookMs, late } = await stopping;
    expect(began).toBeGreaterThan(0);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    expect(late).toEqual([]);
    expect(w.incidentMessages(PRIVATE_CHAT)).toHaveLength(3);
    await expectStoreClosedWithIdsRecorded(w, running);
  }, 60_000);

  it("inside a retry_after: returns at once and sends nothing", async () => {
    const { w, running } = await started([PRIVATE_CHAT]);
    w.fake.failNext("sendMessage", {
      code: 429,
      description: "Too Many Requests: retry after 30",
      retryAfter: 30,
    });
    w.emu.state.addIncident();
    await waitUntil(
      "the 429",
      () => w.fake.calls.some((c) => (c.response as { error_code?: number } | undefined)?.error_code === 429),
      10_000,
      { pollMs: 20 },
    );
    await sleep(300); // the service is now waiting out the 30 s
    const { tookMs, late } = await stopAndWatch(w, running);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    expect(late).toEqual([]);
    await expectStoreClosedWithIdsRecorded(w, running);
  }, 60_000);

  it("while Telegram hangs: gives up on the hung calls in time and sends nothing", async () => {
    const { w, running } = await started([PRIVATE_CHAT, GROUP_CHAT]);
    w.fake.hang("*");
    w.emu.state.addIncident();
    // Both chats' sends hang (each chat has its own send window), so any send the fake sees after the
    // stop began was issued after it.
    const hungIn = (chatId: number) =>
      w.fake.calls.some(
        (c) =>
          c.method === "sendMessage" &&
          c.response === undefined &&
          (c.params as { chat_id?: number }).chat_id === chatId,
      );
    await waitUntil("a send hangs in each chat", () => hungIn(PRIVATE_CHAT) && hungIn(GROUP_CHAT), 10_000, {
      pollMs: 20,
    });
    const { tookMs, late } = await stopAndWatch(w, running);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    expect(late).toEqual([]);
    await expectStoreClosedWithIdsRecorded(w, running);
  }, 60_000);

  it("while Telegram has hung since the start (getMe never answered): stops in time", async () => {
    const w = await startWorld();
    world = w;
    await w.allowInStore([PRIVATE_CHAT]);
    w.fake.hang("*");
    const running = await w.startInProcess();
    await waitUntil(
      "the first SIEM poll",
      () => running.service.parts.intake.status().lastSuccessAt !== null,
      10_000,
      {
        pollMs: 50,
      },
    );
    w.emu.state.addIncident();
    await waitUntil(
      "getMe and a send hang",
      () => ["getMe", "sendMessage"].every((m) => w.fake.calls.some((c) => c.method === m)),
      10_000,
      { pollMs: 20 },
    );
    const { tookMs, late } = await stopAndWatch(w, running);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    expect(late).toEqual([]);
    await expectStoreClosedWithIdsRecorded(w, running);
  }, 60_000);

  it("while the SIEM hangs: stops in time", async () => {
    const { w, running } = await started([PRIVATE_CHAT]);
    const polls = () => w.emu.state.faults().hangCalls;
    w.emu.state.hang(1_000);
    await waitUntil("a SIEM call hangs", () => polls() < 1_000, 10_000, { pollMs: 20 });
    const { tookMs, late } = await stopAndWatch(w, running);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    expect(late).toEqual([]);
    await expectStoreClosedWithIdsRecorded(w, running);
  }, 60_000);

  it("with sends queued behind Telegram's pace: stops the waits and sends nothing", async () => {
    // Telegram's real limits: 20 incidents in two chats take about 20 s to send one by one.
    const { w, running } = await started([PRIVATE_CHAT, GROUP_CHAT]);
    const keys = w.emu.state.addBurst(20).map((i) => i.key);
    await waitUntil(
      "the first messages",
      () => w.incidentMessages(PRIVATE_CHAT).length >= 2 && w.incidentMessages(GROUP_CHAT).length >= 2,
      15_000,
      { pollMs: 20 },
    );
    const { tookMs, late } = await stopAndWatch(w, running);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    expect(late).toEqual([]);
    expect(w.tally(PRIVATE_CHAT, keys).missing.length).toBeGreaterThan(0); // stopped mid-queue indeed
    await expectStoreClosedWithIdsRecorded(w, running);
  }, 60_000);

  it("as the CLI with SIGTERM while Telegram hangs: exits 0 within 5 s, sends nothing after", async () => {
    await ensureBuilt();
    const w = await startWorld();
    world = w;
    await w.allowInStore([PRIVATE_CHAT]);
    const child = w.startChild();
    await child.started;
    await waitUntil("the first SIEM poll", () => child.output().includes("first SIEM poll"), 15_000, {
      pollMs: 50,
    });
    w.fake.hang("*");
    w.emu.state.addIncident();
    await waitUntil(
      "a send hangs",
      () => w.fake.calls.some((c) => c.method === "sendMessage" && c.response === undefined),
      10_000,
      { pollMs: 20 },
    );
    const began = Date.now();
    child.child.kill("SIGTERM");
    const exit = await child.exited;
    const tookMs = Date.now() - began;
    if (process.env.INTEGRATION_FIGURES) console.info(`CLI stop took ${tookMs} ms`);
    expect(exit.code, child.output()).toBe(0);
    expect(tookMs).toBeLessThanOrEqual(STOP_LIMIT_MS);
    await sleep(300);
    expect(w.fake.calls.filter((c) => POSTS.has(c.method) && c.at > began)).toEqual([]);
  }, 120_000);
});
