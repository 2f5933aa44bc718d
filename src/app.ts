// Wires the parts of the service together: SIEM → intake → store → delivery → Telegram,
// plus the bot (commands, buttons), /healthz and /metrics. Each part only sees the small
// interface it needs; this file is the only one that knows them all.

import { Api, type Transformer } from "grammy";
import type pino from "pino";
import { formatDuration } from "./config/load.js";
import { type Config, DEFAULT_RETENTION_MS } from "./config/types.js";
import {
  Delivery,
  type DeliveryTuning,
  Pacer,
  type PacerLimits,
  pacingTransformer,
} from "./delivery/index.js";
import { Metrics } from "./http/metrics.js";
import { type HealthReport, type RunningHttpServer, startHttpServer } from "./http/server.js";
import { IncidentReader, Intake } from "./intake/index.js";
import { type LogRing, recentProblems } from "./log/logger.js";
import { createSiemClient } from "./siem/client.js";
import type { SiemClient } from "./siem/types.js";
import { openStore, RetentionTask, type Store } from "./store/index.js";
import { createTelegramBot, type TelegramBot } from "./telegram/bot.js";
import { proxyFetchConfig } from "./telegram/proxy.js";

export interface Service {
  /** Stops polling and sending, lets in-flight work finish, closes the database. */
  stop(): Promise<void>;
  /** The same report /healthz serves. */
  health(): Promise<HealthReport>;
  /** Where /healthz and /metrics listen, when BOT_HTTP_PORT is set. */
  readonly httpUrl: string | null;
  /** The parts, for the demo, the benchmark and tests in this process. */
  readonly parts: {
    store: Store;
    siem: SiemClient;
    intake: Intake;
    delivery: Delivery;
    telegram: TelegramBot;
    metrics: Metrics;
    pacer: Pacer;
  };
}

export interface ServiceDeps {
  logger: pino.Logger;
  /** Recent redacted log lines, for /debug. */
  ring: LogRing;
  /** Tests and the benchmark may scale Telegram pacing (the fake enforces the same numbers). */
  pacerLimits?: Partial<PacerLimits>;
  deliveryTuning?: Partial<DeliveryTuning>;
  /** Prometheus process metrics (on by default; off when several services share one process). */
  processMetrics?: boolean;
}

/** Telegram must have answered within this long for /healthz (long polls return at least every 30 s). */
const TELEGRAM_HEALTHY_WITHIN_MS = 90_000;

export async function startService(config: Config, deps: ServiceDeps): Promise<Service> {
  const { logger, ring } = deps;
  const startedAt = Date.now();
  // The CLI has already warned about MPSIEM_TLS_VERIFY=false.

  const metrics = new Metrics({ processMetrics: deps.processMetrics ?? true });
  const store = await openStore(config.bot.dbUrl ?? config.bot.dbPath, {
    onConnectionError: (error) =>
      logger.warn({ err: error.message }, "database connection lost; reconnecting"),
  });
  const siem = createSiemClient({ config: config.siem, logger: logger.child({ part: "siem" }) });
  // One routine reads an incident and stores it, for the poller and for the buttons alike.
  const reader = new IncidentReader({ siem, store, maxEvents: config.bot.maxEvents });
  // Telegram keeps enforcing a retry_after across our restarts: bans are kept in the store and restored.
  const bans = retryAfterBans(store, logger);
  const pacer = new Pacer({ limits: deps.pacerLimits, metrics, onBan: bans.record });
  for (const [chatId, untilMs] of await bans.load()) pacer.restoreBan(chatId, untilMs);
  const pacing: Transformer = pacingTransformer(pacer);

  // Lazily bound: the bot and intake are created before delivery exists.
  let delivery: Delivery | undefined;
  const kickDelivery = () => delivery?.kick();

  let intake: Intake | undefined;
  const telegram = createTelegramBot({
    config,
    store,
    siem,
    reader,
    logger: logger.child({ part: "telegram" }),
    metrics,
    apiTransformers: [pacing],
    onIncidentChanged: kickDelivery,
    debugInfo: () => debugInfo(),
    recentLogLines: () => recentProblems(ring),
    startedAt,
  });

  const deliveryApi = new Api(config.telegram.botToken, {
    apiRoot: config.telegram.apiRoot,
    ...proxyFetchConfig(config.telegram.proxy),
  });
  deliveryApi.config.use(pacing);
  // Not awaited: a notice may wait out Telegram's retry_after, and the poller or sender must not wait with it.
  const notifyAdmins = async (text: string) => {
    void telegram.notifier.notify(text);
  };
  delivery = new Delivery({
    config,
    store,
    api: deliveryApi,
    pacer,
    logger: logger.child({ part: "delivery" }),
    metrics,
    notifyAdmins,
    tuning: deps.deliveryTuning,
  });
  intake = new Intake({
    config,
    store,
    siem,
    reader,
    logger: logger.child({ part: "intake" }),
    metrics,
    notifyAdmins,
    onQueued: kickDelivery,
  });

  async function health(): Promise<HealthReport> {
    const now = Date.now();
    const reasons: string[] = [];
    const status = intake!.status();
    const siemWindow = Math.max(3 * config.bot.pollIntervalMs, 10_000);
    if (status.lastSuccessAt === null) {
      reasons.push(`SIEM: no successful poll yet${status.lastError ? ` (${status.lastError})` : ""}`);
    } else if (now - status.lastSuccessAt > siemWindow) {
      reasons.push(
        `SIEM: last successful poll ${formatDuration(now - status.lastSuccessAt)} ago${status.lastError ? ` (${status.lastError})` : ""}`,
      );
    }
    const tg = pacer.health();
    if (tg.lastOkAt === null) reasons.push("Telegram: no successful call yet");
    else if (now - tg.lastOkAt > TELEGRAM_HEALTHY_WITHIN_MS) {
      reasons.push(`Telegram: last answer ${formatDuration(now - tg.lastOkAt)} ago`);
    }
    const depth = await store.outbox.depthByKind();
    return {
      ok: reasons.length === 0,
      reasons,
      uptimeSeconds: Math.round((now - startedAt) / 1000),
      siem: {
        lastSuccessAt: iso(status.lastSuccessAt),
        lastError: status.lastError,
        outageSince: iso(status.outageSince),
        watermark: iso(status.watermark),
      },
      telegram: {
        lastOkAt: iso(tg.lastOkAt),
        lastErrorAt: iso(tg.lastErrorAt),
        lastErrorCode: tg.lastErrorCode,
        bannedUntil: iso(tg.bannedUntil),
      },
      outbox: depth,
    };
  }

  async function debugInfo(): Promise<Record<string, string | number>> {
    const report = await health();
    const status = intake!.status();
    const totals = await store.outbox.totals();
    const depth = await store.outbox.depthByKind();
    const tg = pacer.health();
    return {
      health: report.ok ? "ok" : report.reasons.join("; "),
      uptime: formatDuration(Date.now() - startedAt),
      "SIEM URL": config.siem.url,
      watermark: iso(status.watermark) ?? "—",
      "last successful poll": iso(status.lastSuccessAt) ?? "—",
      "SIEM outage since": iso(status.outageSince) ?? "—",
      "SIEM last error": status.lastError ?? "—",
      "Telegram last answer": iso(tg.lastOkAt) ?? "—",
      "Telegram last error code": tg.lastErrorCode ?? "—",
      "incidents seen": await metrics.total(metrics.incidentsSeen),
      "incidents in store": await store.incidents.count(),
      "messages sent": totals.sent ?? 0,
      "outbox pending": Object.values(depth).reduce((a, b) => a + b, 0),
      "outbox by chat kind":
        Object.entries(depth)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ") || "—",
      "429 answers": await metrics.total(metrics.rateLimitHits),
      "SIEM errors": await metrics.total(metrics.siemErrors),
    };
  }

  let http: RunningHttpServer | null = null;
  try {
    if (config.bot.httpPort > 0) {
      http = await startHttpServer({ host: config.bot.httpHost, port: config.bot.httpPort, metrics, health });
      logger.info({ url: http.url }, "health and metrics listening");
    }
  } catch (error) {
    await siem.close();
    await store.close();
    throw new Error(
      `BOT_HTTP_PORT: cannot listen on ${config.bot.httpHost}:${config.bot.httpPort}: ${(error as Error).message}`,
    );
  }

  // Intake and delivery start at once: incidents are queued even while Telegram is still unreachable.
  delivery.start();
  intake.start();
  // BOT_RETENTION: old rows are pruned now and every hour, in small batches beside the other work.
  const retention = new RetentionTask({
    repository: store.retention,
    retentionMs: config.bot.retentionMs ?? DEFAULT_RETENTION_MS,
    logger: logger.child({ part: "store" }),
  });
  retention.start();
  // The bot retries getMe until Telegram answers; only a refused token is final.
  const telegramStarted = telegram.start().catch((error: unknown) => {
    logger.error(
      { err: error instanceof Error ? error.message : String(error) },
      "Telegram bot could not start",
    );
  });
  logger.info(
    { siem: config.siem.url, pollIntervalMs: config.bot.pollIntervalMs, db: store.path },
    "mpsiem-telegram started",
  );

  let stopping: Promise<void> | null = null;
  return {
    health,
    httpUrl: http?.url ?? null,
    parts: { store, siem, intake, delivery, telegram, metrics, pacer },
    stop() {
      stopping ??= (async () => {
        const deadline = Date.now() + STOP_PARTS_WITHIN_MS;
        // In parallel: the CLI allows 5 s in all, and a hung SIEM call must not eat the sender's share.
        const parts = Promise.allSettled([
          intake!.stop(),
          telegram.stop(),
          delivery!.stop(),
          retention.stop(),
        ]);
        // Then at once: nothing new goes to Telegram from here on (a reply, a notice, a send that was
        // about to leave); calls already on their way finish within delivery's grace.
        pacer.stop();
        // A part still busy at the deadline (a hung SIEM or Telegram call; the bot still starting up)
        // is left behind: the store closes anyway, and what it would still write is lost harmlessly.
        await untilDeadline(parts, deadline);
        await untilDeadline(telegramStarted, deadline);
        await untilDeadline(http?.close() ?? Promise.resolve(), deadline);
        await siem.close();
        await bans.flushed();
        await store.close();
        logger.info("mpsiem-telegram stopped");
      })();
      return stopping;
    },
  };
}

/**
 * The parts of the service get this long to stop (delivery's grace for calls in flight is 3 s), so
 * that closing the rest still fits in the CLI's 5 s.
 */
const STOP_PARTS_WITHIN_MS = 4_000;

/** Waits for `work`, but not past `deadline` (ms). */
async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
}

const RETRY_AFTER_BANS_KEY = "telegram.retryAfterBans";

/** retry_after bans still running, kept in the settings table as {chat id or "*" (bot-wide): end ms}. */
function retryAfterBans(store: Store, logger: pino.Logger) {
  const bans = new Map<string, number>();
  let writes: Promise<void> = Promise.resolve();
  return {
    async load(): Promise<Array<[number | string | null, number]>> {
      try {
        const saved = JSON.parse((await store.settings.get(RETRY_AFTER_BANS_KEY)) ?? "{}") as unknown;
        for (const [key, until] of Object.entries(saved ?? {})) {
          if (typeof until === "number" && until > Date.now()) bans.set(key, until);
        }
      } catch (error) {
        logger.warn({ err: error }, "could not read the retry_after bans of the previous run; ignoring them");
      }
      return [...bans].map(([key, until]) => [
        key === "*" ? null : /^-?\d+$/.test(key) ? Number(key) : key,
        until,
      ]);
    },
    record: (chatId: number | string | null, untilMs: number): void => {
      const now = Date.now();
      for (const [key, until] of bans) if (until <= now) bans.delete(key);
      bans.set(chatId === null ? "*" : String(chatId), untilMs);
      const value = JSON.stringify(Object.fromEntries(bans));
      writes = writes
        .then(() => store.settings.set(RETRY_AFTER_BANS_KEY, value))
        .catch((error: unknown) => logger.warn({ err: error }, "could not save a retry_after ban"));
    },
    flushed: (): Promise<void> => writes,
  };
}

function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
