// The whole service in this process (startService) against the MP SIEM emulator and the fake Bot
// API, with chats allowed in the database beforehand: for the regression and hostile-user tests.
import { join } from "node:path";
import { type Service, startService } from "../../src/app.js";
import { type FakeBotApi, type FakeChat, startFakeBotApi } from "../../src/botapi-fake/index.js";
import type { Config } from "../../src/config/types.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { createLogger } from "../../src/log/logger.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/tmp.js";

export interface InProcessWorld {
  emu: RunningEmulator;
  fake: FakeBotApi;
  config: Config;
  /** Starts a service on the world's database (again, after a stop: a restart). */
  start(): Promise<Service>;
  close(): Promise<void>;
}

/** Polls `pred` every 25 ms; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

export async function startInProcessWorld(opts: {
  adminId: number;
  /** Chats the fake knows; those marked `allowed` receive incidents from the start. */
  chats: Array<FakeChat & { allowed?: boolean }>;
}): Promise<InProcessWorld> {
  const tmp = tempDir("mpsiem-inprocess-");
  const dbPath = join(tmp.dir, "bot.db");
  const emu = await startEmulator({ seed: 3 });
  const fake = await startFakeBotApi();
  fake.addChat({ id: opts.adminId, type: "private", first_name: "Admin" });
  const store = await openStore(dbPath);
  for (const { allowed, ...chat } of opts.chats) {
    fake.addChat(chat);
    if (!allowed) continue;
    await store.chats.remember({
      id: chat.id,
      kind: chat.type,
      title: chat.title,
      firstName: chat.first_name,
    });
    await store.chats.setState(chat.id, "allowed", opts.adminId);
  }
  await store.close();
  const config: Config = {
    siem: {
      url: emu.coreUrl,
      authUrl: emu.authUrl,
      username: "siem",
      password: "siem",
      clientId: "mpx",
      clientSecret: "emulator-secret",
      tlsVerify: true,
      timeoutMs: 5_000,
    },
    telegram: { botToken: fake.token, adminIds: [opts.adminId], apiRoot: fake.apiRoot },
    bot: {
      dbPath,
      pollIntervalMs: 200,
      initialLookbackMs: 3_600_000,
      overlapMs: 600_000,
      changeWindowMs: 86_400_000,
      timeZone: "UTC",
      locale: "en",
      maxEvents: 3,
      httpPort: 0,
      httpHost: "127.0.0.1",
      actionPolicy: "users",
    },
    logLevel: "info",
  };
  const services = new Set<Service>();
  return {
    emu,
    fake,
    config,
    async start() {
      const { logger, ring } = createLogger({ level: "warn", secrets: [], destination: { write: () => {} } });
      const service = await startService(config, { logger, ring, processMetrics: false });
      services.add(service);
      return service;
    },
    async close() {
      await Promise.allSettled([...services].map((s) => s.stop()));
      await Promise.allSettled([emu.close(), fake.close()]);
      tmp.cleanup();
    },
  };
}
