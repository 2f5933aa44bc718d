// A poller wired to real parts: the MP SIEM emulator over HTTP on 127.0.0.1, the real SIEM client and
// a real SQLite store in a temp folder. Only the clock and the loop's sleep may be replaced.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import type { Config } from "../../src/config/types.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { Metrics } from "../../src/http/metrics.js";
import { Intake, type IntakeDeps } from "../../src/intake/index.js";
import { createSiemClient } from "../../src/siem/client.js";
import type { SiemClient } from "../../src/siem/types.js";
import { openStore, type Store } from "../../src/store/index.js";
import { tempDir } from "../helpers/tmp.js";

export const MINUTE = 60_000;

export function testConfig(
  siem: { url: string; authUrl: string; password?: string },
  bot: Partial<Config["bot"]> = {},
): Config {
  return {
    siem: {
      url: siem.url,
      authUrl: siem.authUrl,
      username: "siem",
      password: siem.password ?? "siem",
      clientId: "mpx",
      clientSecret: "emulator-secret",
      tlsVerify: true,
      // Generous: a 500-incident page on a busy 2-core box must not look like a SIEM timeout.
      timeoutMs: 15_000,
    },
    telegram: { botToken: "123456:TEST-TOKEN", adminIds: [1], apiRoot: "http://127.0.0.1:9" },
    bot: {
      dbPath: "unused",
      pollIntervalMs: 3_000,
      initialLookbackMs: 24 * 60 * MINUTE,
      overlapMs: 10 * MINUTE,
      changeWindowMs: 7 * 24 * 60 * MINUTE,
      timeZone: "UTC",
      locale: "en",
      maxEvents: 5,
      httpPort: 0,
      httpHost: "127.0.0.1",
      actionPolicy: "users",
      ...bot,
    },
    logLevel: "info",
  };
}

/** A clock that only moves when told, and a loop sleep that moves it instead of waiting. */
export function fakeTime(start = Date.now()) {
  let current = start;
  const sleeps: number[] = [];
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    sleeps,
    async sleep(ms: number, signal: AbortSignal): Promise<void> {
      if (signal.aborted) return;
      sleeps.push(ms);
      current += ms;
      // A real (tiny) pause keeps the loop from starving the HTTP servers of the same process.
      await new Promise((resolve) => setTimeout(resolve, 2));
    },
  };
}

export interface HarnessOptions {
  bot?: Partial<Config["bot"]>;
  /** The emulator's (and store's and intake's) clock; real time when absent. */
  time?: ReturnType<typeof fakeTime>;
  /** Put a proxy between client and emulator that answers 503 to the list calls this picks. */
  failListCalls?: (listCallNumber: number) => boolean;
  password?: string;
  /** Allowed chats that receive incidents. */
  chats?: number[];
  pageSize?: number;
  seed?: number;
  /** MPSIEM_TIMEOUT of the client (whole request). */
  siemTimeoutMs?: number;
}

export interface Harness {
  emu: RunningEmulator;
  proxy: Awaited<ReturnType<typeof startFaultyProxy>> | null;
  store: Store;
  siem: SiemClient;
  metrics: Metrics;
  config: Config;
  intake: Intake;
  notices: string[];
  /** When each notice was sent, by the harness clock. */
  noticeTimes: number[];
  kicks: { count: number };
  /** A second intake over the same parts (e.g. another start of the service). */
  newIntake(overrides?: Partial<IntakeDeps>): Intake;
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const tmp = tempDir("mpsiem-intake-");
  const time = opts.time;
  const emu = await startEmulator({
    seed: opts.seed ?? 7,
    ...(time ? { now: () => new Date(time.now()) } : {}),
  });
  const proxy = opts.failListCalls ? await startFaultyProxy(emu.coreUrl, opts.failListCalls) : null;
  const now = time ? time.now : Date.now;
  const store = await openStore(join(tmp.dir, "bot.db"), { now });
  const config = testConfig(
    { url: proxy?.url ?? emu.coreUrl, authUrl: emu.authUrl, password: opts.password },
    opts.bot,
  );
  if (opts.siemTimeoutMs !== undefined) config.siem.timeoutMs = opts.siemTimeoutMs;
  const logger = pino({ level: "silent" });
  const siem = createSiemClient({
    config: config.siem,
    retry: { attempts: 1 },
    pageSize: opts.pageSize ?? 500,
    now,
  });
  const metrics = new Metrics({ processMetrics: false });
  for (const [i, id] of (opts.chats ?? [101, -100202]).entries()) {
    await store.chats.remember({ id, kind: i === 0 ? "private" : "supergroup", title: `chat ${id}` });
    await store.chats.setState(id, "allowed", 1);
  }
  const notices: string[] = [];
  const noticeTimes: number[] = [];
  const kicks = { count: 0 };
  const newIntake = (overrides: Partial<IntakeDeps> = {}) =>
    new Intake({
      config,
      store,
      siem,
      logger,
      metrics,
      notifyAdmins: async (text) => {
        notices.push(text);
        noticeTimes.push(now());
      },
      onQueued: () => {
        kicks.count++;
      },
      now,
      ...(time ? { sleep: time.sleep } : {}),
      ...overrides,
    });
  const intake = newIntake();
  return {
    emu,
    proxy,
    store,
    siem,
    metrics,
    config,
    intake,
    notices,
    noticeTimes,
    kicks,
    newIntake,
    async close() {
      await intake.stop();
      await siem.close();
      await store.close();
      await proxy?.close();
      await emu.close();
      tmp.cleanup();
    },
  };
}

/** Waits (really) until `check` holds; fails the test after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Sum of a labelled counter's values whose labels match. */
export async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** All pending (incident, chat) pairs, as "incidentId/chatId". */
export async function queuedPairs(store: Store): Promise<string[]> {
  return (await store.outbox.pending(100_000)).map((p) => `${p.incidentId}/${p.chatId}`);
}

/**
 * A loopback HTTP proxy in front of the emulator's core API that answers 503 to the list calls
 * `failList` picks (1 = the first list call through it); everything else is forwarded unchanged.
 */
export async function startFaultyProxy(
  target: string,
  failList: (listCallNumber: number) => boolean,
): Promise<{ url: string; listCalls: () => number; close(): Promise<void> }> {
  const targetUrl = new URL(target);
  let listCalls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const isList = req.method === "POST" && /^\/api\/v2\/incidents\/?$/.test(req.url ?? "");
      if (isList && failList(++listCalls)) {
        res.writeHead(503, { "content-type": "text/plain" }).end("Service Unavailable (test proxy)");
        return;
      }
      const upstream = http.request(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: targetUrl.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.writeHead(502).end());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    listCalls: () => listCalls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
