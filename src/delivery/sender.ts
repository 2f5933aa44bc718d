// The outbox sender: drains one durable row per (incident, chat) to Telegram and keeps every
// delivered copy of an incident's message up to date.
//
// - Each chat has one lane working strictly in order; lanes of different chats run in parallel, but
//   only one new message at a time is between its request and its recorded id (see sendWindow).
// - A row's Telegram message id is recorded as soon as the send returns, and a row with one is never
//   sent again, so a crash repeats at most the message that was in flight.
// - Pacing (per chat, per group, per bot, retry_after bans) is the shared Pacer's job: the API's
//   pacingTransformer waits before each call; the lane waits first, so that stop() can cut it short.
// - A backlog the chat's pace cannot send one by one within about a minute goes out as digests.
import type { Api } from "grammy";
import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import type { Metrics } from "../http/metrics.js";
import { t } from "../i18n/index.js";
import { renderDigest, renderIncident } from "../render/index.js";
import type { InlineKeyboard, RenderOptions } from "../render/types.js";
import { type SiemClient, SiemError } from "../siem/types.js";
import type { PendingDelivery, StaleCopy, Store, StoredIncident } from "../store/index.js";
import type { Pacer } from "./pacer.js";
import { classifyTelegramError, type TelegramFailure } from "./telegram-errors.js";
import { chatRef, incidentView, replyMarkup, storedSummary } from "./view.js";

export interface DeliveryTuning {
  /** How often the loop looks at the outbox when nothing kicked it. */
  idleIntervalMs: number;
  /** A backlog that would take longer than this one by one goes out as digests. */
  digestThresholdMs: number;
  /** Rows offered to one digest (it holds as many as fit in 4096 characters). */
  digestBatch: number;
  /** Enrichment (incident details and events) before a first single message. */
  enrichTimeoutMs: number;
  enrichAttempts: number;
  /** After a failed enrichment, when to try again in the background (doubles, up to 10 min). */
  enrichRetryMs: number;
  /** Backoff after a 5xx or network failure: base doubling per attempt, capped, ±30 % jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** One Telegram call may take this long before it counts as a network failure. */
  callTimeoutMs: number;
  /** stop() waits this long for the message in flight. */
  stopTimeoutMs: number;
}

export const DEFAULT_DELIVERY_TUNING: DeliveryTuning = {
  // New rows and changed incidents kick the loop at once; the idle look only picks up retries that
  // fall due. Every look costs a few queries, so looking 4 times a second doubled the idle CPU.
  idleIntervalMs: 1_000,
  digestThresholdMs: 60_000,
  digestBatch: 120,
  enrichTimeoutMs: 4_000,
  enrichAttempts: 2,
  enrichRetryMs: 30_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  callTimeoutMs: 30_000,
  stopTimeoutMs: 5_000,
};

export interface DeliveryDeps {
  config: Config;
  store: Store;
  /** A grammY Api WITHOUT auto-retry, with pacingTransformer(pacer) installed by the caller. */
  api: Api;
  pacer: Pacer;
  siem: SiemClient;
  logger: Logger;
  metrics: Metrics;
  /** Tells every admin (plain text). Failures are logged, never retried here. */
  notifyAdmins: (text: string) => Promise<void>;
  now?: () => number;
  tuning?: Partial<DeliveryTuning>;
}

class DeliveryStoppedError extends Error {
  override readonly name = "DeliveryStoppedError";
  constructor() {
    super("delivery stopped");
  }
}

/** What to send: HTML with its plain-text twin, and buttons for a single message. */
interface Content {
  html: string;
  plain: string;
  keyboard?: InlineKeyboard;
}

type SendOutcome = { ok: true; messageId: number; plain: boolean } | { ok: false; failure: TelegramFailure };

interface EnrichRetry {
  at: number;
  delayMs: number;
}

type GrammySignal = Parameters<Api["sendMessage"]>[3];

const LOOKAHEAD_ROWS = 500;
const EDITS_PER_LOOK = 20;
const MAX_ENRICH_RETRIES_TRACKED = 2_000;
const ENRICH_RETRIES_PER_TICK = 5;
const SIEM_FAILING_PAUSE_MS = 10_000;
const CHAT_KINDS = ["private", "group", "supergroup", "channel"] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Delivery {
  private readonly config: Config;
  private readonly store: Store;
  private readonly api: Api;
  private readonly pacer: Pacer;
  private readonly siem: SiemClient;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly notifyAdmins: (text: string) => Promise<void>;
  private readonly now: () => number;
  private readonly tuning: DeliveryTuning;
  private readonly renderOptions: RenderOptions;

  private started = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopDone: Promise<void> | undefined;
  /** Cancels waits (pacing, enrichment) at once on stop(). */
  private readonly stopWaits = new AbortController();
  /** Cancels Telegram calls themselves; only if the one in flight outlives stopTimeoutMs. */
  private readonly stopCalls = new AbortController();
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private kicked = false;

  private readonly lanes = new Map<number, Promise<void>>();
  /**
   * Sends of new messages pass one at a time from request to recorded message id (lanes still wait
   * for their pace in parallel). A crash can then repeat at most the one message whose id was not
   * recorded yet, whatever the number of chats; a round trip is short next to Telegram's pace.
   */
  private sendWindow: Promise<unknown> = Promise.resolve();
  /** A chat whose oldest row waits for a retry is not looked at again before this time. */
  private readonly chatNotBefore = new Map<number, number>();
  /** When a chat's last send failed transiently (5xx, network); cleared by its next success. */
  private readonly failedAt = new Map<number, number>();
  private readonly earlyRetryUsed = new Set<number>();
  /** Edits that failed transiently: copy id → next try. */
  private readonly editRetry = new Map<number, { at: number; attempts: number }>();
  private readonly enriching = new Map<string, Promise<StoredIncident>>();
  private readonly enrichRetry = new Map<string, EnrichRetry>();
  private enrichBackground: Promise<void> | undefined;
  /** After a failed enrichment, new messages do not wait for the SIEM until this time. */
  private siemFailingUntil = 0;
  private lastGaugeAt = 0;

  constructor(deps: DeliveryDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.api = deps.api;
    this.pacer = deps.pacer;
    this.siem = deps.siem;
    this.log = deps.logger.child({ component: "delivery" });
    this.metrics = deps.metrics;
    this.notifyAdmins = deps.notifyAdmins;
    this.now = deps.now ?? Date.now;
    this.tuning = { ...DEFAULT_DELIVERY_TUNING, ...deps.tuning };
    this.renderOptions = {
      locale: deps.config.bot.locale,
      timeZone: deps.config.bot.timeZone,
      siemUrl: deps.config.siem.url,
      maxEvents: deps.config.bot.maxEvents,
    };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.loopDone = this.loop();
  }

  /** New rows or a changed incident: look at the outbox now rather than at the next tick. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Stops taking work, lets the message in flight finish (up to stopTimeoutMs), then returns. */
  stop(): Promise<void> {
    this.stopDone ??= this.shutdown();
    return this.stopDone;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.stopWaits.abort(new DeliveryStoppedError());
    this.wake?.();
    const everything = Promise.allSettled([this.loopDone, ...this.lanes.values(), this.enrichBackground]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      everything.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.tuning.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn(
        "a Telegram call was still running after %d ms; cancelling it",
        this.tuning.stopTimeoutMs,
      );
      this.stopCalls.abort(new DeliveryStoppedError());
      await Promise.race([everything, sleep(1000)]);
    }
  }

  /**
   * Resolves when nothing is pending for any receiving chat, no stale copy is left and no lane is
   * working (for tests and a graceful drain). Rejects after `timeoutMs` when given.
   */
  async idle(opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
    for (;;) {
      if (this.lanes.size === 0) {
        const pending = await this.store.outbox.pendingCounts();
        const stale = await this.store.outbox.staleChatIds();
        if (pending.size === 0 && stale.length === 0 && this.lanes.size === 0) return;
      }
      if (Date.now() > deadline) throw new Error(`delivery not idle after ${opts.timeoutMs} ms`);
      await sleep(opts.pollMs ?? 20);
    }
  }

  // ---- the loop ---------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    await this.rememberRecentSends();
    let failures = 0;
    while (!this.stopping) {
      let delay = this.tuning.idleIntervalMs;
      try {
        await this.tick();
        failures = 0;
      } catch (error) {
        failures++;
        delay = Math.min(30_000, this.tuning.idleIntervalMs * 2 ** Math.min(failures, 8));
        this.log.error({ err: error }, "delivery loop failed; trying again in %d ms", delay);
      }
      await this.pause(delay);
    }
  }

  /**
   * Telegram's windows outlive a restart (20 messages a minute per group): the pacer first learns the
   * messages the previous run sent within the last minute, so a restart does not earn a 429.
   */
  private async rememberRecentSends(): Promise<void> {
    try {
      for (const sent of await this.store.outbox.sentSince(this.now() - 60_000)) {
        this.pacer.recordPastSend(sent.chatId, sent.sentAt);
      }
    } catch (error) {
      this.log.warn({ err: error }, "could not read the recent sends; pacing starts afresh");
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.wakeTimer);
        this.wake = undefined;
        this.kicked = false;
        resolve();
      };
      this.wake = done;
      this.wakeTimer = setTimeout(done, ms);
    });
  }

  /** One look at the outbox: start a lane for every chat with due work and none running. */
  private async tick(): Promise<void> {
    const now = this.now();
    if (now - this.lastGaugeAt >= 1000) {
      this.lastGaugeAt = now;
      const depth = await this.store.outbox.depthByKind();
      for (const kind of new Set([...CHAT_KINDS, ...Object.keys(depth)])) {
        this.metrics.outboxDepth.set({ chat_kind: kind }, depth[kind] ?? 0);
      }
    }
    const pending = await this.store.outbox.pendingCounts();
    const withEdits = new Set(await this.store.outbox.staleChatIds());
    for (const chatId of new Set([...pending.keys(), ...withEdits])) {
      if (this.stopping) return;
      if (this.lanes.has(chatId)) continue;
      const notBefore = this.chatNotBefore.get(chatId) ?? 0;
      if (notBefore > now && !withEdits.has(chatId) && !this.telegramAnsweredSinceFailure(chatId)) continue;
      this.startLane(chatId);
    }
    this.startEnrichmentRetries(now);
    // Copies can stop being stale without an edit (chat gone, incident edited again): forget old retries.
    if (this.editRetry.size > 10_000) this.editRetry.clear();
  }

  private startLane(chatId: number): void {
    const lane = this.runLane(chatId)
      .catch((error: unknown) => {
        // A store failure or a bug: keep the chat's rows, look again a little later.
        this.chatNotBefore.set(chatId, this.now() + 5_000);
        this.log.error({ err: error, chatId }, "delivery to a chat failed unexpectedly; retrying in 5 s");
      })
      .finally(() => {
        this.lanes.delete(chatId);
      });
    this.lanes.set(chatId, lane);
  }

  // ---- one chat's lane --------------------------------------------------------------------------

  /** Works through one chat's due sends and stale copies, strictly in order, until none is left. */
  private async runLane(chatId: number): Promise<void> {
    let editTurn = true;
    while (!this.stopping) {
      // Wait out the chat's pace and any retry_after here, where stop() can cut the wait short.
      try {
        await this.pacer.ready(chatId, this.stopWaits.signal);
      } catch (error) {
        if (this.stopping) return;
        throw error;
      }
      if (this.stopping) return;
      const now = this.now();
      const rows = await this.store.outbox.pendingForChat(chatId, LOOKAHEAD_ROWS);
      const head = rows[0];
      // After an outage, the first answer Telegram gives anyone ends every chat's backoff early
      // (once until the chat's next success), so a 20 s outage is not followed by a minute of waiting.
      const early =
        head !== undefined && head.nextAttemptAt > now && this.telegramAnsweredSinceFailure(chatId);
      const asOf = early ? head.nextAttemptAt : now;
      const sendDue = head !== undefined && head.nextAttemptAt <= asOf;
      if (head !== undefined && !sendDue) this.chatNotBefore.set(chatId, head.nextAttemptAt);
      else this.chatNotBefore.delete(chatId);
      const edit = await this.nextEdit(chatId, now);
      if (!sendDue && edit === undefined) return;
      // Edits and sends take turns, an edit first: a person waiting to see an action take effect
      // should not wait behind a flood.
      if (edit !== undefined && (editTurn || !sendDue)) {
        editTurn = false;
        const goOn = await this.editCopy(edit);
        if (!goOn) return;
      } else {
        editTurn = true;
        if (early) this.earlyRetryUsed.add(chatId);
        const goOn = await this.sendNext(chatId, rows, asOf);
        if (!goOn) return;
      }
    }
  }

  /**
   * True when the chat is backing off after a transient failure and Telegram has answered some call
   * since. Allowed once until the chat's next success, so a failure of this chat alone keeps its
   * normal backoff.
   */
  private telegramAnsweredSinceFailure(chatId: number): boolean {
    const failed = this.failedAt.get(chatId);
    if (failed === undefined || this.earlyRetryUsed.has(chatId)) return false;
    const lastOk = this.pacer.health().lastOkAt;
    return lastOk !== null && lastOk > failed;
  }

  private async nextEdit(chatId: number, now: number): Promise<StaleCopy | undefined> {
    const copies = await this.store.outbox.staleCopiesForChat(chatId, EDITS_PER_LOOK);
    return copies.find((c) => (this.editRetry.get(c.id)?.at ?? 0) <= now);
  }

  /** Sends the oldest due row, or a digest of the oldest ones. False: stop this lane for now. */
  private async sendNext(chatId: number, rows: PendingDelivery[], asOf: number): Promise<boolean> {
    const head = rows[0]!;
    const due: PendingDelivery[] = [];
    for (const row of rows) {
      if (row.nextAttemptAt > asOf) break;
      due.push(row);
    }
    const drainMs = this.pacer.estimateDrainMs(chatId, head.chatKind, rows.length);
    if (due.length > 1 && drainMs > this.tuning.digestThresholdMs) {
      return this.sendDigest(due.slice(0, this.tuning.digestBatch));
    }
    return this.sendSingle(head);
  }

  private async sendSingle(row: PendingDelivery): Promise<boolean> {
    let incident = await this.store.incidents.get(row.incidentId);
    if (incident === undefined) {
      await this.store.outbox.cancel([row.id], "incident no longer in the store");
      return true;
    }
    if (incident.enrichedAt === null) incident = await this.enrich(incident);
    if (this.stopping) return false;
    const rendered = renderIncident(incidentView(incident), this.renderOptions);
    const version = incident.version;
    const outcome = await this.oneAtATime(async () => {
      const sent = await this.send(row.chatId, row.threadId, rendered);
      if (sent.ok) await this.markSent([row.id], sent.messageId, "single", version);
      return sent;
    });
    if (outcome.ok) {
      this.sendSucceeded(row.chatId);
      this.countSent(row, outcome, "sent", 1);
      this.observeLatency([incident]);
      return true;
    }
    return this.handleSendFailure([row], outcome.failure);
  }

  private async sendDigest(rows: PendingDelivery[]): Promise<boolean> {
    const known = await this.store.incidents.getMany(rows.map((r) => r.incidentId));
    const missing = rows.filter((r) => !known.has(r.incidentId)).map((r) => r.id);
    if (missing.length > 0) await this.store.outbox.cancel(missing, "incident no longer in the store");
    const incidents = rows.map((r) => known.get(r.incidentId)).filter((i) => i !== undefined);
    if (incidents.length === 0) return true;
    const rowByIncident = new Map(rows.map((r) => [r.incidentId, r]));
    // Render once to learn how many fit in one message, then again with only those, so the header
    // counts what this message holds ("57 new incidents", not "200 … (1/4)").
    const summaries = incidents.map(storedSummary);
    const firstFit = renderDigest(summaries, this.renderOptions)[0];
    const fitting = firstFit ? summaries.slice(0, Math.max(1, firstFit.included.length)) : [];
    const page = renderDigest(fitting, this.renderOptions)[0];
    if (page === undefined || page.included.length === 0) return this.sendSingle(rows[0]!);
    const included = page.included.map((id) => rowByIncident.get(id)).filter((r) => r !== undefined);
    const head = included[0]!;
    const outcome = await this.oneAtATime(async () => {
      const sent = await this.send(head.chatId, head.threadId, page);
      // Digest lines are never edited: the rendered version does not matter for them.
      if (sent.ok)
        await this.markSent(
          included.map((r) => r.id),
          sent.messageId,
          "digest",
          0,
        );
      return sent;
    });
    if (outcome.ok) {
      this.sendSucceeded(head.chatId);
      this.countSent(head, outcome, "digest", included.length);
      const byId = new Map(incidents.map((i) => [i.id, i]));
      this.observeLatency(included.map((r) => byId.get(r.incidentId)!));
      this.log.info(
        { chatId: head.chatId, incidents: included.length, messageId: outcome.messageId },
        "sent a digest instead of single messages (backlog too large for the chat's pace)",
      );
      return true;
    }
    return this.handleSendFailure(included, outcome.failure);
  }

  private sendSucceeded(chatId: number): void {
    this.failedAt.delete(chatId);
    this.earlyRetryUsed.delete(chatId);
  }

  private countSent(
    row: PendingDelivery,
    outcome: { plain: boolean },
    result: "sent" | "digest",
    n: number,
  ): void {
    this.metrics.deliveries.inc(
      { result: outcome.plain ? "plain_fallback" : result, chat_kind: row.chatKind },
      n,
    );
  }

  private observeLatency(incidents: StoredIncident[]): void {
    const now = this.now();
    for (const incident of incidents) {
      const created = incident.created.getTime();
      if (Number.isFinite(created) && created > 0 && created <= now) {
        this.metrics.notificationLatency.observe((now - created) / 1000);
      }
    }
  }

  /** Runs `fn` (a send and the recording of its id) when no other send is between those two steps. */
  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.sendWindow.then(fn, fn);
    this.sendWindow = run.catch(() => undefined);
    return run;
  }

  /** Records the message id; a failure here would make the message repeat, so it is retried. */
  private async markSent(ids: number[], messageId: number, via: "single" | "digest", version: number) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.outbox.markSent(ids, messageId, via, version);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        this.log.warn({ err: error, attempt }, "could not record a sent message id; retrying");
        await sleep(50 * attempt);
      }
    }
  }

  /**
   * One message to Telegram with every fallback that keeps it from being lost: plain text when the
   * HTML is refused, the chat's General topic when its forum topic is gone.
   */
  private async send(chatId: number, threadId: number | null, content: Content): Promise<SendOutcome> {
    let thread = threadId;
    let plain = false;
    for (let step = 0; step < 4; step++) {
      const other: Record<string, unknown> = { link_preview_options: { is_disabled: true } };
      if (!plain) other.parse_mode = "HTML";
      if (thread !== null) other.message_thread_id = thread;
      if (content.keyboard !== undefined && content.keyboard.length > 0) {
        other.reply_markup = replyMarkup(content.keyboard);
      }
      try {
        const message = await this.api.sendMessage(
          chatId,
          plain ? content.plain : content.html,
          other,
          this.callSignal(),
        );
        return { ok: true, messageId: message.message_id, plain };
      } catch (error) {
        const failure = this.classify(error);
        if (failure.kind === "thread_gone" && thread !== null) {
          this.log.warn({ chatId, threadId }, "the chat's forum topic is gone; sending to its General topic");
          // Remembered, so that later messages do not try the missing topic first.
          await this.store.chats.setThread(chatId, null);
          thread = null;
          continue;
        }
        if ((failure.kind === "bad_markup" || failure.kind === "bad_request") && !plain) {
          this.log.warn(
            { chatId, description: failure.description },
            "Telegram refused the message as HTML; sending it as plain text",
          );
          plain = true;
          continue;
        }
        return { ok: false, failure };
      }
    }
    return {
      ok: false,
      failure: { kind: "bad_request", code: 400, description: "no form of the message accepted" },
    };
  }

  /** The signal for a Telegram call: cut only by a stop that outlived its grace, or a hung call. */
  private callSignal(): GrammySignal {
    // grammY types its signal with an AbortController shim; at run time any AbortSignal works.
    return AbortSignal.any([
      this.stopCalls.signal,
      AbortSignal.timeout(this.tuning.callTimeoutMs),
    ]) as GrammySignal;
  }

  private classify(error: unknown): TelegramFailure {
    const failure = classifyTelegramError(error);
    // An aborted call while not stopping is our own call timeout: a network failure.
    if (failure.kind === "stopped" && !this.stopping) {
      return { kind: "transient", code: 0, description: `no answer from Telegram: ${failure.description}` };
    }
    return failure;
  }

  /** Decides what a failed send means for its rows. False: stop this lane for now. */
  private async handleSendFailure(rows: PendingDelivery[], failure: TelegramFailure): Promise<boolean> {
    const head = rows[0]!;
    const ids = rows.map((r) => r.id);
    const chatId = head.chatId;
    switch (failure.kind) {
      case "stopped":
        return false;
      case "rate_limited":
        // The transformer has banned the chat in the pacer; make sure even if it is not installed.
        if (this.pacer.bannedUntil(chatId) === 0) this.pacer.recordRetryAfter(chatId, failure.retryAfterSec);
        this.log.info({ chatId, retryAfter: failure.retryAfterSec }, "Telegram asked to slow down; waiting");
        return true;
      case "migrated":
        await this.migrate(chatId, failure.newChatId);
        return false;
      case "chat_gone":
        await this.deactivate(chatId, failure.description);
        return false;
      case "bad_markup":
      case "bad_request":
      case "not_modified":
      case "message_gone":
      case "thread_gone": {
        await this.store.outbox.cancel(ids, `Telegram refused the message: ${failure.description}`);
        this.metrics.deliveries.inc({ result: "failed", chat_kind: head.chatKind }, rows.length);
        this.log.error(
          { chatId, rows: ids, incidents: rows.map((r) => r.incidentId), description: failure.description },
          "Telegram refused a message even as plain text; giving up on it",
        );
        return true;
      }
      case "transient": {
        const delay = this.backoff(head.attempts);
        await this.store.outbox.retryLater(ids, this.now() + delay, failure.description);
        this.chatNotBefore.set(chatId, this.now() + delay);
        this.failedAt.set(chatId, this.now());
        this.metrics.deliveries.inc({ result: "retry", chat_kind: head.chatKind }, rows.length);
        this.log.warn(
          { chatId, code: failure.code, description: failure.description, retryInMs: delay },
          "sending to Telegram failed; will retry",
        );
        return false;
      }
    }
  }

  private backoff(attempts: number): number {
    const base = Math.min(this.tuning.backoffMaxMs, this.tuning.backoffBaseMs * 2 ** Math.min(attempts, 20));
    return Math.round(Math.min(this.tuning.backoffMaxMs, base * (0.7 + Math.random() * 0.6)));
  }

  /** 403 or "chat not found": the chat stops receiving; its queue is dropped; the admins hear once. */
  private async deactivate(chatId: number, reason: string): Promise<void> {
    const before = await this.store.chats.setActive(chatId, false, reason);
    const cancelled = await this.store.outbox.cancelForChat(chatId, reason);
    const kind = before?.kind ?? (chatId > 0 ? "private" : "supergroup");
    if (cancelled > 0) this.metrics.deliveries.inc({ result: "cancelled", chat_kind: kind }, cancelled);
    this.log.warn(
      { chatId, reason, cancelled },
      "the chat no longer accepts messages; deliveries there stop",
    );
    // Only the change from active to inactive is news (the bot's own update handler may have got there first).
    if (before !== undefined && before.active === 1) {
      const m = t(this.config.bot.locale);
      await this.tellAdmins(m.notices.chatInactive({ chat: m.chats.describe(chatRef(before)), reason }));
    }
  }

  private async migrate(oldId: number, newId: number): Promise<void> {
    const before = await this.store.chats.get(oldId);
    const moved = await this.store.chats.migrate(oldId, newId);
    this.chatNotBefore.delete(oldId);
    this.log.info(
      { oldId, newId, moved },
      "the group became a supergroup; its deliveries move to the new id",
    );
    if (moved && before !== undefined) {
      const m = t(this.config.bot.locale);
      await this.tellAdmins(
        m.notices.chatMigrated({ chat: m.chats.describe(chatRef(before)), fromId: oldId, toId: newId }),
      );
    }
    this.kick();
  }

  private async tellAdmins(text: string): Promise<void> {
    try {
      await this.notifyAdmins(text);
    } catch (error) {
      this.log.error({ err: error }, "could not tell the admins");
    }
  }

  // ---- edits ------------------------------------------------------------------------------------

  /** Brings one delivered copy up to the incident's current version. False: stop this lane for now. */
  private async editCopy(copy: StaleCopy): Promise<boolean> {
    const incident = await this.store.incidents.get(copy.incidentId);
    if (incident === undefined) {
      await this.store.outbox.setRenderedVersion(copy.id, copy.version);
      return true;
    }
    const rendered = renderIncident(incidentView(incident), this.renderOptions);
    let plain = false;
    for (;;) {
      const other: Record<string, unknown> = {
        link_preview_options: { is_disabled: true },
        reply_markup: replyMarkup(rendered.keyboard),
      };
      if (!plain) other.parse_mode = "HTML";
      let failure: TelegramFailure | undefined;
      try {
        await this.api.editMessageText(
          copy.chatId,
          copy.messageId,
          plain ? rendered.plain : rendered.html,
          other,
          this.callSignal(),
        );
      } catch (error) {
        failure = this.classify(error);
      }
      if (failure === undefined || failure.kind === "not_modified" || failure.kind === "message_gone") {
        await this.store.outbox.setRenderedVersion(copy.id, incident.version);
        this.editRetry.delete(copy.id);
        const result =
          failure === undefined
            ? plain
              ? "plain_fallback"
              : "edited"
            : failure.kind === "not_modified"
              ? "not_modified"
              : "gone";
        this.metrics.edits.inc({ result });
        if (failure?.kind === "message_gone") {
          this.log.info(
            { chatId: copy.chatId, messageId: copy.messageId },
            "message deleted in Telegram; no more edits",
          );
        }
        return true;
      }
      switch (failure.kind) {
        case "stopped":
          return false;
        case "bad_markup":
        case "bad_request":
        case "thread_gone":
          if (!plain) {
            plain = true;
            continue;
          }
          await this.store.outbox.setRenderedVersion(copy.id, incident.version);
          this.editRetry.delete(copy.id);
          this.metrics.edits.inc({ result: "failed" });
          this.log.error(
            { chatId: copy.chatId, messageId: copy.messageId, description: failure.description },
            "Telegram refused an edit even as plain text; leaving the message as it is",
          );
          return true;
        case "rate_limited":
          if (this.pacer.bannedUntil(copy.chatId) === 0) {
            this.pacer.recordRetryAfter(copy.chatId, failure.retryAfterSec);
          }
          return true;
        case "migrated":
          await this.migrate(copy.chatId, failure.newChatId);
          return false;
        case "chat_gone":
          await this.deactivate(copy.chatId, failure.description);
          return false;
        case "transient": {
          const attempts = (this.editRetry.get(copy.id)?.attempts ?? 0) + 1;
          const delay = this.backoff(attempts - 1);
          this.editRetry.set(copy.id, { at: this.now() + delay, attempts });
          this.metrics.edits.inc({ result: "retry" });
          this.log.warn(
            { chatId: copy.chatId, description: failure.description, retryInMs: delay },
            "editing a message failed; will retry",
          );
          return true;
        }
      }
    }
  }

  // ---- enrichment -------------------------------------------------------------------------------

  /**
   * Reads the incident's details and first events before its first single message. Never holds the
   * message back for long: on failure it answers what the store has, and a background retry later
   * refreshes the store, which edits the copies already sent. While the SIEM is failing, messages
   * do not wait for it at all.
   */
  private async enrich(incident: StoredIncident): Promise<StoredIncident> {
    if (this.enrichRetry.has(incident.id)) return incident; // the background retry owns it
    if (this.now() < this.siemFailingUntil) {
      this.scheduleEnrichRetry(incident.id, this.tuning.enrichRetryMs);
      return incident;
    }
    let running = this.enriching.get(incident.id);
    if (running === undefined) {
      running = this.readFromSiem(incident).finally(() => this.enriching.delete(incident.id));
      this.enriching.set(incident.id, running);
    }
    return running;
  }

  private async readFromSiem(incident: StoredIncident): Promise<StoredIncident> {
    for (let attempt = 1; attempt <= this.tuning.enrichAttempts && !this.stopping; attempt++) {
      try {
        const details = await this.withTimeout(this.siem.getIncident(incident.id), "incident details");
        const events = await this.withTimeout(
          this.siem.getEvents(incident.id, this.config.bot.maxEvents),
          "incident events",
        );
        const refreshed = await this.store.incidents.refresh(details, events);
        this.enrichRetry.delete(incident.id);
        this.siemFailingUntil = 0;
        return refreshed?.incident ?? incident;
      } catch (error) {
        const final = error instanceof SiemError && !error.transient;
        if (!this.stopping) {
          this.log.warn(
            { err: error, incidentId: incident.id, attempt },
            "could not read the incident's details from the SIEM; sending what is known",
          );
        }
        if (final || this.stopping) break;
      }
    }
    if (!this.stopping) {
      this.siemFailingUntil = this.now() + SIEM_FAILING_PAUSE_MS;
      this.scheduleEnrichRetry(incident.id, this.tuning.enrichRetryMs);
    }
    return (await this.store.incidents.get(incident.id)) ?? incident;
  }

  private scheduleEnrichRetry(incidentId: string, delayMs: number): void {
    if (this.enrichRetry.size >= MAX_ENRICH_RETRIES_TRACKED && !this.enrichRetry.has(incidentId)) {
      // Far too many failures at once (the SIEM is down): the oldest are left to the intake's change poll.
      const oldest = this.enrichRetry.keys().next().value;
      if (oldest !== undefined) this.enrichRetry.delete(oldest);
    }
    this.enrichRetry.set(incidentId, { at: this.now() + delayMs, delayMs });
  }

  /** Starts the background retries unless they are running already; the loop never waits for the SIEM. */
  private startEnrichmentRetries(now: number): void {
    if (this.enrichBackground !== undefined || this.enrichRetry.size === 0) return;
    this.enrichBackground = this.retryEnrichment(now)
      .catch((error: unknown) => this.log.error({ err: error }, "background enrichment failed"))
      .finally(() => {
        this.enrichBackground = undefined;
      });
  }

  /** Background retries of failed enrichments; a success bumps the version and so edits the copies. */
  private async retryEnrichment(now: number): Promise<void> {
    let done = 0;
    for (const [incidentId, retry] of [...this.enrichRetry]) {
      if (done >= ENRICH_RETRIES_PER_TICK || this.stopping) return;
      if (retry.at > now || this.enriching.has(incidentId)) continue;
      done++;
      this.enrichRetry.delete(incidentId);
      const incident = await this.store.incidents.get(incidentId);
      if (incident === undefined || incident.enrichedAt !== null) continue;
      // A retry is the probe that tells whether the SIEM is back.
      this.siemFailingUntil = 0;
      const result = await this.enrich(incident);
      if (result.enrichedAt === null && !this.stopping) {
        this.scheduleEnrichRetry(incidentId, Math.min(600_000, retry.delayMs * 2));
        return; // still failing: the others wait for their turn
      }
    }
  }

  private withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    const stop = this.stopWaits.signal;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        stop.removeEventListener("abort", onStop);
        finish();
      };
      const onStop = () => settle(() => reject(new DeliveryStoppedError()));
      if (stop.aborted) {
        reject(new DeliveryStoppedError());
        return;
      }
      stop.addEventListener("abort", onStop, { once: true });
      timer = setTimeout(
        () =>
          settle(() =>
            reject(new Error(`${what}: no answer from the SIEM within ${this.tuning.enrichTimeoutMs} ms`)),
          ),
        this.tuning.enrichTimeoutMs,
      );
      promise.then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }
}
