// Shared set-up for tests that drive the real Telegram bot over HTTP: the fake Bot API, the MP SIEM
// emulator with a real SIEM client, a real store in a temp folder, and the bot itself (long polling).
// `restart()` closes the bot and the store and opens both again on the same database file.
import type { Transformer } from "grammy";
import pino from "pino";
import {
  type FakeBotApi,
  type FakeRateLimits,
  type FakeUser,
  startFakeBotApi,
} from "../../src/botapi-fake/index.js";
import type { ActionPolicy, Config, Locale } from "../../src/config/types.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { Metrics } from "../../src/http/metrics.js";
import { IncidentReader } from "../../src/intake/index.js";
import { renderIncident } from "../../src/render/index.js";
import { createSiemClient } from "../../src/siem/client.js";
import type { SiemClient } from "../../src/siem/types.js";
import { type AuditEntry, openStore, type Store } from "../../src/store/index.js";
import { createTelegramBot, type TelegramBot } from "../../src/telegram/bot.js";
import { toReplyMarkup } from "../../src/telegram/send.js";
import { tempDir } from "./tmp.js";

export interface TelegramHarnessOptions {
  locale?: Locale;
  actionPolicy?: ActionPolicy;
  /** Default [9001, 9002]: two admins, so "every admin's copy" means something. */
  adminIds?: number[];
  pingAnimation?: string;
  /** Flood control in the fake; off by default so tests are not slowed by pacing. */
  limits?: false | FakeRateLimits;
  commandRateLimit?: { limit: number; windowMs: number };
  pressRateLimit?: { limit: number; windowMs: number };
  /** Lines /debug shows as recent log lines. */
  logLines?: string[];
  debugInfo?: Record<string, string | number>;
  /** Extra settings for the config (e.g. a secret to check that /debug hides it). */
  configure?: (config: Config) => void;
  /** The bot's clock (tests that move time: confirmations expiring, downtime). */
  now?: () => number;
  /** Installed on the bot's Api, as the service installs its pacer there. */
  apiTransformers?: Transformer[];
}

export interface DeliveredIncident {
  id: string;
  /** message id of the copy in each chat */
  messages: Map<number, number>;
}

export interface TelegramHarness {
  fake: FakeBotApi;
  emu: RunningEmulator;
  siem: SiemClient;
  store: Store;
  telegram: TelegramBot;
  config: Config;
  metrics: Metrics;
  /** Incident ids passed to onIncidentChanged, in order. */
  changed: string[];
  admins: FakeUser[];
  /** Waits until `count` log lines with this message have been written (bounded). */
  waitForLog(msg: string, count?: number, timeoutMs?: number): Promise<void>;
  /** Sends a message as `from` and waits until the bot has answered that chat (a new bot message). */
  say(from: FakeUser, chatId: number, text: string, extra?: { threadId?: number }): Promise<void>;
  /** Presses a button and waits for its answerCallbackQuery; returns the answer text. */
  press(
    from: FakeUser,
    chatId: number,
    messageId: number,
    data: string,
    timeoutMs?: number,
  ): Promise<string | undefined>;
  /** Puts a new incident in the emulator and "delivers" it to the chats as delivery would (store + a sent message). */
  deliverIncident(
    chatIds: number[],
    input?: Parameters<RunningEmulator["state"]["addIncident"]>[0],
  ): Promise<DeliveredIncident>;
  audit(): Promise<AuditEntry[]>;
  /** Polls an async condition (e.g. on the store) until it holds; rejects after timeoutMs. */
  until(pred: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Bot messages whose text contains `needle`, in one chat. */
  textsIn(chatId: number): string[];
  /** Stops the bot and closes the store, runs `whileStopped` (e.g. queue updates), then opens both again. */
  restart(whileStopped?: () => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

const BOT_TOKEN = "123456:TEST-TOKEN";

export async function startTelegramHarness(opts: TelegramHarnessOptions = {}): Promise<TelegramHarness> {
  const tmp = tempDir("mpsiem-tg-bot-");
  const adminIds = opts.adminIds ?? [9001, 9002];
  const fake = await startFakeBotApi({ token: BOT_TOKEN, limits: opts.limits ?? false });
  const emu = await startEmulator({ seed: 7 });
  const admins: FakeUser[] = adminIds.map((id, i) => ({
    id,
    username: `admin${i + 1}`,
    first_name: `Admin${i + 1}`,
  }));
  for (const a of admins)
    fake.addChat({ id: a.id, type: "private", first_name: a.first_name, username: a.username });

  const config: Config = {
    siem: {
      url: emu.coreUrl,
      authUrl: emu.authUrl,
      username: "siem",
      password: "siem",
      clientId: "mpx",
      clientSecret: "emulator-secret",
      tlsVerify: true,
      timeoutMs: 5000,
    },
    telegram: {
      botToken: BOT_TOKEN,
      adminIds,
      apiRoot: fake.apiRoot,
      ...(opts.pingAnimation ? { pingAnimation: opts.pingAnimation } : {}),
    },
    bot: {
      dbPath: `${tmp.dir}/bot.db`,
      pollIntervalMs: 1000,
      initialLookbackMs: 0,
      overlapMs: 600_000,
      changeWindowMs: 7 * 86_400_000,
      timeZone: "Europe/Moscow",
      locale: opts.locale ?? "ru",
      maxEvents: 5,
      httpPort: 0,
      httpHost: "127.0.0.1",
      actionPolicy: opts.actionPolicy ?? "users",
    },
    logLevel: "info",
  };
  opts.configure?.(config);

  // Log lines are kept so tests can wait for things that leave no other trace (a dropped update).
  const logLines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  const siem = createSiemClient({
    config: config.siem,
    retry: { attempts: 1, baseDelayMs: 50, maxDelayMs: 100 },
  });
  const metrics = new Metrics({ processMetrics: false });
  const changed: string[] = [];
  let store = await openStore(config.bot.dbPath);
  let telegram = await startBot();

  async function startBot(): Promise<TelegramBot> {
    const bot = createTelegramBot({
      config,
      store,
      siem,
      reader: new IncidentReader({
        siem,
        store,
        maxEvents: config.bot.maxEvents,
        ...(opts.now ? { now: opts.now } : {}),
      }),
      logger,
      metrics,
      onIncidentChanged: (id) => changed.push(id),
      debugInfo: async () => opts.debugInfo ?? { watermark: "2024-01-01T00:00:00Z", outbox: 0 },
      recentLogLines: () => opts.logLines ?? [],
      commandRateLimit: opts.commandRateLimit,
      ...(opts.pressRateLimit ? { pressRateLimit: opts.pressRateLimit } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.apiTransformers ? { apiTransformers: opts.apiTransformers } : {}),
    });
    await bot.start();
    return bot;
  }

  const harness: TelegramHarness = {
    fake,
    emu,
    siem,
    get store() {
      return store;
    },
    get telegram() {
      return telegram;
    },
    config,
    metrics,
    changed,
    admins,
    async waitForLog(msg, count = 1, timeoutMs = 5000) {
      const needle = JSON.stringify(msg);
      await fake.waitFor(
        () => logLines.filter((l) => l.includes(`"msg":${needle}`)).length >= count,
        timeoutMs,
      );
    },
    async say(from, chatId, text, extra) {
      const before = fake.messages(chatId).length;
      fake.sendText(from, chatId, text, extra);
      await fake.waitFor(() => fake.messages(chatId).length > before, 5000);
    },
    async press(from, chatId, messageId, data, timeoutMs = 5000) {
      const id = fake.pressButton(from, chatId, messageId, data);
      await fake.waitFor(() => fake.answeredCallbacks().has(id), timeoutMs);
      return fake.answeredCallbacks().get(id)?.text;
    },
    async deliverIncident(chatIds, input) {
      const created = emu.state.addIncident({ status: "New", eventsCount: 3, ...input });
      const details = await siem.getIncident(created.id);
      const events = await siem.getEvents(created.id, config.bot.maxEvents);
      await store.incidents.ingest([details], null);
      const refreshed = await store.incidents.refresh(details, events);
      const incident = refreshed!.incident;
      const rendered = renderIncident(
        {
          incident: { ...details },
          events: incident.events,
          totalEvents: incident.totalEvents,
          lastAction: incident.lastAction,
        },
        { locale: config.bot.locale, timeZone: config.bot.timeZone, siemUrl: config.siem.url, maxEvents: 5 },
      );
      const messages = new Map<number, number>();
      for (const chatId of chatIds) {
        const row = (await store.outbox.pendingForChat(chatId)).find((r) => r.incidentId === created.id);
        if (!row) throw new Error(`chat ${chatId} does not receive incidents: allow it first`);
        const sent = await telegram.bot.api.sendMessage(chatId, rendered.html, {
          parse_mode: "HTML",
          reply_markup: toReplyMarkup(rendered.keyboard),
        });
        await store.outbox.markSent([row.id], sent.message_id, "single", incident.version);
        messages.set(chatId, sent.message_id);
      }
      return { id: created.id, messages };
    },
    audit: () => store.audit.recent(500),
    async until(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await pred())) {
        if (Date.now() >= deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    },
    textsIn(chatId) {
      return fake.messages(chatId).map((m) => m.plainText);
    },
    async restart(whileStopped) {
      await telegram.stop();
      await store.close();
      await whileStopped?.();
      store = await openStore(config.bot.dbPath);
      telegram = await startBot();
    },
    async close() {
      await telegram.stop();
      await store.close();
      await siem.close();
      await emu.close();
      await fake.close();
      tmp.cleanup();
    },
  };
  return harness;
}
