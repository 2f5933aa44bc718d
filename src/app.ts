// Wires the parts of the service together: SIEM → intake → store → delivery → Telegram,
// plus the bot (commands, buttons), /healthz and /metrics. Each part only sees the small
// interface it needs; this file is the only one that knows them all.
//
// Several instances may share one PostgreSQL database (src/leadership/): the store, the bot's handlers,
// the HTTP endpoints and the lease run in every instance; the leader's work (the SIEM poller, the sender,
// Telegram's long polling) is built fresh each time this instance becomes the leader, and stopped when it
// stops leading. On SQLite the one process leads from start to stop.

import { Api, type Transformer } from "grammy";
import type pino from "pino";
import { formatDuration } from "./config/load.js";
import { DEFAULT_LEASE_TTL_MS } from "./config/schema.js";
import { type Config, DEFAULT_RETENTION_MS } from "./config/types.js";
import {
  Delivery,
  type DeliveryTuning,
  leadingGate,
  Pacer,
  type PacerLimits,
  pacingTransformer,
} from "./delivery/index.js";
import { Metrics } from "./http/metrics.js";
import { type HealthReport, type RunningHttpServer, startHttpServer } from "./http/server.js";
import { IncidentReader, Intake } from "./intake/index.js";
import {
  createLeadership,
  defaultInstanceName,
  type Leadership,
  type RunningTerm,
  type Term,
  TermRunner,
} from "./leadership/index.js";
import { type LogRing, recentProblems } from "./log/logger.js";
import { ShiftReport } from "./report/shift-report.js";
import { ReminderEngine } from "./schedule/index.js";
import { createSiemClient } from "./siem/client.js";
import type { SiemClient } from "./siem/types.js";
import { openStore, RetentionTask, type Store } from "./store/index.js";
import { createTelegramBot, type TelegramBot } from "./telegram/bot.js";
import { proxyFetchConfig } from "./telegram/proxy.js";
import { type RunningWebhookListener, startWebhookListener } from "./telegram/webhook.js";

export interface Service {
  /** Stops polling and sending, gives the lease up, lets in-flight work finish, closes the database. */
  stop(): Promise<void>;
  /** The same report /healthz serves. */
  health(): Promise<HealthReport>;
  /** Where /healthz and /metrics listen, when BOT_HTTP_PORT is set. */
  readonly httpUrl: string | null;
  /** Where this instance takes Telegram's webhook posts (webhook mode only). */
  readonly webhookUrl: string | null;
  /** The parts, for the demo, the benchmark and tests in this process. */
  readonly parts: {
    store: Store;
    siem: SiemClient;
    /** The current (or last) term's poller; throws while this instance has never led. */
    readonly intake: Intake;
    /** The current (or last) term's sender; throws while this instance has never led. */
    readonly delivery: Delivery;
    telegram: TelegramBot;
    metrics: Metrics;
    pacer: Pacer;
    leadership: Leadership;
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
  /**
   * The clock of what is decided by time: routing at queue time (mutes, active hours), /mute's start and
   * end, the mute-end summaries, and the poller's and sender's own timing (tests). Default: real time.
   */
  now?: () => number;
}

/** Telegram must have answered within this long for /healthz (long polls return at least every 30 s). */
const TELEGRAM_HEALTHY_WITHIN_MS = 90_000;
/** /debug lists the instances heard from within this long. */
const INSTANCES_SHOWN_WITHIN_MS = 10 * 60_000;
/** Instances not heard from for this long are forgotten. */
const INSTANCES_FORGOTTEN_AFTER_MS = 24 * 3_600_000;

/** The leader's work of one term: built when this instance becomes the leader, stopped when it stops. */
interface LeaderParts {
  epoch: number;
  intake: Intake;
  delivery: Delivery;
}

export async function startService(config: Config, deps: ServiceDeps): Promise<Service> {
  const { logger, ring } = deps;
  const startedAt = Date.now();
  const instance = config.bot.instanceName ?? defaultInstanceName();
  const leaseTtlMs = config.bot.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const webhookMode = config.telegram.webhook !== undefined;
  // The CLI has already warned about MPSIEM_TLS_VERIFY=false.

  const metrics = new Metrics({ processMetrics: deps.processMetrics ?? true });
  const store = await openStore(config.bot.dbUrl ?? config.bot.dbPath, {
    onConnectionError: (error) =>
      logger.warn({ err: error.message }, "database connection lost; reconnecting"),
  });
  // The config file's routes replace the ones an earlier start put in the store: their chats are allowed
  // by being listed, and a chat the file no longer lists stops receiving.
  const routeSync = await store.routing.syncConfigRoutes(
    (config.routes ?? []).map((r) => ({
      chatId: r.chatId,
      threadId: r.topic,
      filter: r.filter,
      silent: r.silent,
      activeHours: r.activeHours,
    })),
  );
  if ((config.routes?.length ?? 0) > 0 || routeSync.removed.length > 0) {
    logger.info({ routes: config.routes?.length ?? 0, ...routeSync }, "routes from the config file applied");
  }
  if (routeSync.banned.length > 0) {
    logger.warn(
      { chats: routeSync.banned },
      "chats in the config file's routes are banned; they stay banned",
    );
  }
  const siem = createSiemClient({ config: config.siem, logger: logger.child({ part: "siem" }) });
  // One routine reads an incident and stores it, for the poller and for the buttons alike.
  const reader = new IncidentReader({
    siem,
    store,
    maxEvents: config.bot.maxEvents,
    overlapMs: config.bot.overlapMs,
  });
  // Telegram keeps enforcing a retry_after across our restarts and failovers: bans are kept in the store.
  const bans = retryAfterBans(store, logger);
  const pacer = new Pacer({ limits: deps.pacerLimits, metrics, onBan: bans.record });
  const pacing: Transformer = pacingTransformer(pacer);

  // Only the leader polls and sends. The gate is the last check before such a call (after the pacer's
  // wait): a leader that lost its lease meanwhile sends nothing more. Bound late: the lease comes below.
  let leadership: Leadership | undefined;
  // From the first moment of stop() nothing new goes to Telegram, whatever state the parts are in.
  let serviceStopping = false;
  const acting = () => !serviceStopping && (leadership?.acting() ?? false);
  // In webhook mode any instance answers the updates it handles; getUpdates stays the leader's.
  const botGate = leadingGate(acting, (method) => method === "getUpdates" || !webhookMode);

  let current: LeaderParts | null = null;
  let last: LeaderParts | null = null;
  const kickDelivery = () => current?.delivery.kick();

  const telegram = createTelegramBot({
    config,
    store,
    siem,
    reader,
    logger: logger.child({ part: "telegram" }),
    metrics,
    apiTransformers: [botGate, pacing],
    onIncidentChanged: kickDelivery,
    // /unmute: the summary line goes out at the sender's next look.
    onMutesEnded: kickDelivery,
    debugInfo: () => debugInfo(),
    recentLogLines: () => recentProblems(ring),
    startedAt,
    instance,
    ...(deps.now ? { now: deps.now } : {}),
  });

  /**
   * The sender's Telegram client, one per term: its gate lets a call through only while this instance
   * leads AND the term is the current one, so a part of an earlier term still finishing cannot send.
   */
  const deliveryApiFor = (live: () => boolean): Api => {
    const api = new Api(config.telegram.botToken, {
      apiRoot: config.telegram.apiRoot,
      ...proxyFetchConfig(config.telegram.proxy),
    });
    api.config.use(leadingGate(() => live() && acting()));
    api.config.use(pacing);
    return api;
  };
  // Not awaited: a notice may wait out Telegram's retry_after, and the poller or sender must not wait with it.
  const notifyAdmins = async (text: string) => {
    void telegram.notifier.notify(text);
  };

  /** This instance leads from now on: the SIEM poller, the sender and Telegram's updates, fresh. */
  async function beginTerm(term: Term): Promise<RunningTerm> {
    // The leader's writes from this term are fenced on its epoch (store/fence.ts).
    const termStore = store.fenced(term.epoch);
    // Whatever bans the previous leader (or an earlier run) met still hold; recent sends are learnt by
    // delivery itself from the outbox's sent_at.
    for (const [chatId, untilMs] of await bans.load()) pacer.restoreBan(chatId, untilMs);
    let live = true;
    const delivery = new Delivery({
      config,
      store: termStore,
      api: deliveryApiFor(() => live),
      pacer,
      logger: logger.child({ part: "delivery" }),
      metrics,
      notifyAdmins,
      tuning: deps.deliveryTuning,
      ...(deps.now ? { now: deps.now } : {}),
    });
    const intake = new Intake({
      config,
      store: termStore,
      siem,
      reader,
      logger: logger.child({ part: "intake" }),
      metrics,
      notifyAdmins,
      onQueued: kickDelivery,
      ...(deps.now ? { now: deps.now } : {}),
    });
    const parts: LeaderParts = { epoch: term.epoch, intake, delivery };
    current = parts;
    last = parts;
    // Intake and delivery start at once: incidents are queued even while Telegram is still unreachable.
    delivery.start();
    intake.start();
    // BOT_RETENTION: old rows are pruned now and every hour, in small batches beside the other work (by
    // the leader alone: one pruner per database is enough).
    const retention = new RetentionTask({
      repository: store.retention,
      retentionMs: config.bot.retentionMs ?? DEFAULT_RETENTION_MS,
      logger: logger.child({ part: "store" }),
    });
    retention.start();
    // BOT_REPORT_AT: the daily shift report, once per chat and day (claims fenced on this term's epoch).
    const report = new ShiftReport({
      config,
      store: termStore,
      siem,
      api: deliveryApiFor(() => live),
      logger: logger.child({ part: "report" }),
      ...(deps.now ? { now: deps.now } : {}),
    });
    report.start();
    // Reminders and escalation (design.md §5), when the settings or the file's `escalation:` ask for them:
    // the leader's scheduler.
    const reminderSettings = config.bot.reminders;
    let reminders: ReminderEngine | null = null;
    if (ReminderEngine.wanted(reminderSettings, config.escalation)) {
      // A send the previous term cut short may have reached Telegram: it is not sent again.
      await termStore.reminders.settleAbandoned();
      reminders = new ReminderEngine({
        store: termStore,
        reader,
        ...(reminderSettings ? { settings: reminderSettings } : {}),
        ...(config.escalation ? { policies: config.escalation } : {}),
        timeZone: config.bot.timeZone,
        log: logger.child({ part: "schedule" }),
        now: deps.now ?? Date.now,
        onQueued: kickDelivery,
        intervalMs: config.bot.pollIntervalMs,
        metrics,
      });
      reminders.start();
    }
    const tookOverFrom =
      store.dialect === "postgres" && term.previousHolder !== null && term.previousHolder !== instance
        ? term.previousHolder
        : null;
    // The bot retries getMe until Telegram answers; only a refused token is final.
    const telegramLed = telegram
      .lead({ store: termStore, epoch: term.epoch, tookOverFrom })
      .catch((error: unknown) => {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          "Telegram bot could not start",
        );
      });
    logger.info({ instance, epoch: term.epoch }, "leading: polling the SIEM and Telegram, sending");
    return {
      async stop() {
        live = false;
        if (current === parts) current = null;
        // In parallel: a hung SIEM call must not eat the sender's share of the time.
        await Promise.allSettled([
          intake.stop(),
          telegram.standDown(),
          delivery.stop(),
          retention.stop(),
          report.stop(),
          reminders?.stop(),
        ]);
        await untilDeadline(telegramLed, Date.now() + 1_000);
      },
    };
  }

  const terms = new TermRunner({ begin: beginTerm, logger, stopWithinMs: STOP_PARTS_WITHIN_MS });
  leadership = createLeadership({
    store,
    dbUrl: config.bot.dbUrl,
    instance,
    ttlMs: leaseTtlMs,
    events: terms.events,
    metrics,
    logger: logger.child({ part: "leadership" }),
  });
  const lease = leadership;

  async function health(): Promise<HealthReport> {
    const now = Date.now();
    const lead = lease.status();
    const reasons = [...lead.problems];
    const parts = current;
    const status = parts?.intake.status() ?? null;
    const tg = pacer.health();
    if (lead.role === "leader") {
      // The leader's work must be going: the SIEM polled, Telegram answering.
      const siemWindow = Math.max(3 * config.bot.pollIntervalMs, 10_000);
      if (status === null) reasons.push("the leader's work is starting");
      else if (status.lastSuccessAt === null) {
        reasons.push(`SIEM: no successful poll yet${status.lastError ? ` (${status.lastError})` : ""}`);
      } else if (now - status.lastSuccessAt > siemWindow) {
        reasons.push(
          `SIEM: last successful poll ${formatDuration(now - status.lastSuccessAt)} ago${status.lastError ? ` (${status.lastError})` : ""}`,
        );
      }
      if (tg.lastOkAt === null) reasons.push("Telegram: no successful call yet");
      else if (now - tg.lastOkAt > TELEGRAM_HEALTHY_WITHIN_MS) {
        reasons.push(`Telegram: last answer ${formatDuration(now - tg.lastOkAt)} ago`);
      }
    }
    const depth = await store.outbox.depthByKind();
    return {
      ok: reasons.length === 0,
      reasons,
      role: lead.role,
      instance,
      lease: {
        backend: lead.backend,
        epoch: lead.epoch,
        leaderSince: iso(lead.leaderSince),
        lastCheckAt: iso(lead.lastCheckAt),
        lastError: lead.lastError,
        ttlSeconds: leaseTtlMs / 1000,
      },
      uptimeSeconds: Math.round((now - startedAt) / 1000),
      siem: {
        lastSuccessAt: iso(status?.lastSuccessAt),
        lastError: status?.lastError ?? null,
        outageSince: iso(status?.outageSince),
        watermark: iso(status?.watermark),
      },
      telegram: {
        mode: webhookMode ? "webhook" : "polling",
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
    const status = current?.intake.status() ?? null;
    const totals = await store.outbox.totals();
    const depth = await store.outbox.depthByKind();
    const tg = pacer.health();
    const lead = lease.status();
    const now = Date.now();
    const info: Record<string, string | number> = {
      health: report.ok ? "ok" : report.reasons.join("; "),
      uptime: formatDuration(now - startedAt),
      "this instance": `${instance}, ${lead.role}${lead.epoch !== null ? ` (epoch ${lead.epoch})` : ""}`,
    };
    for (const peer of await store.lease.instances(now - INSTANCES_SHOWN_WITHIN_MS)) {
      info[`instance ${peer.name}`] =
        `${peer.role}, last heartbeat ${formatDuration(Math.max(0, now - peer.heartbeatAt))} ago, ` +
        `up since ${new Date(peer.startedAt).toISOString()} (pid ${peer.pid} on ${peer.host})`;
    }
    return {
      ...info,
      "SIEM URL": config.siem.url,
      watermark: iso(status?.watermark ?? (await store.incidents.watermark())) ?? "—",
      "last successful poll": iso(status?.lastSuccessAt) ?? "—",
      "SIEM outage since": iso(status?.outageSince) ?? "—",
      "SIEM last error": status?.lastError ?? "—",
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
  let hook: RunningWebhookListener | null = null;
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
  const webhook = config.telegram.webhook;
  if (webhook && telegram.webhook) {
    try {
      hook = await startWebhookListener({
        host: webhook.host,
        port: webhook.port,
        path: new URL(webhook.url).pathname,
        handle: telegram.webhook,
        logger: logger.child({ part: "webhook" }),
      });
      logger.info({ listen: hook.url, url: webhook.url }, "listening for Telegram's webhook posts");
    } catch (error) {
      await http?.close();
      await siem.close();
      await store.close();
      throw new Error(
        `TELEGRAM_WEBHOOK_PORT: cannot listen on ${webhook.host}:${webhook.port}: ${(error as Error).message}`,
      );
    }
  }

  // Instances not heard from for a day are forgotten (they restarted under another name, or are gone).
  await store.lease.forgetInstances(Date.now() - INSTANCES_FORGOTTEN_AFTER_MS).catch(() => 0);
  // The first attempt: a lone instance (and SQLite's one process) leads before this returns.
  await lease.start();
  await terms.settled();
  logger.info(
    {
      siem: config.siem.url,
      pollIntervalMs: config.bot.pollIntervalMs,
      db: store.path,
      instance,
      role: lease.status().role,
    },
    "mpsiem-telegram started",
  );

  const partsOf = (): LeaderParts => {
    const parts = current ?? last;
    if (!parts) throw new Error(`instance ${instance} has not led yet: it has no poller or sender`);
    return parts;
  };

  let stopping: Promise<void> | null = null;
  return {
    health,
    httpUrl: http?.url ?? null,
    webhookUrl: hook?.url ?? null,
    parts: {
      store,
      siem,
      get intake() {
        return partsOf().intake;
      },
      get delivery() {
        return partsOf().delivery;
      },
      telegram,
      metrics,
      pacer,
      leadership: lease,
    },
    stop() {
      serviceStopping = true;
      stopping ??= (async () => {
        const deadline = Date.now() + STOP_PARTS_WITHIN_MS;
        // The leader's work and the bot in parallel: the CLI allows 5 s in all.
        const parts = Promise.allSettled([terms.close(), telegram.stop()]);
        // Then at once: nothing new goes to Telegram from here on (a reply, a notice, a send that was
        // about to leave); calls already on their way finish within delivery's grace.
        pacer.stop();
        // A part still busy at the deadline (a hung SIEM or Telegram call; the bot still starting up)
        // is left behind: the store closes anyway, and what it would still write is lost harmlessly.
        await untilDeadline(parts, deadline);
        // The lease is given up last, when this instance has stopped acting: a standby takes over at once.
        await untilDeadline(lease.stop(), Math.max(deadline, Date.now() + 500));
        await untilDeadline(hook?.close() ?? Promise.resolve(), deadline);
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
