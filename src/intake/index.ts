// The SIEM poller. Every BOT_POLL_INTERVAL it lists the incidents created since the watermark minus an
// overlap window (all pages), reads the details of a few new ones, stores the unseen ones together with
// their outbox rows and the new watermark in one transaction, and then looks for changes of known
// incidents: the lastModification list, plus the event counts of a few open incidents in turn (events
// may be added without a modification the list shows). Failures of the SIEM never leave the loop: it
// backs off, and tells the admins once when the SIEM has been unreachable for a minute and once when it
// is back. A failure of one incident's read is that incident's alone: it is retried with backoff and
// reported once, and the poll goes on.

import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import type { Metrics } from "../http/metrics.js";
import { t } from "../i18n/index.js";
import { formatTimeNear } from "../render/time.js";
import { type IncidentSummary, type SiemClient, SiemError, type SiemErrorKind } from "../siem/types.js";
import { FencedError, type Route, type Store } from "../store/index.js";
import { backoffDelayMs } from "./backoff.js";
import { needsReread } from "./changes.js";
import { LATE_READS_PER_POLL, readBeforeQueue, readLate } from "./enrichment.js";
import { EventCountWatch } from "./event-watch.js";
import { FailedReads, isSiemWide } from "./failures.js";
import { IncidentReader } from "./reader.js";
import { RoutingRules } from "./routing.js";

export { type BackoffPolicy, backoffDelayMs } from "./backoff.js";
export { needsReread } from "./changes.js";
export { IncidentReader, type LookedUp, type Reread } from "./reader.js";
export { READ_MODEL_LAG_TOLERANCE_MS, reconcileRead } from "./reconcile.js";
export { RoutingRules } from "./routing.js";

export interface IntakeDeps {
  config: Config;
  store: Store;
  siem: SiemClient;
  logger: Logger;
  metrics: Metrics;
  notifyAdmins: (text: string) => Promise<void>;
  /** Kicks delivery: new outbox rows, or incidents whose messages must be edited. */
  onQueued: () => void;
  now?: () => number;
  /** Waits `ms`, or less when `signal` aborts (it may resolve or reject then). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The shared read routine (the bot's buttons use the same one); made here when absent. */
  reader?: IncidentReader;
  /** The routing rules (filters, mutes, silent rules); made here from the config when absent. */
  routing?: RoutingRules;
}

export interface IntakeStatus {
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  lastError: string | null;
  /** When the current SIEM outage began (local clock); null while the SIEM answers. */
  outageSince: number | null;
  /** Newest `created` stored (SIEM time, ms). */
  watermark: number | null;
  consecutiveFailures: number;
  /** Incidents whose own read keeps failing (retried with backoff). */
  failingIncidents: number;
}

export interface PollResult {
  added: number;
  changed: number;
}

/** settings key of the lastModification cursor (SIEM time, ms). */
export const CHANGE_CURSOR_KEY = "intake.changeCursor";
/** The admins hear about an outage once it has lasted this long. */
export const OUTAGE_NOTICE_AFTER_MS = 60_000;
/** Longest wait between attempts while the SIEM fails. */
export const BACKOFF_CAP_MS = 60_000;
/**
 * How far behind its cursor the change check looks again: covers a modification that becomes visible
 * in the SIEM's read model a little after its timestamp, and the time a check itself takes.
 */
export const CHANGE_OVERLAP_MS = 2 * 60_000;
/** Re-reads per poll (three SIEM calls each); the rest wait for the next poll, the cursor waits with them. */
export const MAX_REREADS_PER_POLL = 50;
/**
 * Without a Date header from the SIEM, its present is taken as the local clock plus this much: a SIEM
 * clock a little ahead of ours must not hold incidents back, and a collector hours ahead must not push
 * the watermark into the future.
 */
export const LOCAL_CLOCK_TOLERANCE_MS = 5 * 60_000;
const DATE_HEADER_RESOLUTION_MS = 1_000;
/** settings key of incidents whose change could not be read yet (kept across restarts: the cursor moved on). */
export const PENDING_REREADS_KEY = "intake.pendingRereads";
const PENDING_REREADS_LIMIT = 1_000;
// Under the CLI's 5 s for the whole service: a poll still waiting on the SIEM is abandoned (nothing is
// lost: the watermark only moves with a committed write).
const STOP_WAIT_MS = 3_000;
/** Incidents re-read without a modification time, remembered so that they are not re-read every poll. */
const SETTLED_IDS_LIMIT = 10_000;

type PollKind = "creation" | "lastModification";

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Newest readable `created` among the incidents; the epoch stands for "unknown" and never counts. */
function newestCreated(incidents: IncidentSummary[]): number | null {
  let newest: number | null = null;
  for (const incident of incidents) {
    const ms = incident.created.getTime();
    if (Number.isFinite(ms) && ms > 0 && (newest === null || ms > newest)) newest = ms;
  }
  return newest;
}

function errorKind(error: unknown): SiemErrorKind | "other" {
  return error instanceof SiemError ? error.kind : "other";
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A failed step of a poll, with the kind of poll it belongs to (for the metrics). */
class StepFailure extends Error {
  constructor(
    readonly step: PollKind,
    readonly original: unknown,
  ) {
    super(describe(original));
  }
}

export class Intake {
  private readonly deps: IntakeDeps;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private loop: Promise<void> | null = null;
  private abort = new AbortController();
  private stopping = false;
  /** Polls run one at a time; a pollOnce() while the loop polls waits for that poll first. */
  private chain: Promise<unknown> = Promise.resolve();
  private lastFailureKind: SiemErrorKind | "other" = "other";
  /** The first start (no watermark yet) is fixed at the first attempt, so a failing start keeps its window. */
  private firstStartAt: number | null = null;
  private outageNoticeSent = false;
  /** Incidents added while the SIEM was failing (partly), reported with the recovery. */
  private caughtUp = 0;
  private readonly settledIds = new Set<string>();
  private readonly reader: IncidentReader;
  /** Incidents whose own read failed: retried with backoff, reported once. */
  private readonly failures: FailedReads;
  private readonly eventWatch: EventCountWatch;
  private readonly routing: RoutingRules;
  private readonly state: Omit<IntakeStatus, "failingIncidents"> = {
    lastSuccessAt: null,
    lastAttemptAt: null,
    lastError: null,
    outageSince: null,
    watermark: null,
    consecutiveFailures: 0,
  };

  constructor(deps: IntakeDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? defaultSleep;
    this.reader =
      deps.reader ??
      new IncidentReader({
        siem: deps.siem,
        store: deps.store,
        maxEvents: deps.config.bot.maxEvents,
        now: this.now,
      });
    const pollMs = Math.max(deps.config.bot.pollIntervalMs, 500);
    this.failures = new FailedReads({ baseMs: pollMs, capMs: Math.max(10 * 60_000, pollMs) });
    this.eventWatch = new EventCountWatch(deps.store, deps.siem);
    this.routing =
      deps.routing ??
      new RoutingRules(
        deps.store,
        { silentBelow: deps.config.bot.silentBelow ?? null, timeZone: deps.config.bot.timeZone },
        deps.logger,
      );
  }

  /** Starts polling at once, then every BOT_POLL_INTERVAL (longer after failures). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /** Stops polling and waits for the poll in flight, at most 5 s (a SIEM call may still be hanging). */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.stopping = true;
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
    });
    await Promise.race([loop, timeout]);
    clearTimeout(timer);
    this.loop = null;
  }

  status(): IntakeStatus {
    return { ...this.state, failingIncidents: this.failures.size };
  }

  /**
   * One poll: new incidents, then changes. Resolves with what it found; rejects with the failure
   * (already logged, counted and reported to the admins when due) — the loop catches it.
   */
  pollOnce(): Promise<PollResult> {
    const run = this.chain.then(
      () => this.poll(),
      () => this.poll(),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pollOnce();
      } catch {
        // Logged and counted in poll(); the loop only decides how long to wait.
      }
      if (signal.aborted) break;
      try {
        await this.sleep(this.nextDelayMs(), signal);
      } catch {
        // An aborted sleep may reject; the loop condition ends it.
      }
    }
  }

  /** Poll interval while things work; backoff after failures, shortened to meet the outage notice. */
  private nextDelayMs(): number {
    const { pollIntervalMs } = this.deps.config.bot;
    if (this.state.consecutiveFailures === 0) return pollIntervalMs;
    let delay = backoffDelayMs(this.state.consecutiveFailures, this.lastFailureKind, {
      baseMs: Math.max(pollIntervalMs, 500),
      capMs: Math.max(BACKOFF_CAP_MS, pollIntervalMs),
    });
    // Try again right when the outage turns one minute old, so the notice is not late by a whole backoff.
    if (this.state.outageSince !== null && !this.outageNoticeSent) {
      const noticeDueIn = this.state.outageSince + OUTAGE_NOTICE_AFTER_MS - this.now();
      delay = Math.min(delay, Math.max(10, noticeDueIn));
    }
    return delay;
  }

  private async poll(): Promise<PollResult> {
    const { metrics, logger } = this.deps;
    const startedAt = this.now();
    this.state.lastAttemptAt = startedAt;
    const endTimer = metrics.pollDuration.startTimer();
    let added = 0;
    try {
      added = await this.step("creation", () => this.pollCreated());
      const changed = await this.step("lastModification", () => this.checkChanges());
      endTimer();
      await this.recordSuccess(added);
      const fields = { added, changed, watermark: this.state.watermark };
      if (added > 0 || changed > 0) logger.info(fields, "SIEM poll found new or changed incidents");
      else logger.debug(fields, "SIEM poll");
      return { added, changed };
    } catch (error) {
      endTimer();
      const failure = error instanceof StepFailure ? error : new StepFailure("creation", error);
      await this.recordFailure(failure, startedAt, added);
      throw failure.original;
    }
  }

  private async step<T>(kind: PollKind, work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.deps.metrics.polls.inc({ kind, result: "ok" });
      return result;
    } catch (error) {
      this.deps.metrics.polls.inc({ kind, result: "error" });
      throw new StepFailure(kind, error);
    }
  }

  // --- the SIEM's present ---------------------------------------------------------------------------

  /**
   * The SIEM's own present (from its Date header), or the local clock plus a tolerance. The watermark
   * and the change cursor never pass it: an incident dated hours ahead (a collector with a wrong clock)
   * is delivered, but does not make the poller skip the incidents created in between.
   */
  private siemPresent(): number {
    const siemNow = this.deps.siem.siemNow();
    // The Date header has whole seconds: what was created within its second is still the present.
    return siemNow === null ? this.now() + LOCAL_CLOCK_TOLERANCE_MS : siemNow + DATE_HEADER_RESOLUTION_MS;
  }

  private watermarkFor(listed: IncidentSummary[]): number | null {
    const newest = newestCreated(listed);
    return newest === null ? null : Math.min(newest, this.siemPresent());
  }

  // --- new incidents -------------------------------------------------------------------------------

  private async pollCreated(): Promise<number> {
    const { store, siem, config } = this.deps;
    const watermark = await store.incidents.watermark();
    if (watermark === undefined) return this.firstPoll();
    this.state.watermark = watermark;
    const listed = await siem.listIncidents({
      from: new Date(watermark - config.bot.overlapMs),
      timeType: "creation",
    });
    const next = this.watermarkFor(listed);
    return this.store(listed, next !== null && next > watermark ? next : null, true);
  }

  /**
   * The very first start (no watermark): look back BOT_INITIAL_LOOKBACK. With 0, what already exists
   * (created before the start, within the overlap window) is recorded as seen but not sent, so that
   * the next polls, which re-read the overlap window, do not send it either.
   */
  private async firstPoll(): Promise<number> {
    const { siem, config, logger } = this.deps;
    this.firstStartAt ??= this.now();
    const startAt = this.firstStartAt;
    const lookback = config.bot.initialLookbackMs;
    const listed = await siem.listIncidents({
      from: new Date(startAt - (lookback > 0 ? lookback : config.bot.overlapMs)),
      timeType: "creation",
    });
    // The SIEM's own timestamps when there are any; the local clock only when the SIEM has none.
    const watermark = this.watermarkFor(listed) ?? startAt;
    let added: number;
    if (lookback > 0) {
      added = await this.store(listed, watermark, true);
    } else {
      const fresh = listed.filter((i) => i.created.getTime() >= startAt);
      const existing = listed.filter((i) => i.created.getTime() < startAt);
      // Fresh first and without the watermark: a crash in between leaves a first start again, not a gap.
      added = fresh.length > 0 ? await this.store(fresh, null, true) : 0;
      await this.store(existing, watermark, false);
    }
    logger.info(
      { lookbackMs: lookback, listed: listed.length, added, watermark },
      "first SIEM poll: watermark set",
    );
    this.firstStartAt = null;
    return added;
  }

  /** One ingest transaction; returns how many incidents were queued for delivery. */
  private async store(
    incidents: IncidentSummary[],
    watermark: number | null,
    queue: boolean,
  ): Promise<number> {
    const { store, metrics } = this.deps;
    const startedAt = performance.now();
    // Most of a list is the overlap window again; only unseen ids need a write.
    const known = await store.incidents.known(incidents.map((i) => i.id));
    const unseen = incidents.filter((i) => !known.has(i.id));
    if (unseen.length === 0 && watermark === null) {
      metrics.intakeSeconds.inc((performance.now() - startedAt) / 1000);
      return 0;
    }
    // A few new incidents are read first, so their first message shows details and events.
    const reads = queue ? await this.readNew(unseen) : new Map();
    // Decided now, with the rules as they stand now: which chats, which topic, how loudly. Timed, so that
    // /metrics shows what matching adds to intake (issue 13: under 1 %).
    let routingMs = 0;
    let decisions = 0;
    let route: Route | undefined;
    if (queue && unseen.length > 0) {
      const loadStartedAt = performance.now();
      const decide = await this.routing.routeAt(this.now(), reads);
      routingMs += performance.now() - loadStartedAt;
      route = (incident, recipients) => {
        const decideStartedAt = performance.now();
        try {
          return decide(incident, recipients);
        } finally {
          routingMs += performance.now() - decideStartedAt;
          decisions += recipients.length;
        }
      };
    }
    let result: Awaited<ReturnType<Store["incidents"]["ingest"]>>;
    try {
      result = await store.incidents.ingest(unseen, watermark, {
        queue,
        reads,
        ...(route ? { route } : {}),
      });
    } finally {
      metrics.routingSeconds.inc(routingMs / 1000);
      metrics.routingDecisions.inc(decisions);
      metrics.intakeSeconds.inc((performance.now() - startedAt) / 1000);
    }
    if (watermark !== null && (this.state.watermark === null || watermark > this.state.watermark)) {
      this.state.watermark = watermark;
    }
    if (!queue) return 0;
    metrics.incidentsSeen.inc(result.added.length);
    if (result.queued > 0) this.kickDelivery();
    return result.added.length;
  }

  private async readNew(unseen: IncidentSummary[]) {
    const outcome = await readBeforeQueue(unseen, this.reader, this.failures, this.now);
    this.reportFailing(outcome.newlyFailing, "new incident");
    return outcome.reads;
  }

  // --- changes of known incidents --------------------------------------------------------------------

  private async checkChanges(): Promise<number> {
    const { store, siem, config, logger, metrics } = this.deps;
    const watermark = await store.incidents.watermark();
    if (watermark === undefined) return 0;
    const saved = await store.settings.getNumber(CHANGE_CURSOR_KEY);
    const cursor = saved ?? watermark;
    const windowStart = cursor - CHANGE_OVERLAP_MS;
    const checkStartedAt = this.now();

    const listed = await siem.listIncidents({ from: new Date(windowStart), timeType: "lastModification" });
    const known = await store.incidents.known(listed.map((i) => i.id));
    const watchedSince = this.now() - config.bot.changeWindowMs;
    const candidates = new Set<string>();
    for (const item of listed) {
      if (!known.has(item.id)) continue;
      const stored = await store.incidents.get(item.id);
      if (!stored || stored.firstSeenAt < watchedSince) continue;
      if (needsReread(item, stored, windowStart, this.settledIds)) candidates.add(item.id);
    }
    // Changes whose read failed before (the cursor has moved past them), and events added quietly.
    const pending = await this.pendingRereads();
    for (const id of pending) candidates.add(id);
    for (const id of await this.eventWatch.changed(watchedSince, this.failures, this.now()))
      candidates.add(id);

    let changed = 0;
    let newestModified: number | null = null;
    let read = 0;
    let deferred = 0;
    let siemFailed = false;
    /** Still to be read: failed, backing off or deferred; saved so that neither a poll nor a restart loses them. */
    const failedNow = new Set<string>();
    for (const id of candidates) {
      if (siemFailed || read >= MAX_REREADS_PER_POLL) {
        deferred++;
        failedNow.add(id); // kept: an incident found by its event count or an earlier failure is not listed again
        continue;
      }
      if (!this.failures.due(id, this.now())) {
        failedNow.add(id); // still backing off: kept for a later poll
        continue;
      }
      read++;
      const result = await this.reread(id);
      if (result === "siem-failed") {
        siemFailed = true;
        deferred++;
        failedNow.add(id);
        continue;
      }
      if (result === "failed") {
        failedNow.add(id);
        continue;
      }
      if (result.changed) changed++;
      if (result.modified !== null && (newestModified === null || result.modified > newestModified)) {
        newestModified = result.modified;
      }
    }
    await this.savePendingRereads(pending, failedNow);
    if (changed > 0) {
      metrics.incidentChanges.inc(changed);
      this.kickDelivery();
    }
    // Details of incidents queued without them (a burst): not a change in the SIEM, so not counted.
    await this.readLate();

    if (deferred > 0) {
      logger.info(
        { deferred, siemFailed },
        "not every changed incident was re-read in this poll; the rest follow next poll",
      );
    } else {
      // Only SIEM timestamps move the cursor, never past the SIEM's present. A modification time read
      // long after the listing could skip changes made meanwhile, so it counts only when the check was quick.
      let next = Math.max(cursor, watermark);
      if (newestModified !== null && this.now() - checkStartedAt < CHANGE_OVERLAP_MS / 2) {
        next = Math.max(next, Math.min(newestModified, this.siemPresent()));
      }
      if (saved === undefined || next > saved) await store.settings.set(CHANGE_CURSOR_KEY, String(next));
    }
    return changed;
  }

  /**
   * Re-reads one incident and stores it (the read is reconciled with the store: a lagging read model
   * never takes it back). "failed": this incident's read failed (recorded, retried later);
   * "siem-failed": the SIEM as a whole did not answer.
   */
  private async reread(
    id: string,
  ): Promise<{ changed: boolean; modified: number | null } | "failed" | "siem-failed"> {
    const { logger, metrics } = this.deps;
    try {
      const result = await this.reader.reread(id);
      if (this.failures.succeeded(id)) logger.info({ incident: id }, "incident readable again");
      if (!result) return { changed: false, modified: null };
      if (result.modified === null) {
        if (this.settledIds.size >= SETTLED_IDS_LIMIT) this.settledIds.clear();
        this.settledIds.add(id);
      }
      if (result.changed) {
        logger.debug(
          { incident: id, key: result.incident.key, status: result.incident.status },
          "incident changed in the SIEM",
        );
      }
      return { changed: result.changed, modified: result.modified };
    } catch (error) {
      if (isSiemWide(error)) return "siem-failed";
      if (error instanceof SiemError) metrics.siemErrors.inc({ kind: error.kind });
      const first = this.failures.failed(id, describe(error), this.now());
      if (first) this.reportFailing([{ id, reason: describe(error) }], "changed incident");
      return "failed";
    }
  }

  /** Incidents queued without details (a burst) that will have a message of their own: a few per poll. */
  private async readLate(): Promise<number> {
    const since = this.now() - this.deps.config.bot.changeWindowMs;
    const ids = await this.deps.store.incidents.unenriched(since, LATE_READS_PER_POLL * 3);
    if (ids.length === 0) return 0;
    const outcome = await readLate(ids, this.reader, this.failures, this.now);
    this.reportFailing(outcome.newlyFailing, "new incident");
    if (outcome.changed > 0) this.kickDelivery();
    return outcome.changed;
  }

  /** One warning per incident when its read starts failing; later failures of it are quiet. */
  private reportFailing(list: Array<{ id: string; reason: string }>, what: string): void {
    for (const { id, reason } of list) {
      this.deps.logger.warn(
        { incident: id, error: reason },
        `could not read a ${what} from the SIEM; retrying it on its own with backoff`,
      );
    }
  }

  private async pendingRereads(): Promise<string[]> {
    const raw = await this.deps.store.settings.get(PENDING_REREADS_KEY);
    if (!raw) return [];
    try {
      const ids = JSON.parse(raw) as unknown;
      return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
    } catch {
      return [];
    }
  }

  /** Keeps the incidents whose change is still unread, so a restart does not forget them. */
  private async savePendingRereads(before: string[], failing: Set<string>): Promise<void> {
    const next = [...failing].slice(-PENDING_REREADS_LIMIT);
    if (next.length === before.length && next.every((id, i) => id === before[i])) return;
    await this.deps.store.settings.set(PENDING_REREADS_KEY, JSON.stringify(next));
  }

  // --- outcome of a poll ---------------------------------------------------------------------------

  private async recordSuccess(added: number): Promise<void> {
    const now = this.now();
    const outageSince = this.state.outageSince;
    this.state.lastSuccessAt = now;
    this.state.lastError = null;
    this.state.consecutiveFailures = 0;
    this.lastFailureKind = "other";
    if (outageSince === null) return;
    const caughtUp = this.caughtUp + added;
    const downFor = now - outageSince;
    this.state.outageSince = null;
    this.caughtUp = 0;
    this.deps.logger.info({ downForMs: downFor, caughtUp }, "SIEM reachable again");
    if (this.outageNoticeSent) {
      this.outageNoticeSent = false;
      const texts = t(this.deps.config.bot.locale);
      await this.notify(texts.notices.siemRecovered({ downFor: texts.formatDuration(downFor), caughtUp }));
    }
  }

  private async recordFailure(failure: StepFailure, startedAt: number, added: number): Promise<void> {
    const { logger, metrics, config } = this.deps;
    const error = failure.original;
    const kind = errorKind(error);
    const reason = describe(error);
    this.state.consecutiveFailures++;
    this.state.lastError = reason;
    this.lastFailureKind = kind;

    if (error instanceof SiemError) metrics.siemErrors.inc({ kind });
    if (this.stopping) {
      logger.debug({ step: failure.step, error: reason }, "SIEM poll interrupted by stop");
      return;
    }
    if (error instanceof FencedError) {
      // Another instance leads now: what this poll found is that one's to store (it reads it again).
      logger.warn({ step: failure.step }, "another instance leads now: this poll's results were not stored");
      return;
    }
    if (!(error instanceof SiemError)) {
      // Not the SIEM (the database, a bug): no outage notice, but the loop still backs off.
      logger.error({ step: failure.step, err: error }, "SIEM poll failed");
      return;
    }

    const needsPerson = kind === "credentials" || kind === "tls" || kind === "forbidden";
    const fields = { step: failure.step, kind, failures: this.state.consecutiveFailures, error: reason };
    if (needsPerson) logger.error(fields, "SIEM poll failed; this needs a configuration fix");
    else logger.warn(fields, "SIEM poll failed; backing off");

    if (this.state.outageSince === null) {
      this.state.outageSince = startedAt;
      this.caughtUp = 0;
    }
    this.caughtUp += added;
    const now = this.now();
    if (!this.outageNoticeSent && now - this.state.outageSince >= OUTAGE_NOTICE_AFTER_MS) {
      this.outageNoticeSent = true;
      const texts = t(config.bot.locale);
      const since = formatTimeNear(
        new Date(this.state.outageSince),
        new Date(now),
        config.bot.timeZone,
        config.bot.locale,
      );
      await this.notify(texts.notices.siemDown({ since, reason }));
    }
  }

  private async notify(text: string): Promise<void> {
    try {
      await this.deps.notifyAdmins(text);
    } catch (error) {
      this.deps.logger.warn({ err: describe(error) }, "could not tell the admins about the SIEM connection");
    }
  }

  private kickDelivery(): void {
    try {
      this.deps.onQueued();
    } catch (error) {
      this.deps.logger.warn({ err: describe(error) }, "delivery kick failed");
    }
  }
}
