// A real store in a temp folder, the fake Bot API and the MP SIEM emulator over loopback HTTP,
// and a Delivery wired to them as the service wires it.
import { join } from "node:path";
import { Api, type Transformer } from "grammy";
import pino from "pino";
import { type FakeBotApi, type FakeRateLimits, startFakeBotApi } from "../../src/botapi-fake/index.js";
import type { Config } from "../../src/config/types.js";
import {
  Delivery,
  type DeliveryTuning,
  Pacer,
  type PacerLimits,
  pacingTransformer,
} from "../../src/delivery/index.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { Metrics } from "../../src/http/metrics.js";
import { IncidentReader } from "../../src/intake/index.js";
import { createSiemClient } from "../../src/siem/client.js";
import type { SiemClient } from "../../src/siem/types.js";
import { openStore, type Route, type Store } from "../../src/store/index.js";
import { tempDir } from "../helpers/tmp.js";

export const PRIVATE_CHAT = 4242;
export const GROUP_CHAT = -1001234567890;

/** Pacing far above the fake's limits is only used where the fake's flood control is off. */
export const FAST_PACE: Partial<PacerLimits> = {
  perChatPerSec: 200,
  perChatBurst: 50,
  perGroupPerMin: 10_000,
  perBotPerSec: 1000,
};

export interface HarnessOptions {
  /** The fake's flood control; default Telegram's numbers. false = off. */
  fakeLimits?: false | FakeRateLimits;
  pacerLimits?: Partial<PacerLimits>;
  tuning?: Partial<DeliveryTuning>;
  /** Extra transformers installed before the pacing one (test instrumentation). */
  transformers?: Transformer[];
  locale?: "ru" | "en";
}

export interface Harness {
  store: Store;
  fake: FakeBotApi;
  emu: RunningEmulator;
  siem: SiemClient;
  api: Api;
  pacer: Pacer;
  metrics: Metrics;
  config: Config;
  notices: string[];
  delivery: Delivery;
  /** A fresh Delivery on the same store (a restart); the old one must be stopped first. */
  restart(): Delivery;
  /**
   * Creates incidents in the emulator (one second apart) and queues them as the intake would, through
   * `route` when given (which chats, topics and loudness).
   */
  addIncidents(n: number, input?: { name?: string; severity?: string }, route?: Route): Promise<string[]>;
  /** Metric value for one label set. */
  metric(name: "deliveries" | "edits", labels: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

let sequence = 0;

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const tmp = tempDir("mpsiem-delivery-");
  const store = await openStore(join(tmp.dir, "bot.db"));
  const fake = await startFakeBotApi(opts.fakeLimits === undefined ? {} : { limits: opts.fakeLimits });
  const emu = await startEmulator({ seed: 7 });
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
    telegram: { botToken: fake.token, adminIds: [1], apiRoot: fake.apiRoot },
    bot: {
      dbPath: join(tmp.dir, "bot.db"),
      pollIntervalMs: 1000,
      initialLookbackMs: 0,
      overlapMs: 600_000,
      changeWindowMs: 7 * 86_400_000,
      timeZone: "Europe/Moscow",
      locale: opts.locale ?? "en",
      maxEvents: 3,
      httpPort: 0,
      httpHost: "127.0.0.1",
      actionPolicy: "users",
    },
    logLevel: "error",
  };
  const siem = createSiemClient({ config: config.siem, retry: { attempts: 1 } });
  const metrics = new Metrics({ processMetrics: false });
  const pacer = new Pacer({ metrics, ...(opts.pacerLimits ? { limits: opts.pacerLimits } : {}) });
  const api = new Api(fake.token, { apiRoot: fake.apiRoot });
  for (const transformer of opts.transformers ?? []) api.config.use(transformer);
  api.config.use(pacingTransformer(pacer));
  const notices: string[] = [];
  const logger = pino({ level: "silent" });

  fake.addChat({ id: PRIVATE_CHAT, type: "private", first_name: "Alice", username: "alice" });
  fake.addChat({ id: GROUP_CHAT, type: "supergroup", title: "SOC", is_forum: true });
  for (const [id, kind] of [
    [PRIVATE_CHAT, "private"],
    [GROUP_CHAT, "supergroup"],
  ] as const) {
    await store.chats.remember({ id, kind, title: kind === "private" ? null : "SOC" });
    await store.chats.setState(id, "allowed", 1);
  }

  const make = () =>
    new Delivery({
      config,
      store,
      api,
      pacer,
      logger,
      metrics,
      notifyAdmins: async (text) => {
        notices.push(text);
      },
      tuning: { idleIntervalMs: 50, backoffBaseMs: 50, backoffMaxMs: 400, ...opts.tuning },
    });

  const harness: Harness = {
    store,
    fake,
    emu,
    siem,
    api,
    pacer,
    metrics,
    config,
    notices,
    delivery: make(),
    restart() {
      harness.delivery = make();
      return harness.delivery;
    },
    async addIncidents(n, input = {}, route) {
      const base = Date.now() - 3_600_000 + sequence * 1000;
      const created = Array.from({ length: n }, (_, i) =>
        emu.state.addIncident({
          ...input,
          created: new Date(base + i * 1000),
          eventsCount: 2,
        }),
      );
      sequence += n;
      const ids = new Set(created.map((c) => c.id));
      const listed = await siem.listIncidents({ from: new Date(base - 1000), timeType: "creation" });
      // Details and first events read before queueing, as intake does for a few new incidents.
      const reader = new IncidentReader({ siem, store, maxEvents: config.bot.maxEvents });
      const reads = new Map(
        await Promise.all(created.map(async (c) => [c.id, await reader.read(c.id)] as const)),
      );
      await store.incidents.ingest(
        listed.filter((i) => ids.has(i.id)),
        null,
        route === undefined ? { reads } : { reads, route },
      );
      return created.map((c) => c.id);
    },
    async metric(name, labels) {
      const data = await metrics[name].get();
      return data.values
        .filter((v) =>
          Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
        )
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      await harness.delivery.stop();
      pacer.stop();
      await siem.close();
      await Promise.allSettled([fake.close(), emu.close()]);
      await store.close();
      tmp.cleanup();
    },
  };
  return harness;
}

/** Incident keys ("INC-12") in the order they appear in a chat's messages (singles and digests). */
export function keysShown(fake: FakeBotApi, chatId: number): string[] {
  return fake.messages(chatId).flatMap((m) => [...m.plainText.matchAll(/INC-\d+/g)].map((x) => x[0]));
}
