// The outbox sender: drains one durable row per (incident, chat) to Telegram and keeps every
// delivered copy of an incident's message up to date. This file is the loop and the lanes; the
// parts each lane uses live beside it:
//   new-messages.ts     a chat's next new message, and what a failed send means for its rows
//   send-window.ts      one new message per chat between its request and its recorded id
//   digest-decision.ts  one message per incident, or digests packed full when the backlog is too long
//   copy-edits.ts       edits of the copies already delivered
//   telegram-calls.ts   the calls themselves, with their fallbacks and per-call signals
//   mute-summary.ts     the one line a chat gets when a mute is over
//   reminder-sends.ts   reminders (replies to the card) and escalations the scheduler queued
//
// - Each chat has one lane working strictly in order — High incidents first, then the rest, each by
//   id — and lanes of different chats run in parallel, and so do their sends: a slow or hung chat
//   holds back only itself.
// - A row's Telegram message id is recorded as soon as the send returns, and a row with one is never
//   sent again, so a crash repeats at most the one message in flight in each chat.
// - Pacing (per chat, per group, per bot, retry_after bans) is the shared Pacer's job: the API's
//   pacingTransformer waits before each call; the lane waits first, so that stop() can cut it short.
// - A chat that is gone, may not be posted to, or moved is handed to the chat lifecycle (src/chats).

import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Api } from "grammy";
import type { Logger } from "pino";
import { type ChatLifecycleDeps, migrateChat, pauseChat, removeChat } from "../chats/index.js";
import { type Config, remindersOn } from "../config/types.js";
import type { Metrics } from "../http/metrics.js";
import type { RenderOptions } from "../render/types.js";
import { FencedError, type Store } from "../store/index.js";
import { type ChatFailure, CopyEditor } from "./copy-edits.js";
import { MuteSummaries, type SummaryLine } from "./mute-summary.js";
import { NewMessages } from "./new-messages.js";
import type { Pacer } from "./pacer.js";
import { ReminderSends } from "./reminder-sends.js";
import { SendWindows } from "./send-window.js";
import { TelegramCalls } from "./telegram-calls.js";
import { DeliveryStoppedError } from "./telegram-errors.js";

export interface DeliveryTuning {
  /** How often the loop looks at the outbox when nothing kicked it. */
  idleIntervalMs: number;
  /** A backlog that would take longer than this one by one goes out as digests (each packed full). */
  digestThresholdMs: number;
  /** Backoff after a 5xx or network failure: base doubling per attempt, capped, ±30 % jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** One Telegram call may take this long before it counts as a network failure. */
  callTimeoutMs: number;
  /**
   * stop() lets the calls in flight finish (and their ids be recorded) for this long, then cuts them.
   * The service's whole stop must fit in the CLI's 5 s, together with the bot's and the store's.
   */
  stopTimeoutMs: number;
}

export const DEFAULT_DELIVERY_TUNING: DeliveryTuning = {
  // New rows and changed incidents kick the loop at once; the idle look only picks up retries that
  // fall due. Every look costs a few queries, so looking 4 times a second doubled the idle CPU.
  idleIntervalMs: 1_000,
  digestThresholdMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  callTimeoutMs: 30_000,
  stopTimeoutMs: 3_000,
};

export interface DeliveryDeps {
  config: Config;
  store: Store;
  /** A grammY Api WITHOUT auto-retry, with pacingTransformer(pacer) installed by the caller. */
  api: Api;
  pacer: Pacer;
  logger: Logger;
  metrics: Metrics;
  /** Tells every admin (plain text). Failures are logged, never retried here. */
  notifyAdmins: (text: string) => Promise<void>;
  now?: () => number;
  tuning?: Partial<DeliveryTuning>;
}

/** Rows a lane reads at a time: more than the shortest digest lines can fill one message with. */
const LOOKAHEAD_ROWS = 500;
const CHAT_KINDS = ["private", "group", "supergroup", "channel"] as const;
/** After the grace, cut calls get this long to return before stop() gives up waiting for them. */
const AFTER_CANCEL_WAIT_MS = 500;

export class Delivery {
  private readonly store: Store;
  private readonly pacer: Pacer;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly now: () => number;
  private readonly tuning: DeliveryTuning;
  private readonly renderOptions: RenderOptions;
  private readonly chatLifecycle: ChatLifecycleDeps;
  private readonly calls: TelegramCalls;
  private readonly edits: CopyEditor;
  private readonly messages: NewMessages;
  private readonly summaries: MuteSummaries;
  private readonly reminders: ReminderSends;
  private readonly windows = new SendWindows();

  private started = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopDone: Promise<void> | undefined;
  /** Cancels waits (pacing, enrichment) at once on stop(). */
  private readonly stopWaits = new AbortController();
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private kicked = false;

  private readonly lanes = new Map<number, Promise<void>>();
  /** A chat whose oldest row waits for a retry is not looked at again before this time. */
  private readonly chatNotBefore = new Map<number, number>();
  /** When a chat's last send failed transiently (5xx, network); cleared by its next success. */
  private readonly failedAt = new Map<number, number>();
  private readonly earlyRetryUsed = new Set<number>();
  private lastGaugeAt = 0;
  /** Chats with pending rows at the last look (they share the bot-wide rate). */
  private busyChats = 0;

  constructor(deps: DeliveryDeps) {
    // Every chat's lane waits on it, each removing its own listener: a burst to 200 chats is not a leak.
    setMaxListeners(0, this.stopWaits.signal);
    this.store = deps.store;
    this.pacer = deps.pacer;
    this.log = deps.logger.child({ component: "delivery" });
    this.metrics = deps.metrics;
    this.now = deps.now ?? Date.now;
    this.tuning = { ...DEFAULT_DELIVERY_TUNING, ...deps.tuning };
    this.renderOptions = {
      locale: deps.config.bot.locale,
      timeZone: deps.config.bot.timeZone,
      siemUrl: deps.config.siem.url,
      maxEvents: deps.config.bot.maxEvents,
      snooze: remindersOn(deps.config),
    };
    this.chatLifecycle = {
      store: deps.store,
      locale: deps.config.bot.locale,
      notifyAdmins: deps.notifyAdmins,
      onNoticeError: (error) => this.log.error({ err: error }, "could not tell the admins"),
    };
    this.calls = new TelegramCalls({
      api: deps.api,
      store: deps.store,
      log: this.log,
      callTimeoutMs: this.tuning.callTimeoutMs,
      stopping: () => this.stopping,
    });
    this.edits = new CopyEditor({
      store: deps.store,
      calls: this.calls,
      pacer: deps.pacer,
      metrics: deps.metrics,
      log: this.log,
      now: this.now,
      renderOptions: this.renderOptions,
      backoff: (attempts) => this.backoff(attempts),
      onChatFailure: (chatId, failure) => this.chatFailed(chatId, failure),
    });
    this.messages = new NewMessages({
      store: deps.store,
      calls: this.calls,
      windows: this.windows,
      pacer: deps.pacer,
      metrics: deps.metrics,
      log: this.log,
      now: this.now,
      renderOptions: this.renderOptions,
      tuning: this.tuning,
      backoff: (attempts) => this.backoff(attempts),
      stopping: () => this.stopping,
      onChatFailure: (chatId, failure) => this.chatFailed(chatId, failure),
      busyChats: () => this.busyChats,
    });
    this.summaries = new MuteSummaries({
      store: deps.store,
      calls: this.calls,
      windows: this.windows,
      log: this.log,
      now: this.now,
      locale: deps.config.bot.locale,
      backoff: (attempts) => this.backoff(attempts),
      stopping: () => this.stopping,
      onChatFailure: (chatId, failure) => this.chatFailed(chatId, failure),
    });
    this.reminders = new ReminderSends({
      store: deps.store,
      calls: this.calls,
      windows: this.windows,
      log: this.log,
      now: this.now,
      locale: deps.config.bot.locale,
      renderOptions: this.renderOptions,
      backoff: (attempts) => this.backoff(attempts),
      stopping: () => this.stopping,
      onChatFailure: (chatId, failure) => this.chatFailed(chatId, failure),
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.loopDone = this.loop();
  }

  /** New rows, a changed incident or a mute ended: look at the outbox now rather than at the next tick. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Stops taking work at once; the sends in flight get stopTimeoutMs to finish and have their ids
   * recorded, then they are cut. Nothing new is sent after stop() is called.
   */
  stop(): Promise<void> {
    this.stopDone ??= this.shutdown();
    return this.stopDone;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.stopWaits.abort(new DeliveryStoppedError());
    this.wake?.();
    const everything = Promise.allSettled([this.loopDone, ...this.lanes.values()]);
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
        { chats: this.windows.open },
        "Telegram calls were still running after %d ms; cancelling them",
        this.tuning.stopTimeoutMs,
      );
      this.calls.cancelAll(new DeliveryStoppedError());
      let last: NodeJS.Timeout | undefined;
      await Promise.race([
        everything,
        new Promise<void>((resolve) => {
          last = setTimeout(resolve, AFTER_CANCEL_WAIT_MS);
        }),
      ]);
      clearTimeout(last);
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
    this.busyChats = pending.size;
    const withEdits = new Set(await this.store.outbox.staleChatIds());
    for (const chatId of new Set([...pending.keys(), ...withEdits])) {
      if (this.stopping) return;
      if (this.lanes.has(chatId)) continue;
      const notBefore = this.chatNotBefore.get(chatId) ?? 0;
      if (notBefore > now && !withEdits.has(chatId) && !this.telegramAnsweredSinceFailure(chatId)) continue;
      this.startLane(chatId, () => this.runLane(chatId));
    }
    // Mutes that are over: their line goes out once the chat has nothing else queued (it follows the
    // incidents it counts), as the chat's lane.
    for (const [chatId, lines] of await this.summaries.due(now)) {
      if (this.stopping) return;
      if (this.lanes.has(chatId) || pending.has(chatId) || withEdits.has(chatId)) continue;
      if ((this.chatNotBefore.get(chatId) ?? 0) > now) continue;
      this.startLane(chatId, () => this.runSummaryLane(chatId, lines));
    }
    // Reminders and escalations the scheduler queued (issue 15), as the chat's lane.
    for (const chatId of await this.reminders.due()) {
      if (this.stopping) return;
      if (this.lanes.has(chatId)) continue;
      if ((this.chatNotBefore.get(chatId) ?? 0) > now) continue;
      this.startLane(chatId, () => this.runReminderLane(chatId));
    }
  }

  private startLane(chatId: number, work: () => Promise<void>): void {
    const lane = work()
      .catch((error: unknown) => {
        this.chatNotBefore.set(chatId, this.now() + 5_000);
        if (error instanceof FencedError) {
          // Another instance leads now and goes on from the outbox; this one is being stopped.
          this.log.warn({ chatId }, "another instance leads now: this one no longer records its sends");
          return;
        }
        // A store failure or a bug: keep the chat's rows, look again a little later.
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
      if (head === undefined) this.messages.backlogSent(chatId);
      // After an outage, the first answer Telegram gives anyone ends every chat's backoff early
      // (once until the chat's next success), so a 20 s outage is not followed by a minute of waiting.
      const early =
        head !== undefined && head.nextAttemptAt > now && this.telegramAnsweredSinceFailure(chatId);
      const asOf = early ? head.nextAttemptAt : now;
      const sendDue = head !== undefined && head.nextAttemptAt <= asOf;
      if (head !== undefined && !sendDue) this.chatNotBefore.set(chatId, head.nextAttemptAt);
      else this.chatNotBefore.delete(chatId);
      const edit = await this.edits.next(chatId, now);
      if (!sendDue && edit === undefined) return;
      // Edits and sends take turns, an edit first: a person waiting to see an action take effect
      // should not wait behind a flood.
      if (edit !== undefined && (editTurn || !sendDue)) {
        editTurn = false;
        const goOn = await this.edits.edit(edit);
        if (!goOn) return;
      } else {
        editTurn = true;
        if (early) this.earlyRetryUsed.add(chatId);
        const step = await this.messages.sendNext(chatId, rows, asOf);
        if (step.next === "retry") {
          this.chatNotBefore.set(chatId, step.at);
          this.failedAt.set(chatId, this.now());
          return;
        }
        if (step.next === "stop") return;
        if (step.sent) {
          this.failedAt.delete(chatId);
          this.earlyRetryUsed.delete(chatId);
        }
      }
    }
  }

  /** Sends a chat's mute summary lines, each after the chat's pace allows it. */
  private async runSummaryLane(chatId: number, lines: SummaryLine[]): Promise<void> {
    for (const line of lines) {
      try {
        await this.pacer.ready(chatId, this.stopWaits.signal);
      } catch (error) {
        if (this.stopping) return;
        throw error;
      }
      const step = await this.summaries.send(line);
      if (step.next === "retry") {
        this.chatNotBefore.set(chatId, step.at);
        return;
      }
      if (step.next === "stop") return;
    }
  }

  /** Sends what the chat is owed in reminders and escalations, each after the chat's pace allows it. */
  private async runReminderLane(chatId: number): Promise<void> {
    try {
      const step = await this.reminders.sendChat(chatId, () =>
        this.pacer.ready(chatId, this.stopWaits.signal),
      );
      if (step.next === "retry") this.chatNotBefore.set(chatId, step.at);
    } catch (error) {
      // A wait cut short by stop() is no failure.
      if (this.stopping) return;
      throw error;
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

  private backoff(attempts: number): number {
    const base = Math.min(this.tuning.backoffMaxMs, this.tuning.backoffBaseMs * 2 ** Math.min(attempts, 20));
    return Math.round(Math.min(this.tuning.backoffMaxMs, base * (0.7 + Math.random() * 0.6)));
  }

  /** The whole chat, not one message: it moved, it is gone, or the bot may not post there. */
  private async chatFailed(chatId: number, failure: ChatFailure): Promise<void> {
    switch (failure.kind) {
      case "migrated": {
        const { moved } = await migrateChat(this.chatLifecycle, chatId, failure.newChatId);
        this.chatNotBefore.delete(chatId);
        this.log.info(
          { oldId: chatId, newId: failure.newChatId, moved },
          "the group became a supergroup; its deliveries move to the new id",
        );
        this.kick();
        return;
      }
      case "chat_gone": {
        // Blocked, kicked, or no such chat: what was queued would be stale by the time it is back.
        const { before, cancelled } = await removeChat(
          this.chatLifecycle,
          chatId,
          failure.description,
          "refused",
        );
        const kind = before?.kind ?? (chatId > 0 ? "private" : "supergroup");
        if (cancelled > 0) this.metrics.deliveries.inc({ result: "cancelled", chat_kind: kind }, cancelled);
        this.log.warn(
          { chatId, reason: failure.description, cancelled },
          "the chat no longer accepts messages; deliveries there stop",
        );
        return;
      }
      case "cannot_post": {
        // The bot is still there; an admin can give it its rights back: the queue waits for /accept.
        await pauseChat(this.chatLifecycle, chatId, failure.description);
        this.log.warn(
          { chatId, reason: failure.description },
          "the bot may not post in the chat; deliveries there are paused and kept until it is allowed again",
        );
        return;
      }
    }
  }
}
