// The whole service against the MP SIEM emulator and the fake Telegram Bot API, over real loopback
// HTTP with a real SQLite file. The service runs either in this process (startService, for tests
// that look inside it) or as the real CLI child process (`node dist/cli.js run`, for kill -9 and
// the database lock). Helpers drive it like people do and count what each chat received.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { type Service, startService } from "../../src/app.js";
import {
  type FakeBotApi,
  type FakeMessage,
  type FakeRateLimits,
  type FakeUser,
  startFakeBotApi,
} from "../../src/botapi-fake/index.js";
import type { BotConfig, Config, RouteConfig } from "../../src/config/types.js";
import type { DeliveryTuning, PacerLimits } from "../../src/delivery/index.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { createLogger } from "../../src/log/logger.js";
import { encodeCallbackData } from "../../src/render/callback-data.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/tmp.js";

export { CLI_PATH, ensureBuilt, REPO } from "../helpers/build.js";

import { CLI_PATH } from "../helpers/build.js";

/** The admin (TELEGRAM_ADMIN_IDS) and the people in the tests. */
export const ADMIN: FakeUser = { id: 9001, username: "soc_lead", first_name: "Sasha" };
/** Alice's private chat receives incidents, so she may act anywhere (BOT_ACTION_POLICY=users). */
export const ALICE: FakeUser = { id: 4242, username: "alice", first_name: "Alice" };
/** A member of the allowed group who was never allowed personally. */
export const MALLORY: FakeUser = { id: 5555, username: "mallory", first_name: "Mallory" };
export const PRIVATE_CHAT = ALICE.id;
export const GROUP_CHAT = -1001234567890;
export const CHATS = [PRIVATE_CHAT, GROUP_CHAT] as const;
const SIEM_PASSWORD = "integration-test-password";

/**
 * Telegram's limits scaled up identically in the fake and in the service's pacer (per chat ×10, per
 * group ×30), with the digest threshold scaled by the same ×10: a 2,500 burst then takes seconds
 * instead of minutes while every rule (pace, bursts, retry_after, digests) still applies. The
 * benchmark measures the real limits.
 */
export const SCALED_FAKE_LIMITS: FakeRateLimits = {
  perChatPerSec: 10,
  perChatBurst: 3,
  perGroupPerMin: 600,
  perBotPerSec: 30,
};
/** The pacer's defaults keep the same margin under the fake's numbers as under Telegram's. */
export const SCALED_PACER_LIMITS: Partial<PacerLimits> = {
  perChatPerSec: 9.5,
  perChatBurst: 2,
  perGroupPerMin: 570,
  perBotPerSec: 25,
};
export const SCALED_TUNING: Partial<DeliveryTuning> = { digestThresholdMs: 6_000 };

export interface WorldOptions {
  /** The fake's flood control: Telegram's numbers by default. */
  fakeLimits?: false | FakeRateLimits;
  emulator?: EmulatorOptions;
  /** A PostgreSQL database (BOT_DB_URL) instead of the SQLite file: several services may share it. */
  dbUrl?: string;
}

export interface InProcessOptions {
  bot?: Partial<BotConfig>;
  /** The config file's `routes:` (already parsed). */
  routes?: RouteConfig[];
  pacerLimits?: Partial<PacerLimits>;
  deliveryTuning?: Partial<DeliveryTuning>;
}

export interface RunningService {
  service: Service;
  /** Every log line (JSON), in order. */
  logs: string[];
  /** Log lines whose msg contains `text`. */
  logged(text: string): string[];
  stop(): Promise<void>;
}

export interface ChildService {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the CLI logged "service started"; rejects if it exits or takes too long. */
  started: Promise<void>;
}

export interface KeyTally {
  /** key → number of messages showing it (a single message or a digest line). */
  counts: Map<string, number>;
  missing: string[];
  /** Keys shown more than once, with how often. */
  repeated: Array<[string, number]>;
  /** Keys shown that the test did not expect. */
  unexpected: string[];
}

export interface World {
  emu: RunningEmulator;
  fake: FakeBotApi;
  dir: string;
  dbPath: string;
  /** What the services open: the PostgreSQL URL when given, else the SQLite file. */
  dbTarget: string;
  /** A configuration for the in-process service (en locale, fast polls, no HTTP port). */
  config(bot?: Partial<BotConfig>): Config;
  /** The same settings as environment variables for `node dist/cli.js run`. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Marks the chats allowed in the database before the service starts (for tests not about approval). */
  allowInStore(chatIds?: readonly number[]): Promise<void>;
  startInProcess(opts?: InProcessOptions): Promise<RunningService>;
  startChild(env?: Record<string, string>): ChildService;
  /** A person asks for incidents with /start; the admin presses Allow on the request. */
  approveByPerson(running: RunningService, from: FakeUser, chatId: number): Promise<void>;
  /** Incident messages in a chat (messages showing at least one INC key). */
  incidentMessages(chatId: number): FakeMessage[];
  /** Which of `expected` keys a chat shows, how often, and what else it shows. */
  tally(chatId: number, expected: readonly string[]): KeyTally;
  /** Messages in a chat that show a key an earlier message already showed (a resent message). */
  repeatedMessages(chatId: number): FakeMessage[];
  close(): Promise<void>;
}

const KEY_RE = /\bINC-\d+\b/g;

/** Distinct incident keys one message shows. */
export function keysIn(message: FakeMessage): string[] {
  return [...new Set([...message.plainText.matchAll(KEY_RE)].map((m) => m[0]))];
}

/** Polls `pred` every `pollMs` until it holds; fails after `timeoutMs` with `what` and the last detail. */
export async function waitUntil(
  what: string,
  pred: () => boolean | Promise<boolean>,
  timeoutMs: number,
  opts: { pollMs?: number; detail?: () => string } = {},
): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (;;) {
    if (await pred()) return Date.now() - started;
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${opts.detail ? ` (${opts.detail()})` : ""}`);
    }
    await sleep(opts.pollMs ?? 500);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** A port that was free a moment ago (BOT_HTTP_PORT=0 means "off", so tests need a real one). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const tmp = tempDir("mpsiem-integration-");
  const dbPath = join(tmp.dir, "bot.db");
  // A password that is no common word: the logs hide every secret's value wherever it appears.
  const emu = await startEmulator({ seed: 11, password: SIEM_PASSWORD, ...opts.emulator });
  const fake = await startFakeBotApi(opts.fakeLimits === undefined ? {} : { limits: opts.fakeLimits });
  fake.addChat({ id: ADMIN.id, type: "private", first_name: ADMIN.first_name, username: ADMIN.username });
  fake.addChat({ id: PRIVATE_CHAT, type: "private", first_name: ALICE.first_name, username: ALICE.username });
  fake.addChat({ id: GROUP_CHAT, type: "supergroup", title: "SOC duty" });
  const children = new Set<ChildProcess>();
  const services = new Set<RunningService>();
  const dbTarget = opts.dbUrl ?? dbPath;

  function config(bot: Partial<BotConfig> = {}): Config {
    return {
      siem: {
        url: emu.coreUrl,
        authUrl: emu.authUrl,
        username: "siem",
        password: SIEM_PASSWORD,
        clientId: "mpx",
        clientSecret: "emulator-secret",
        tlsVerify: true,
        timeoutMs: 5000,
      },
      telegram: { botToken: fake.token, adminIds: [ADMIN.id], apiRoot: fake.apiRoot },
      bot: {
        dbPath,
        ...(opts.dbUrl ? { dbUrl: opts.dbUrl } : {}),
        pollIntervalMs: 500,
        initialLookbackMs: 0,
        overlapMs: 600_000,
        changeWindowMs: 7 * 86_400_000,
        timeZone: "Europe/Moscow",
        locale: "en",
        maxEvents: 3,
        httpPort: 0,
        httpHost: "127.0.0.1",
        actionPolicy: "users",
        ...bot,
      },
      logLevel: "info",
    };
  }

  const world: World = {
    emu,
    fake,
    dir: tmp.dir,
    dbPath,
    dbTarget,
    config,
    env(extra = {}) {
      // Only what the child needs, so the developer's own settings cannot leak in.
      return {
        PATH: process.env.PATH ?? "",
        HOME: tmp.dir,
        MPSIEM_URL: emu.coreUrl,
        MPSIEM_AUTH_URL: emu.authUrl,
        MPSIEM_USERNAME: "siem",
        MPSIEM_PASSWORD: SIEM_PASSWORD,
        MPSIEM_CLIENT_SECRET: "emulator-secret",
        TELEGRAM_BOT_TOKEN: fake.token,
        TELEGRAM_ADMIN_IDS: String(ADMIN.id),
        TELEGRAM_API_ROOT: fake.apiRoot,
        BOT_DB_PATH: dbPath,
        ...(opts.dbUrl ? { BOT_DB_URL: opts.dbUrl } : {}),
        BOT_POLL_INTERVAL: "0.5",
        BOT_INITIAL_LOOKBACK: "0",
        BOT_LOCALE: "en",
        LOG_LEVEL: "info",
        ...extra,
      };
    },
    async allowInStore(chatIds = CHATS) {
      const store = await openStore(dbTarget);
      try {
        for (const id of chatIds) {
          await store.chats.remember({
            id,
            kind: id > 0 ? "private" : "supergroup",
            title: id > 0 ? null : "SOC duty",
            username: id === ALICE.id ? (ALICE.username ?? null) : null,
            firstName: id === ALICE.id ? (ALICE.first_name ?? null) : null,
          });
          await store.chats.setState(id, "allowed", ADMIN.id);
        }
      } finally {
        await store.close();
      }
    },
    async startInProcess(opts = {}) {
      const logs: string[] = [];
      const cfg = { ...config(opts.bot), ...(opts.routes ? { routes: opts.routes } : {}) };
      const { logger, ring } = createLogger({
        level: "info",
        secrets: [],
        destination: { write: (line: string) => void logs.push(line) },
      });
      const service = await startService(cfg, {
        logger,
        ring,
        processMetrics: false,
        ...(opts.pacerLimits ? { pacerLimits: opts.pacerLimits } : {}),
        ...(opts.deliveryTuning ? { deliveryTuning: opts.deliveryTuning } : {}),
      });
      let stopped = false;
      const running: RunningService = {
        service,
        logs,
        logged: (text) =>
          logs.filter((line) => {
            try {
              return String((JSON.parse(line) as { msg?: unknown }).msg ?? "").includes(text);
            } catch {
              return false;
            }
          }),
        async stop() {
          if (stopped) return;
          stopped = true;
          services.delete(running);
          await service.stop();
        },
      };
      services.add(running);
      return running;
    },
    startChild(extra = {}) {
      const child = spawn(process.execPath, [CLI_PATH, "run"], {
        cwd: tmp.dir,
        env: world.env(extra),
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(child);
      let output = "";
      child.stdout?.on("data", (d) => {
        output += d;
      });
      child.stderr?.on("data", (d) => {
        output += d;
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
        child.on("exit", (code, signal) => {
          children.delete(child);
          // Let the pipes drain what was written just before exit.
          setImmediate(() => done({ code, signal }));
        });
      });
      const started = new Promise<void>((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`no "service started" within 20 s: ${output}`)),
          20_000,
        );
        const check = () => {
          if (output.includes('"msg":"service started"')) {
            clearTimeout(timer);
            done();
          }
        };
        child.stdout?.on("data", check);
        void exited.then(() => {
          clearTimeout(timer);
          fail(new Error(`the service exited before starting: ${output}`));
        });
      });
      // Callers that never await `started` (a refused second service) must not see an unhandled rejection.
      started.catch(() => undefined);
      return { child, output: () => output, exited, started };
    },
    async approveByPerson(running, from, chatId) {
      const data = encodeCallbackData({ kind: "chat", decision: "allow", chatId, threadId: null });
      const hasAllow = (m: FakeMessage) => JSON.stringify(m.replyMarkup ?? null).includes(`"${data}"`);
      fake.sendText(from, chatId, "/start");
      await waitUntil(
        "the admin gets the new-chat request",
        () => fake.messages(ADMIN.id).some(hasAllow),
        10_000,
        {
          pollMs: 50,
        },
      );
      const request = fake.messages(ADMIN.id).find(hasAllow)!;
      const pressId = fake.pressButton(ADMIN, ADMIN.id, request.messageId, data);
      await waitUntil(
        "the admin's Allow takes effect",
        async () =>
          fake.answeredCallbacks().has(pressId) &&
          (await running.service.parts.store.chats.get(chatId))?.state === "allowed",
        10_000,
        { pollMs: 50 },
      );
    },
    incidentMessages(chatId) {
      return fake.messages(chatId).filter((m) => keysIn(m).length > 0);
    },
    tally(chatId, expected) {
      const counts = new Map<string, number>();
      for (const message of fake.messages(chatId)) {
        for (const key of keysIn(message)) counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const wanted = new Set(expected);
      return {
        counts,
        missing: expected.filter((k) => !counts.has(k)),
        repeated: [...counts].filter(([, n]) => n > 1),
        unexpected: [...counts.keys()].filter((k) => !wanted.has(k)),
      };
    },
    repeatedMessages(chatId) {
      const shown = new Set<string>();
      const repeats: FakeMessage[] = [];
      for (const message of fake.messages(chatId)) {
        const keys = keysIn(message);
        if (keys.some((k) => shown.has(k))) repeats.push(message);
        for (const k of keys) shown.add(k);
      }
      return repeats;
    },
    async close() {
      for (const child of children) child.kill("SIGKILL");
      await Promise.allSettled([...services].map((s) => s.stop()));
      await Promise.allSettled([emu.close(), fake.close()]);
      tmp.cleanup();
    },
  };
  return world;
}

/** Waits until the service has finished its first SIEM poll (the watermark exists). */
export async function firstPollDone(running: RunningService, timeoutMs = 10_000): Promise<void> {
  await waitUntil(
    "the first SIEM poll",
    () => running.service.parts.intake.status().lastSuccessAt !== null,
    timeoutMs,
    { pollMs: 50 },
  );
}

/** Waits until every expected key shows in every chat; returns how long it took. */
export async function waitForKeys(
  world: World,
  chatIds: readonly number[],
  keys: readonly string[],
  timeoutMs: number,
): Promise<number> {
  return waitUntil(
    `${keys.length} incidents in ${chatIds.length} chats`,
    () => chatIds.every((chatId) => world.tally(chatId, keys).missing.length === 0),
    timeoutMs,
    {
      detail: () =>
        chatIds
          .map((chatId) => `chat ${chatId} misses ${world.tally(chatId, keys).missing.length}`)
          .join(", "),
    },
  );
}
