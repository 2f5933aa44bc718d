// Reminders and escalation (design.md §5, issue 15): the leader's scheduler.
//
// Each delivered incident gets one job per policy (the env one, "env": the BOT_REMIND_* and BOT_ESCALATE_*
// settings, and those of the config file's `escalation:`, schedule/policies.ts), stored with its next due
// time so that it survives restarts and failovers (store/reminders.ts). On each tick, with the injected
// clock, the leader:
//   1. schedules, per policy, the incidents delivered since the last tick (still New, admitted by the
//      policy's matchers or at least its minimum severity; the others get a job that is over at once);
//   2. takes the jobs that are due and re-reads their incidents (from the SIEM within its budget, the rest
//      from the store in one read); it acts only on one still New that nobody holds: a reminder (a reply to
//      the card in every chat that has it, except the chats where a mute holds it), then, once, the
//      escalation (the full card to BOT_ESCALATE_CHAT). A policy's step due outside its active hours is
//      held (not skipped) until they begin, without a re-read: the job's next due time moves to the first
//      minute within them;
//   3. writes each step, the messages it owes and the card's line in fenced transactions (a hundred steps
//      each), every step guarded by its job's generation: an older reader (another instance, a tick cut
//      short) writes nothing.
// The next tick comes when the next job is due (at most one interval later; at once while a backlog is
// left), so reminders go out on time however many are pending, and an idle scheduler costs one indexed
// read an interval. Delivery sends the messages through each chat's lane, pacer and send window
// (delivery/reminder-sends.ts).
//
// The lessons of OnCall, PagerDuty and Opsgenie (prior-art.md) this follows:
//   - no reminder after someone acted: the fire-time re-read, and delivery checks the status again at send;
//   - none lost or doubled on restart: the step and its messages commit together, the messages are claimed;
//   - no repeat storms: BOT_REMIND_MAX per incident, a cap per chat per hour, many at once collapse into one;
//   - a backfill after downtime (created long before it was seen) does not escalate.
//
// SIEM budget for fire-time checks: at most REREADS_PER_MINUTE re-reads in any minute, each three requests
// (the intake read routine: the incident, its events and their count), so at most 180 requests in any 60 s.
// Jobs due beyond the budget are checked against the store instead, which the poller keeps up to date
// within one poll interval (BOT_CHANGE_WINDOW), so a flood costs the SIEM no more than the budget, and
// their reminders go out as usual (collapsed per chat by delivery).
import type { Logger } from "pino";
import type { EscalationPolicyConfig, ReminderConfig } from "../config/types.js";
import {
  type CompiledMatchers,
  compileMatchers,
  incidentFacts,
  parseMatchers,
  severityRank,
} from "../routing/index.js";
import type {
  Chat,
  JobStep,
  NewReminderMessage,
  OutboxCopy,
  ReminderJob,
  Store,
  StoredIncident,
  StoredMute,
  Unscheduled,
} from "../store/index.js";
import { activeFrom, ENV_POLICY, envPolicy, filePolicy, type ReminderPolicy } from "./policies.js";

export { ENV_POLICY };
/** Fire-time re-reads from the SIEM per minute (see the budget above). */
export const REREADS_PER_MINUTE = 60;
/** Jobs looked at per tick, and incidents scheduled per tick. */
const JOBS_PER_TICK = 500;
/** Re-reads in flight at once during a tick. */
const REREAD_CONCURRENCY = 4;
/** The shortest wait between ticks while jobs come due one after another. */
const MIN_TICK_GAP_MS = 100;
/** Steps written per transaction (a short one: on PostgreSQL it holds the jobs' rows while it runs). */
const STEPS_PER_TRANSACTION = 100;
/**
 * An incident first seen this much later than its creation (or later than the escalation delay, if that is
 * longer) was a backfill: it does not escalate.
 */
export const BACKFILL_AFTER_MS = 10 * 60_000;
/** Snooze pauses reminders and escalation this long (design.md §5). */
export const SNOOZE_MS = 3_600_000;
/**
 * After a full look, the scheduler looks only at copies sent since its last look, less this much (a send
 * recorded a moment before a look may commit after it).
 */
const SCAN_SLACK_MS = 60_000;
/** A job whose re-read failed is looked at again after this long. */
const RETRY_AFTER_MS = 30_000;

/** What the engine needs to re-read an incident (the intake's IncidentReader). */
export interface IncidentRereader {
  reread(id: string): Promise<{ incident: StoredIncident } | undefined>;
}

export interface ReminderEngineDeps {
  store: Store;
  reader: IncidentRereader;
  /** The env settings' policy (absent, or both delays 0: none). */
  settings?: ReminderConfig;
  /** The config file's `escalation:` policies. */
  policies?: EscalationPolicyConfig[];
  /** BOT_TIME_ZONE: the policies' active hours are in it (default UTC). */
  timeZone?: string;
  log: Logger;
  now: () => number;
  /** Messages were queued: delivery should look now. */
  onQueued: () => void;
  /** How often the engine ticks on its own (the poll interval). */
  intervalMs: number;
  /** Fire-time re-reads allowed per minute (default REREADS_PER_MINUTE). */
  rereadsPerMinute?: number;
  /** Re-reads in flight at once (default 4). */
  rereadConcurrency?: number;
  /** /metrics: checks by source, steps by kind, lateness (fire time minus due time). */
  metrics?: ReminderMetrics;
}

/** The figures the scheduler reports (http/metrics.ts has them). */
export interface ReminderMetrics {
  reminderChecks: { inc(labels: { source: "siem" | "store" }): void };
  reminderSteps: { inc(labels: { kind: "remind" | "escalate" | "ended" }): void };
  reminderLateness: { observe(seconds: number): void };
}

export interface TickReport {
  scheduled: number;
  reminded: number;
  escalated: number;
  ended: number;
  rereads: number;
  fromStore: number;
  /** Due steps held outside their policy's active hours. */
  held: number;
  /** More was due (or to schedule) than one tick takes: the next tick comes at once. */
  backlog: boolean;
}

export class ReminderEngine {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Times of the re-reads within the last minute (the budget). */
  private readonly rereadTimes: number[] = [];
  /** Per policy: copies sent before this were all looked at (absent: not yet in this term: a full look first). */
  private readonly scannedSince = new Map<string, number>();
  private readonly policies: ReminderPolicy[];
  private readonly byName: Map<string, ReminderPolicy>;

  constructor(private readonly deps: ReminderEngineDeps) {
    this.policies = [
      ...(ReminderEngine.enabled(deps.settings) ? [envPolicy(deps.settings)] : []),
      ...(deps.policies ?? []).map(filePolicy),
    ];
    this.byName = new Map(this.policies.map((p) => [p.name, p]));
  }

  /** Whether the env settings ask for anything at all. */
  static enabled(settings: ReminderConfig | undefined): settings is ReminderConfig {
    return settings !== undefined && (settings.remindAfterMs > 0 || settings.escalateAfterMs > 0);
  }

  /** Whether the env settings or the file's policies ask for anything at all. */
  static wanted(
    settings: ReminderConfig | undefined,
    policies: EscalationPolicyConfig[] | undefined,
  ): boolean {
    return ReminderEngine.enabled(settings) || (policies?.length ?? 0) > 0;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .then(
          (report) => this.delayAfter(report),
          (error: unknown) => {
            this.deps.log.error({ err: error }, "reminder tick failed; trying again");
            return this.deps.intervalMs;
          },
        )
        .then((delay) => {
          if (!this.stopped) this.timer = setTimeout(loop, delay);
        });
    };
    loop();
  }

  /**
   * How long until the next tick: none while due jobs are left over; else until the next job is due, so
   * that a reminder goes out when it is due and not up to a whole interval later; at most the interval (new
   * deliveries need their jobs, and a job may be written by another instance).
   */
  async delayAfter(report: TickReport): Promise<number> {
    if (report.backlog) return 0;
    try {
      const next = await this.deps.store.reminders.nextDueAt();
      if (next === null) return this.deps.intervalMs;
      return Math.min(this.deps.intervalMs, Math.max(MIN_TICK_GAP_MS, next - this.deps.now()));
    } catch (error) {
      this.deps.log.warn({ err: error }, "could not read when the next reminder is due; looking again soon");
      return this.deps.intervalMs;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
  }

  /** One look: schedule what was delivered, act on what is due. */
  async tick(): Promise<TickReport> {
    const report: TickReport = {
      scheduled: 0,
      reminded: 0,
      escalated: 0,
      ended: 0,
      rereads: 0,
      fromStore: 0,
      held: 0,
      backlog: false,
    };
    const now = this.deps.now();
    for (const policy of this.policies) {
      const unscheduled = await this.deps.store.reminders.unscheduled(
        policy.name,
        JOBS_PER_TICK,
        this.scannedSince.get(policy.name) ?? null,
      );
      for (const incident of unscheduled) {
        if (this.stopped) return report;
        if (await this.schedule(policy, incident, now)) report.scheduled++;
      }
      // Everything sent so far has its job: from now on only newer copies need a look (idle CPU with many
      // open incidents stays flat).
      if (unscheduled.length < JOBS_PER_TICK) this.scannedSince.set(policy.name, now - SCAN_SLACK_MS);
      else report.backlog = true;
    }
    // Jobs that need no look at their incident (policy gone, snoozed, held) step on their own; the others
    // are checked together.
    const toCheck: Array<{ job: ReminderJob; policy: ReminderPolicy }> = [];
    const due = await this.deps.store.reminders.due(now, JOBS_PER_TICK);
    if (due.length === JOBS_PER_TICK) report.backlog = true;
    for (const job of due) {
      if (this.stopped) return report;
      const policy = await this.stepUnread(job, now, report);
      if (policy !== null) toCheck.push({ job, policy });
    }
    if (toCheck.length > 0 && !this.stopped) await this.check(toCheck, now, report);
    if (report.reminded > 0 || report.escalated > 0) this.deps.onQueued();
    return report;
  }

  private async schedule(s: ReminderPolicy, incident: Unscheduled, now: number): Promise<boolean> {
    const rank = severityRank(incident.severity);
    let eligible = incident.status === "New" && rank !== null && rank >= s.minRank;
    if (eligible && s.admits !== null) {
      // The policy's matchers see the incident as routing does (its stored facts and rule names).
      const stored = await this.deps.store.incidents.get(incident.incidentId);
      eligible = stored !== undefined && s.admits(incidentFacts(stored, stored.extras?.rules));
    }
    const anchor = incident.firstSentAt;
    const backfill =
      incident.firstSeenAt - incident.createdAt > Math.max(BACKFILL_AFTER_MS, s.escalateAfterMs);
    const remindAt = eligible && s.remindAfterMs > 0 && s.remindMax > 0 ? anchor + s.remindAfterMs : null;
    const escalateAt =
      eligible && s.escalateAfterMs > 0 && s.escalateChatId !== null && !backfill
        ? anchor + s.escalateAfterMs
        : null;
    const nextDueAt = earliest(remindAt, escalateAt);
    return this.deps.store.reminders.schedule({
      incidentId: incident.incidentId,
      policy: s.name,
      anchorAt: anchor,
      nextDueAt,
      escalateAt,
      // Snoozed before its job existed (pressed before this policy saw a copy go out): the job starts so.
      snoozedUntil:
        incident.snoozedUntil !== null && incident.snoozedUntil > now ? incident.snoozedUntil : null,
      doneAt: nextDueAt === null ? now : null,
    });
  }

  /** Steps a job whose policy is gone, that is snoozed or held by active hours (null); else its policy. */
  private async stepUnread(
    job: ReminderJob,
    now: number,
    report: TickReport,
  ): Promise<ReminderPolicy | null> {
    const { store } = this.deps;
    const s = this.byName.get(job.policy);
    // A policy no longer in the config: its jobs are over.
    if (s === undefined) {
      if (await store.reminders.step(job, { doneAt: now, nextDueAt: null })) report.ended++;
      return null;
    }
    // Snoozed: nothing until the snooze is over (a status change ends the job altogether).
    if (job.snoozedUntil !== null && job.snoozedUntil > now) {
      await store.reminders.step(job, { nextDueAt: Math.max(job.snoozedUntil, job.nextDueAt ?? 0) });
      return null;
    }
    // Outside the policy's active hours: held until they begin (no re-read spent on it).
    if (s.activeHours.length > 0) {
      const from = activeFrom(s.activeHours, now, this.deps.timeZone ?? "UTC");
      if (from > now) {
        if (await store.reminders.step(job, { nextDueAt: from })) report.held++;
        return null;
      }
    }
    return s;
  }

  /**
   * The due jobs' check: each incident read again (from the SIEM within its budget, the others from the
   * store in one read), each job's step decided, and all the steps written in one transaction per chunk.
   */
  private async check(
    jobs: Array<{ job: ReminderJob; policy: ReminderPolicy }>,
    now: number,
    report: TickReport,
  ): Promise<void> {
    const { store, log } = this.deps;
    const m = this.deps.metrics;
    const read = new Map<ReminderJob, StoredIncident | undefined>();
    const failed: ReminderJob[] = [];
    const fromStore: ReminderJob[] = [];
    // The most overdue first; a few re-reads at a time, so that a minute's budget does not hold the tick
    // (and the reminders due meanwhile) for a minute's worth of SIEM round trips.
    const queue = jobs.map((j) => j.job);
    const reread = async (): Promise<void> => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        if (this.stopped) return;
        if (!this.takeReread()) {
          fromStore.push(job, ...queue.splice(0));
          return;
        }
        report.rereads++;
        m?.reminderChecks.inc({ source: "siem" });
        try {
          read.set(job, (await this.deps.reader.reread(job.incidentId))?.incident);
        } catch (error) {
          log.warn(
            { incidentId: job.incidentId, err: error instanceof Error ? error.message : String(error) },
            "could not re-read an incident for its reminder; trying again later",
          );
          failed.push(job);
        }
      }
    };
    const concurrency = this.deps.rereadConcurrency ?? REREAD_CONCURRENCY;
    await Promise.all(Array.from({ length: concurrency }, reread));
    if (this.stopped) return;
    if (fromStore.length > 0) {
      const stored = await store.incidents.getMany(fromStore.map((j) => j.incidentId));
      for (const job of fromStore) {
        report.fromStore++;
        m?.reminderChecks.inc({ source: "store" });
        read.set(job, stored.get(job.incidentId));
      }
    }
    if (this.stopped) return;

    const planned: PlannedStep[] = failed.map((job) => ({
      step: { job, patch: { nextDueAt: now + RETRY_AFTER_MS } },
      dueAt: job.nextDueAt,
      outcome: "retry",
    }));
    const acting: Array<{ job: ReminderJob; policy: ReminderPolicy; incident: StoredIncident }> = [];
    for (const { job, policy } of jobs) {
      if (!read.has(job)) continue;
      const incident = read.get(job);
      if (incident && stillUnanswered(incident)) acting.push({ job, policy, incident });
      else {
        planned.push({
          step: { job, patch: { doneAt: now, nextDueAt: null } },
          dueAt: job.nextDueAt,
          outcome: "ended",
        });
      }
    }
    const look = await this.lookAround(
      acting.filter((a) => remindDue(a.job, a.policy, now)).map((a) => a.incident),
      now,
    );
    for (const a of acting) planned.push(this.act(a.job, a.policy, a.incident, now, look));

    for (let i = 0; i < planned.length; i += STEPS_PER_TRANSACTION) {
      const chunk = planned.slice(i, i + STEPS_PER_TRANSACTION);
      const written = await store.reminders.steps(chunk.map((p) => p.step));
      // Lateness: from when the job was due to when its step (the reminder it queues) is written.
      const at = this.deps.now();
      for (const [k, p] of chunk.entries()) {
        if (!written[k]) continue;
        this.count(p, report);
        if (p.outcome !== "retry" && p.dueAt !== null)
          m?.reminderLateness.observe(Math.max(0, at - p.dueAt) / 1000);
      }
    }
  }

  /** The step of a job whose incident is still New and unanswered: its reminder, its escalation. */
  private act(
    job: ReminderJob,
    s: ReminderPolicy,
    incident: StoredIncident,
    now: number,
    look: TickLook,
  ): PlannedStep {
    const remind = remindDue(job, s, now);
    const escalate = job.escalateAt !== null && job.escalatedAt === null && now >= job.escalateAt;
    const messages: NewReminderMessage[] = [];
    const newForMs = Math.max(0, now - incident.created.getTime());
    if (remind) {
      for (const copy of this.cardsOf(incident, look)) {
        messages.push({
          incidentId: incident.id,
          chatId: copy.chatId,
          threadId: copy.threadId,
          kind: "remind",
          replyTo: copy.messageId,
          newForMs,
        });
      }
    }
    let escalatedTo: string | undefined;
    if (escalate && s.escalateChatId !== null) {
      messages.push({
        incidentId: incident.id,
        chatId: s.escalateChatId,
        threadId: null,
        kind: "escalate",
        replyTo: null,
        newForMs,
      });
      escalatedTo = chatName(s.escalateChatId, look.chats.get(s.escalateChatId));
    }
    const remindersSent = job.remindersSent + (remind ? 1 : 0);
    const lastRemindedAt = remind ? now : job.lastRemindedAt;
    const nextRemind =
      s.remindAfterMs > 0 && remindersSent < s.remindMax
        ? Math.max(
            job.anchorAt + s.remindAfterMs + remindersSent * s.remindEveryMs,
            lastRemindedAt === null ? 0 : lastRemindedAt + s.remindEveryMs,
          )
        : null;
    const nextEscalate =
      job.escalateAt !== null && job.escalatedAt === null && !escalate ? job.escalateAt : null;
    const nextDueAt = earliest(nextRemind, nextEscalate);
    return {
      step: {
        job,
        patch: {
          remindersSent,
          lastRemindedAt,
          ...(escalate ? { escalatedAt: now } : {}),
          nextDueAt,
          ...(nextDueAt === null ? { doneAt: now } : {}),
        },
        messages,
        ...(remind || escalatedTo !== undefined
          ? {
              note: {
                ...(remind ? { newForMs: Math.max(0, now - job.anchorAt) } : {}),
                ...(escalatedTo !== undefined ? { escalatedTo } : {}),
              },
            }
          : {}),
      },
      dueAt: job.nextDueAt,
      outcome: "acted",
      remind,
      escalate,
      incident,
      remindersSent,
    };
  }

  /** A written step's figures: the report, the metrics, the log line. */
  private count(p: PlannedStep, report: TickReport): void {
    const m = this.deps.metrics;
    if (p.outcome === "ended") {
      report.ended++;
      m?.reminderSteps.inc({ kind: "ended" });
      return;
    }
    if (p.outcome !== "acted") return;
    if (p.remind) {
      report.reminded++;
      m?.reminderSteps.inc({ kind: "remind" });
    }
    if (p.escalate) {
      report.escalated++;
      m?.reminderSteps.inc({ kind: "escalate" });
    }
    const messages = p.step.messages ?? [];
    if (messages.length > 0) {
      this.deps.log.info(
        {
          incidentId: p.incident.id,
          key: p.incident.key,
          chats: messages.map((x) => x.chatId),
          remindersSent: p.remindersSent,
        },
        p.escalate ? "incident still New: escalated" : "incident still New: reminder queued",
      );
    }
  }

  /**
   * What the tick's reminders need to know about where the cards are, read once for all of them: every
   * copy of the incidents to remind, the chats they are in, the mutes running now.
   */
  private async lookAround(incidents: StoredIncident[], now: number): Promise<TickLook> {
    const { store } = this.deps;
    const look: TickLook = { copies: new Map(), mutes: new Map(), chats: new Map(), muteRules: new Map() };
    if (incidents.length > 0) {
      look.copies = await store.outbox.copiesOfMany(incidents.map((i) => i.id));
      look.mutes = await store.routing.allActiveMutes(now);
    }
    const chatIds = new Set<number>(
      this.policies.flatMap((p) => (p.escalateChatId === null ? [] : [p.escalateChatId])),
    );
    for (const copies of look.copies.values()) for (const c of copies) chatIds.add(c.chatId);
    for (const id of chatIds) look.chats.set(id, await store.chats.get(id));
    return look;
  }

  /** Every chat's card of the incident (its single-message copy, else its digest line), unless muted there. */
  private cardsOf(
    incident: StoredIncident,
    look: TickLook,
  ): Array<{ chatId: number; threadId: number | null; messageId: number }> {
    const byChat = new Map<number, OutboxCopy>();
    for (const copy of look.copies.get(incident.id) ?? []) {
      const before = byChat.get(copy.chatId);
      if (!before || (before.via === "digest" && copy.via !== "digest")) byChat.set(copy.chatId, copy);
    }
    const cards: Array<{ chatId: number; threadId: number | null; messageId: number }> = [];
    const facts = incidentFacts(incident, incident.extras?.rules);
    for (const copy of byChat.values()) {
      const chat = look.chats.get(copy.chatId);
      if (chat?.state !== "allowed" || chat.active !== 1) continue;
      // A mute in the chat (on the whole chat, or on the copy's topic) that matches holds its reminders.
      const muted = (look.mutes.get(copy.chatId) ?? []).some((mute) => {
        if (mute.threadId !== null && mute.threadId !== (copy.threadId ?? chat.thread_id)) return false;
        let rule = look.muteRules.get(mute.id);
        if (rule === undefined) {
          const parsed = parseMatchers(mute.matchers);
          // A mute whose matchers no longer parse holds everything, as it would have at queue time.
          rule = parsed.ok ? compileMatchers(parsed.matchers) : null;
          look.muteRules.set(mute.id, rule);
        }
        return rule === null || rule(facts) !== false;
      });
      if (muted) continue;
      cards.push({ chatId: copy.chatId, threadId: copy.threadId, messageId: copy.messageId });
    }
    return cards;
  }

  /**
   * One re-read from the budget, if any is left in the last minute. Counted at the moment of the read, not
   * the tick's start: a long tick's later re-reads would otherwise leave the window early, and the next
   * minute's would crowd in behind them.
   */
  private takeReread(): boolean {
    const now = this.deps.now();
    const perMinute = this.deps.rereadsPerMinute ?? REREADS_PER_MINUTE;
    while (this.rereadTimes.length > 0 && this.rereadTimes[0]! <= now - 60_000) this.rereadTimes.shift();
    if (this.rereadTimes.length >= perMinute) return false;
    this.rereadTimes.push(now);
    return true;
  }
}

/** Still New and nobody holds it: the only state in which reminders and escalation act. */
export function stillUnanswered(incident: StoredIncident): boolean {
  return incident.status === "New" && !incident.extras?.assignee;
}

/** Whether the job's next reminder is due: on the schedule counted from the first delivery, and never
 * closer than BOT_REMIND_EVERY to the last one (after a snooze or downtime, one reminder, not every one
 * missed). */
function remindDue(job: ReminderJob, s: ReminderPolicy, now: number): boolean {
  return (
    s.remindAfterMs > 0 &&
    job.remindersSent < s.remindMax &&
    now >= job.anchorAt + s.remindAfterMs + job.remindersSent * s.remindEveryMs &&
    (job.lastRemindedAt === null || now >= job.lastRemindedAt + s.remindEveryMs)
  );
}

function chatName(chatId: number, chat: Chat | undefined): string {
  const title = chat?.title ?? (chat?.username ? `@${chat.username}` : null) ?? chat?.first_name ?? null;
  return title ?? String(chatId);
}

/** What one tick read about the cards of the incidents it reminds. */
interface TickLook {
  copies: Map<string, OutboxCopy[]>;
  mutes: Map<number, StoredMute[]>;
  chats: Map<number, Chat | undefined>;
  /** Each mute's compiled matchers (null: they no longer parse). */
  muteRules: Map<number, CompiledMatchers | null>;
}

/** A job's step as the tick decided it, and what it means once written. */
type PlannedStep =
  | { step: JobStep; dueAt: number | null; outcome: "retry" | "ended" }
  | {
      step: JobStep;
      dueAt: number | null;
      outcome: "acted";
      remind: boolean;
      escalate: boolean;
      incident: StoredIncident;
      remindersSent: number;
    };

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
