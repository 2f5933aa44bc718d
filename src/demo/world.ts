// What every demo run needs: the MP SIEM emulator, a throw-away database, and the real service wired
// to both and to a Telegram (the fake Bot API or a real bot).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Service, startService } from "../app.js";
import type { Config, Locale } from "../config/types.js";
import { type RunningEmulator, startEmulator } from "../emulator/index.js";
import { createLogger } from "../log/logger.js";
import type { RealTelegram } from "./settings.js";

/** The emulator's own throw-away account (its defaults). */
const EMULATOR_ACCOUNT = {
  username: "siem",
  password: "siem",
  clientId: "mpx",
  clientSecret: "emulator-secret",
};
/** Same seed, same incidents: every demo run tells the same story. */
export const DEMO_SEED = 20_240_601;
/** How long stop() may take before the demo moves on (the service's own limit is about the same). */
const STOP_LIMIT_MS = 6_000;

export interface DemoWorld {
  emulator: RunningEmulator;
  service: Service;
  config: Config;
  /** Stops the service and the emulator and removes the database; safe to call twice. */
  close(): Promise<void>;
}

export interface StartWorldOptions {
  telegram: RealTelegram;
  locale: Locale;
  timeZone: string;
  /** Where the service's (warn and worse) log lines go. */
  logTo: NodeJS.WritableStream;
  /** Background incidents per minute, with a burst every `burstEvery` of them (0 = none). */
  ratePerMinute?: number;
  burstEvery?: number;
  burstSize?: number;
}

export function demoConfig(
  emulator: Pick<RunningEmulator, "coreUrl" | "authUrl">,
  telegram: RealTelegram,
  opts: { locale: Locale; timeZone: string; dbPath: string },
): Config {
  return {
    siem: {
      url: emulator.coreUrl,
      authUrl: emulator.authUrl,
      ...EMULATOR_ACCOUNT,
      tlsVerify: true,
      timeoutMs: 5_000,
    },
    telegram: {
      botToken: telegram.botToken,
      adminIds: telegram.adminIds,
      apiRoot: telegram.apiRoot,
      ...(telegram.proxy ? { proxy: telegram.proxy } : {}),
    },
    bot: {
      dbPath: opts.dbPath,
      pollIntervalMs: 1_000,
      initialLookbackMs: 0, // only what happens from now on
      overlapMs: 10 * 60_000,
      changeWindowMs: 7 * 86_400_000,
      timeZone: opts.timeZone,
      locale: opts.locale,
      maxEvents: 5,
      httpPort: 0,
      httpHost: "127.0.0.1",
      actionPolicy: "users",
    },
    logLevel: "warn",
  };
}

async function within(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
    }),
  ]);
  clearTimeout(timer);
}

export async function startWorld(opts: StartWorldOptions): Promise<DemoWorld> {
  const folder = mkdtempSync(join(tmpdir(), "mpsiem-telegram-demo-"));
  const removeFolder = () => rmSync(folder, { recursive: true, force: true });
  let emulator: RunningEmulator | undefined;
  try {
    emulator = await startEmulator({
      seed: DEMO_SEED,
      ratePerMinute: opts.ratePerMinute ?? 0,
      burstEvery: opts.burstEvery ?? 0,
      burstSize: opts.burstSize ?? 20,
    });
    const config = demoConfig(emulator, opts.telegram, {
      locale: opts.locale,
      timeZone: opts.timeZone,
      dbPath: join(folder, "bot.db"),
    });
    const { logger, ring } = createLogger({
      level: "warn",
      secrets: [opts.telegram.botToken],
      pretty: (opts.logTo as { isTTY?: boolean }).isTTY === true,
      destination: opts.logTo,
    });
    const service = await startService(config, {
      logger,
      ring,
      processMetrics: false,
      // By default a chat gets a digest when its backlog would take a minute to send one by one; the
      // demo's burst should show digests within its 30 seconds, so it uses 5 s.
      deliveryTuning: { digestThresholdMs: 5_000 },
    });
    const running = emulator;
    let closing: Promise<void> | undefined;
    return {
      emulator: running,
      service,
      config,
      close() {
        closing ??= (async () => {
          await within(STOP_LIMIT_MS, service.stop());
          await within(STOP_LIMIT_MS, running.close());
          removeFolder();
        })();
        return closing;
      },
    };
  } catch (error) {
    await emulator?.close().catch(() => undefined);
    removeFolder();
    throw error;
  }
}
