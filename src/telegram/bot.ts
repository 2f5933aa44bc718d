// Builds the grammY bot and composes its parts, in this order:
//   1. group migrations and the bot's own membership (state upkeep, before any access check),
//   2. access (access.ts): resolves who is asking and drops banned chats and people,
//   3. button presses (incidents: incident-actions.ts; new-chat requests: approval.ts),
//   4. commands, under a per-person rate limit (admin-commands.ts, public-commands.ts).
// Long polling runs with @grammyjs/runner, so commands and presses are handled concurrently with each other
// and with the incident work elsewhere in the service.
import type { IncomingMessage, ServerResponse } from "node:http";
import { autoRetry } from "@grammyjs/auto-retry";
import {
  createConcurrentSink,
  createRunner,
  createSource,
  type RunnerHandle,
  sequentialize,
} from "@grammyjs/runner";
import { Bot, GrammyError, type Transformer, webhookCallback } from "grammy";
import type { BotCommand, Update } from "grammy/types";
import type { Logger } from "pino";
import type { Config, WebhookConfig } from "../config/types.js";
import type { Metrics } from "../http/metrics.js";
import { t } from "../i18n/index.js";
import type { IncidentReader } from "../intake/index.js";
import { decodeCallbackData } from "../render/callback-data.js";
import type { SiemClient } from "../siem/types.js";
import type { Store } from "../store/index.js";
import { accessMiddleware, isAdmin } from "./access.js";
import { handleAdminCommand, reply } from "./admin-commands.js";
import { handleChatDecision, SerialGate } from "./approval.js";
import {
  ADMIN_COMMANDS,
  type AdminCommandName,
  type CommandName,
  isAdminCommand,
  isMuteCommand,
  isQueryCommand,
  LOOKUP_COMMANDS,
  type LookupCommandName,
  MUTE_COMMANDS,
  type ParsedCommand,
  PUBLIC_COMMANDS,
  parseCommand,
  QUERY_COMMANDS,
  type QueryCommandName,
} from "./commands.js";
import type { BotContext, BotServices } from "./context.js";
import { handleOfflinePress, type OfflineNotices, UpdatesGapWatch } from "./downtime.js";
import { type InboxTerm, UpdateClaimError, UpdateInbox } from "./inbox.js";
import { handleIncidentPress, handleUnknownPress, type InFlight } from "./incident-actions.js";
import { handleLinkCommand, isLinkCommand } from "./link-commands.js";
import { LookupCommand } from "./lookup.js";
import { handleMembershipChange, handleMigration } from "./membership.js";
import { actorLabel } from "./names.js";
import { AdminNotifier, describeError } from "./notify.js";
import { pause } from "./pause.js";
import { PollBackoff } from "./poll-backoff.js";
import { PressAnswer } from "./press-answer.js";
import { proxyFetchConfig } from "./proxy.js";
import { handlePublicCommand } from "./public-commands.js";
import { QueryCommands } from "./query-commands.js";
import { CommandRateLimiter, type Refusals, RefusalTally } from "./rate-limit.js";
import { replyRetry } from "./reply-retry.js";
import { RequestPace } from "./request-pace.js";
import { handleFilterCommand, handleMuteCommand } from "./routing-commands.js";
import { botTexts } from "./texts.js";

export interface TelegramDeps {
  config: Config;
  store: Store;
  siem: SiemClient;
  /** The shared "read an incident from the SIEM and store it" routine (intake owns it). */
  reader: IncidentReader;
  logger: Logger;
  metrics: Metrics;
  /** Called after an action changed an incident in the store, so delivery edits every copy now. */
  onIncidentChanged: (incidentId: string) => void;
  /** Called after /unmute ended mutes, so their summary lines go out now. */
  onMutesEnded?: () => void;
  /** Figures for /debug (shown one per line; secrets are never in them). */
  debugInfo: () => Promise<Record<string, string | number>>;
  /** The recent log lines (already redacted) for /debug. */
  recentLogLines: () => string[];
  startedAt?: number;
  /** Clock for uptime and decision times (tests). */
  now?: () => number;
  /**
   * Installed on the bot's Api before auto-retry, so they see every attempt: the shared Telegram
   * pacer goes here, and a retry is then paced and never sent inside a retry_after.
   */
  apiTransformers?: Transformer[];
  /** Per-person command budget; default 10 commands per 10 s. */
  commandRateLimit?: { limit: number; windowMs: number };
  /** Per-person button-press budget; default 10 presses per 10 s. */
  pressRateLimit?: { limit: number; windowMs: number };
  /** Per-person /inc budget; default 5 lookups a minute (lookup.ts). */
  lookupRateLimit?: { limit: number; windowMs: number };
  /** This instance's name (BOT_INSTANCE_NAME): who claimed a Telegram update. */
  instance?: string;
}

/** A term of leadership as the bot needs it (app.ts, from src/leadership). */
export interface LeadTerm {
  /** The leader's view of the store: the update offset and the last getUpdates time are fenced on it. */
  store: Store;
  epoch: number;
  /** Another instance led before this one took over (told to the admins with the start notice). */
  tookOverFrom?: string | null;
}

export interface TelegramBot {
  bot: Bot<BotContext>;
  notifier: AdminNotifier;
  /**
   * Alone (no leadership around it: tests, tools): getMe, tells the admins the bot is up, publishes the
   * command menus, then takes updates (long polling, or the webhook).
   */
  start(): Promise<void>;
  /** Stops taking updates (within 5 s) and lets the ones being handled finish. */
  stop(): Promise<void>;
  /** getMe until Telegram answers (once per process; only a refused token is final). */
  init(): Promise<void>;
  /** This instance leads: the start notice, the menus, then long polling from the stored offset (or the webhook). */
  lead(term: LeadTerm): Promise<void>;
  /** It no longer leads: polling stops (within 5 s), updates being handled finish. */
  standDown(): Promise<void>;
  /** Webhook mode: handles one post from Telegram (401 for a wrong secret), on any instance. */
  webhook?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** The updates the bot handles; my_chat_member must be asked for explicitly. */
export const ALLOWED_UPDATES = ["message", "channel_post", "callback_query", "my_chat_member"] as const;
const STOP_TIMEOUT_MS = 5_000;
/** The leader drops Telegram updates handled long ago this often. */
const PRUNE_UPDATES_EVERY_MS = 3_600_000;
/** Webhook mode: how often the leader looks for posts an instance claimed and died on. */
const WEBHOOK_SWEEP_EVERY_MS = 30_000;
/** Webhook mode: an update not handled within this long is answered with an error (Telegram retries). */
const WEBHOOK_ANSWER_WITHIN_MS = 10_000;
const DEFAULT_PRESS_RATE_LIMIT = { limit: 10, windowMs: 10_000 };
/** How long start() waits for the SIEM version to put in the "bot is up" notice. */
const SIEM_VERSION_WAIT_MS = 3_000;
const GET_ME_BACKOFF_MS = { first: 1_000, max: 30_000 };

export function createTelegramBot(deps: TelegramDeps): TelegramBot {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const bot = new Bot<BotContext>(config.telegram.botToken, {
    client: {
      apiRoot: config.telegram.apiRoot,
      ...proxyFetchConfig(config.telegram.proxy),
    },
  });
  // Sees every getUpdates answer: presses that end a long gap in polling may be old (downtime.ts).
  const updatesGap = new UpdatesGapWatch(store, now, logger);
  bot.api.config.use(updatesGap.transformer);
  // getUpdates waits here after failures, capped; the runner itself retries at once and never gives up.
  const pollBackoff = new PollBackoff({ logger });
  bot.api.config.use(pollBackoff.transformer);
  for (const transformer of deps.apiTransformers ?? []) bot.api.config.use(transformer);
  // Replies to commands and presses: a network failure is retried a few times (reply-retry.ts), a 429 is
  // waited out (retry_after) and a 5xx retried, a couple of times at most. auto-retry is not given network
  // errors: it would retry those without any bound, and long polling (the runner) has its own backoff.
  bot.api.config.use(replyRetry());
  bot.api.config.use(autoRetry({ maxRetryAttempts: 2, maxDelaySeconds: 60, rethrowHttpErrors: true }));

  const notifier = new AdminNotifier(bot.api, config.telegram.adminIds, logger);
  const requestPace = new RequestPace();
  const s: BotServices = {
    config,
    store,
    siem: deps.siem,
    reader: deps.reader,
    logger,
    metrics: deps.metrics,
    api: bot.api,
    notifier,
    texts: t(config.bot.locale),
    extra: botTexts(config.bot.locale),
    onIncidentChanged: (id) => {
      try {
        deps.onIncidentChanged(id);
      } catch (err) {
        logger.warn({ err: describeError(err), incidentId: id }, "onIncidentChanged failed");
      }
    },
    onMutesEnded: () => {
      try {
        deps.onMutesEnded?.();
      } catch (err) {
        logger.warn({ err: describeError(err) }, "onMutesEnded failed");
      }
    },
    debugInfo: deps.debugInfo,
    recentLogLines: deps.recentLogLines,
    startedAt: deps.startedAt ?? now(),
    now,
    requestGate: new SerialGate(),
    requestPace,
    audit: async (entry) => {
      try {
        await store.audit.record(entry);
      } catch (err) {
        logger.error({ err: describeError(err), action: entry.action }, "could not write the audit log");
      }
    },
  };
  const limiter = new CommandRateLimiter({ ...deps.commandRateLimit, now });
  const lookups = new LookupCommand(s, deps.lookupRateLimit);
  const queries = new QueryCommands(s);
  const inFlight: InFlight = new Set();

  // Presses over the per-person budget are answered, not carried out, and audited once per person and window.
  const pressBudget = { ...DEFAULT_PRESS_RATE_LIMIT, ...deps.pressRateLimit };
  const pressLimiter = new CommandRateLimiter({ ...pressBudget, now });
  const refusals = new RefusalTally({ windowMs: pressBudget.windowMs });
  const auditRefusals = async (closed: Refusals[]) => {
    for (const r of closed) {
      await s.audit({
        actorId: r.userId,
        actorName: r.actorName,
        chatId: r.chatId,
        action: "button.rate_limited",
        target: null,
        result: "rate_limited",
        detail: `${r.count} presses refused in ${Math.round(pressBudget.windowMs / 1000)} s from ${new Date(r.since).toISOString()}`,
      });
    }
  };
  const refusalAudit = setInterval(
    () => void auditRefusals(refusals.takeClosed(now())),
    pressBudget.windowMs,
  );
  refusalAudit.unref();

  // Updates being handled now, so stop() can let them finish before the caller closes the store.
  let handling = 0;
  bot.use(async (_ctx, next) => {
    handling++;
    try {
      await next();
    } finally {
      handling--;
    }
  });
  // A chat's messages are handled one after another, in the order they came: updates are handled
  // concurrently (the runner's sink, a takeover's replay), and "/filter X" then "/filter off" typed in quick
  // succession must end with the filter off. Button presses stay concurrent (each guards its incident).
  bot.use(sequentialize((ctx) => ((ctx.message ?? ctx.channelPost) ? `chat:${ctx.chat?.id}` : undefined)));
  // Then the inbox: an update comes through once, whichever instance received it (inbox.ts).
  const inbox = new UpdateInbox({
    store,
    instance: deps.instance ?? "telegram-bot",
    logger,
    metrics: deps.metrics,
    now,
    updatesGap,
  });
  bot.use(inbox.middleware);

  bot.catch((err) => {
    // Not known whether this instance should handle it: a webhook post is answered with an error, so
    // Telegram sends it again.
    if (err.error instanceof UpdateClaimError) throw err.error;
    logger.warn(
      { err: describeError(err.error), updateId: err.ctx.update.update_id },
      "a Telegram update failed",
    );
  });

  // 1. State upkeep that must not depend on access (a banned group's migration keeps its ban).
  bot.on(["message:migrate_to_chat_id", "message:migrate_from_chat_id"], (ctx) => handleMigration(s, ctx));
  bot.on("my_chat_member", (ctx) => handleMembershipChange(s, ctx));

  // 2. Access.
  bot.use(
    accessMiddleware<BotContext>({
      store,
      adminIds: config.telegram.adminIds,
      onDropped: (ctx) =>
        logger.debug({ chatId: ctx.chat?.id, userId: ctx.from?.id }, "update from a banned chat dropped"),
    }),
  );

  // 3. Button presses.
  const offlineNotices: OfflineNotices = new Set();
  bot.on("callback_query", async (ctx) => {
    const stale = updatesGap.takeStale(ctx.update.update_id);
    if (stale) return handleOfflinePress(s, ctx, stale, offlineNotices);
    const presser = ctx.callbackQuery.from;
    await auditRefusals(refusals.takeClosed(now()));
    if (pressLimiter.check(presser.id) !== "ok") {
      s.metrics.actions.inc({ action: "button", result: "rate_limited" });
      const chatId = ctx.callbackQuery.message?.chat.id ?? null;
      await auditRefusals(refusals.add(presser.id, actorLabel(presser), chatId, now()));
      await new PressAnswer(ctx, s.extra.working, logger).answer(s.texts.actions.tooManyPresses);
      return;
    }
    const data = decodeCallbackData(ctx.callbackQuery.data);
    if (!data) return handleUnknownPress(s, ctx, "unreadable data");
    if (data.kind === "incident") return handleIncidentPress(s, ctx, inFlight, data);
    if (data.kind === "open") return queries.press(ctx, data);
    return handleChatDecision(s, ctx, data);
  });

  // 4. Commands.
  bot.on(["message:text", "channel_post:text"], async (ctx) => {
    const cmd = parseCommand(ctx.msg.text, ctx.me.username);
    if (!cmd) return;
    const sender = ctx.from?.id ?? ctx.chat.id;
    const verdict = limiter.check(sender);
    if (verdict !== "ok") {
      s.metrics.actions.inc({ action: `command.${cmd.name}`, result: "rate_limited" });
      if (verdict === "warn") await reply(s, ctx, s.extra.tooManyCommands);
      return;
    }
    const result =
      cmd.name === "inc"
        ? await lookups.handle(ctx, cmd)
        : isQueryCommand(cmd.name)
          ? await queries.handle(ctx, { ...cmd, name: cmd.name })
          : await dispatchCommand(s, ctx, cmd);
    s.metrics.actions.inc({ action: `command.${cmd.name}`, result });
  });

  let runner: RunnerHandle | undefined;
  const stopping = new AbortController();
  /** The leader's term (null while standing by): its fenced store, its epoch, and what ends with it. */
  let term: (InboxTerm & { ended: AbortController }) | null = null;
  let initialized: Promise<void> | null = null;

  async function initWithRetry(): Promise<void> {
    let wait = GET_ME_BACKOFF_MS.first;
    for (;;) {
      try {
        // With the stop signal: a getMe that Telegram never answers must not hold up stop().
        await bot.init(stopping.signal as Parameters<typeof bot.init>[0]);
        return;
      } catch (err) {
        if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
          throw new Error(
            `Telegram refused the bot token (${err.error_code} ${err.description}): check TELEGRAM_BOT_TOKEN`,
          );
        }
        if (stopping.signal.aborted) throw new Error("stopped before the bot could reach Telegram");
        logger.warn({ err: describeError(err), retryInMs: wait }, "Telegram getMe failed; retrying");
        await pause(wait, stopping.signal);
        wait = Math.min(wait * 2, GET_ME_BACKOFF_MS.max);
      }
    }
  }

  function init(): Promise<void> {
    initialized ??= initWithRetry().catch((error: unknown) => {
      initialized = null;
      throw error;
    });
    return initialized;
  }

  async function siemVersion(): Promise<string | null> {
    const timeout = pause(SIEM_VERSION_WAIT_MS).then(() => null);
    const info = deps.siem
      .systemInfo()
      .then((i) => i.productVersion || null)
      .catch(() => null);
    return Promise.race([info, timeout]);
  }

  async function publishCommands(): Promise<void> {
    const menu = s.extra.commandMenu;
    const entry = (command: CommandName): BotCommand => ({ command, description: menu[command] });
    try {
      // /inc for everyone: allowed users and chats use it; access.ts refuses it to strangers.
      const everyone = QUERY_COMMANDS.filter((c) => c !== "audit");
      await bot.api.setMyCommands([...PUBLIC_COMMANDS, ...LOOKUP_COMMANDS, ...everyone].map(entry));
    } catch (err) {
      logger.warn({ err: describeError(err) }, "could not publish the command menu");
    }
    const adminMenu = [
      ...ADMIN_COMMANDS,
      ...MUTE_COMMANDS,
      ...LOOKUP_COMMANDS,
      ...QUERY_COMMANDS,
      ...PUBLIC_COMMANDS,
    ].map(entry);
    for (const adminId of config.telegram.adminIds) {
      try {
        await bot.api.setMyCommands(adminMenu, { scope: { type: "chat", chat_id: adminId } });
      } catch (err) {
        // An admin who never opened the bot has no chat with it yet: their menu comes with the next start.
        logger.info({ adminId, err: describeError(err) }, "could not publish the admin command menu");
      }
    }
  }

  /** Webhook mode: the leader (re)registers the webhook, with the secret, until Telegram takes it. */
  async function registerWebhook(hook: WebhookConfig, ended: AbortSignal): Promise<void> {
    let wait = GET_ME_BACKOFF_MS.first;
    while (!ended.aborted) {
      try {
        await bot.api.setWebhook(hook.url, {
          secret_token: hook.secret,
          allowed_updates: [...ALLOWED_UPDATES],
          drop_pending_updates: false,
        });
        logger.info({ url: hook.url }, "Telegram posts updates to the webhook");
        return;
      } catch (err) {
        if (ended.aborted) return;
        logger.warn(
          { err: describeError(err), retryInMs: wait },
          "could not set the Telegram webhook; retrying",
        );
        await pause(wait, ended);
        wait = Math.min(wait * 2, GET_ME_BACKOFF_MS.max);
      }
    }
  }

  /** Hands updates that were claimed but never handled (a dead instance's) to the bot. */
  async function replayAbandoned(current: InboxTerm): Promise<void> {
    try {
      for (let round = 0; round < 10; round++) {
        const { updates, more } = await inbox.reclaim(current);
        await Promise.all(updates.map((u) => bot.handleUpdate(u).catch(() => undefined)));
        if (!more) return;
      }
    } catch (err) {
      logger.warn({ err: describeError(err) }, "could not replay abandoned Telegram updates");
    }
  }

  async function lead(next: LeadTerm): Promise<void> {
    if (term) await standDown();
    const ended = new AbortController();
    const current = { store: next.store, epoch: next.epoch, ended };
    term = current;
    /** Work repeated while this term lasts. */
    const every = (ms: number, work: () => Promise<void>) => {
      if (ended.signal.aborted) return;
      const timer = setInterval(() => void work(), ms);
      timer.unref();
      ended.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    };
    await init();
    if (ended.signal.aborted) return;
    const [version, recipients] = await Promise.all([siemVersion(), store.chats.recipients()]);
    await notifier.notify(
      s.texts.notices.botStarted({
        siemUrl: config.siem.url,
        siemVersion: version,
        chats: recipients.length,
        ...(next.tookOverFrom ? { tookOver: { instance: inbox.instance, from: next.tookOverFrom } } : {}),
      }),
    );
    if (ended.signal.aborted) return;
    await publishCommands();
    await inbox.prune(current.store);
    every(PRUNE_UPDATES_EVERY_MS, () => inbox.prune(current.store));
    if (ended.signal.aborted) return;
    const hook = config.telegram.webhook;
    if (hook) {
      await registerWebhook(hook, ended.signal);
      // Posts a dead instance claimed and never handled: Telegram will not send them again.
      await replayAbandoned(current);
      every(WEBHOOK_SWEEP_EVERY_MS, () => replayAbandoned(current));
      return;
    }
    // A webhook left from webhook mode would make every getUpdates fail with 409.
    await bot.api.deleteWebhook({ drop_pending_updates: false }).catch((err: unknown) => {
      logger.warn({ err: describeError(err) }, "could not make sure no webhook is set");
    });
    await updatesGap.load(current.store);
    if (ended.signal.aborted) return;
    const source = createSource(inbox.pollingSupplier(current, bot.api, ALLOWED_UPDATES));
    const sink = createConcurrentSink<Update>(
      { consume: (update) => bot.handleUpdate(update) },
      async (error) => {
        try {
          await bot.errorHandler(error as Parameters<typeof bot.errorHandler>[0]);
        } catch (err) {
          logger.warn({ err: describeError(err) }, "a Telegram update failed");
        }
      },
    );
    runner = createRunner(source, sink);
    runner.start();
    const task = runner.task();
    task?.catch((err: unknown) => logger.error({ err: describeError(err) }, "Telegram polling stopped"));
    logger.info({ username: bot.botInfo.username }, "Telegram bot is polling for updates");
  }

  /** Stops the leader's work: polling (within 5 s), then lets updates being handled finish. */
  async function standDown(): Promise<void> {
    const current = term;
    term = null;
    current?.ended.abort();
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    const polling = runner;
    runner = undefined;
    if (polling?.isRunning()) {
      // The timer is cancelled once the runner has stopped, so it cannot keep the process alive.
      const limit = new AbortController();
      await Promise.race([polling.stop()?.catch(() => undefined), pause(STOP_TIMEOUT_MS, limit.signal)]);
      limit.abort();
    }
    // Let updates already being handled finish (they write to the store), within the same 5 s.
    while (handling > 0 && Date.now() < deadline) await pause(10);
    inbox.forgetUnhandled();
    if (current && !config.telegram.webhook) await updatesGap.flush();
  }

  const webhook = config.telegram.webhook
    ? webhookCallback(bot, "http", {
        secretToken: config.telegram.webhook.secret,
        // Past this, Telegram gets an error and retries; the claim (inbox.ts) keeps the retry from running it twice.
        onTimeout: "throw",
        timeoutMilliseconds: WEBHOOK_ANSWER_WITHIN_MS,
      })
    : undefined;

  return {
    bot,
    notifier,
    init,
    lead,
    standDown,
    ...(webhook ? { webhook: (req: IncomingMessage, res: ServerResponse) => webhook(req, res) } : {}),
    async start() {
      const epoch = await store.lease.takeAlone(inbox.instance, 15_000);
      await lead({ store: store.fenced(epoch), epoch });
    },
    async stop() {
      stopping.abort();
      requestPace.stop();
      await standDown();
      clearInterval(refusalAudit);
      await auditRefusals(refusals.takeAll());
    },
  };
}

async function dispatchCommand(s: BotServices, ctx: BotContext, cmd: ParsedCommand): Promise<string> {
  // Channel posts have no sender: only the commands that make sense for a whole chat.
  if (!ctx.from) {
    if (cmd.name === "start" || cmd.name === "id")
      return handlePublicCommand(s, ctx, { ...cmd, name: cmd.name });
    return "ignored";
  }
  if (cmd.name === "help" && !isAdmin(ctx.access))
    return handlePublicCommand(s, ctx, { ...cmd, name: "help" });
  // Admins, and a person in their own private chat: handleMuteCommand asks access.ts.
  if (isMuteCommand(cmd.name)) return handleMuteCommand(s, ctx, { ...cmd, name: cmd.name });
  if (isAdminCommand(cmd.name)) {
    if (!isAdmin(ctx.access)) {
      // Polite, and the same for every admin command: it tells nothing about chats or the service.
      await reply(s, ctx, s.texts.commands.adminsOnly);
      await s.audit({
        actorId: ctx.from.id,
        actorName: actorLabel(ctx.from),
        chatId: ctx.chat?.id ?? null,
        action: `command.${cmd.name}`,
        target: null,
        result: "not_allowed",
        detail: ctx.access.role,
      });
      return "not_allowed";
    }
    if (cmd.name === "filter") return handleFilterCommand(s, ctx, cmd);
    if (isLinkCommand(cmd.name)) return handleLinkCommand(s, ctx, { ...cmd, name: cmd.name });
    return handleAdminCommand(s, ctx, { ...cmd, name: cmd.name as AdminCommandName });
  }
  return handlePublicCommand(s, ctx, {
    ...cmd,
    name: cmd.name as Exclude<
      CommandName,
      AdminCommandName | "mute" | "unmute" | LookupCommandName | QueryCommandName
    >,
  });
}
