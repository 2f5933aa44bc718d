// The chaos plan: every action of a run, drawn from the seed before the run starts. Nothing drawn
// depends on what the service does, so a seed always replays the same actions at the same offsets
// (the service's own timing still varies a little from run to run).

import type { IncidentStatus } from "../../src/siem/types.js";
import { Prng } from "./prng.js";
import { drawMatchers, type RuleMatcher, type SeverityWord } from "./rules.js";

export type TelegramFaultMethod = "sendMessage" | "editMessageText" | "*";

export type ChaosAction =
  /** One new incident, created now. */
  | { kind: "incident"; severity: "High" | "Medium" | "Low"; events: number }
  /** Many at once (a correlation storm). */
  | { kind: "burst"; count: number }
  /** An incident that shows up now with a `created` time in the past (within the overlap window). */
  | { kind: "late"; ageMs: number }
  /** An incident dated hours ahead (a collector with a wrong clock). */
  | { kind: "future"; aheadMs: number }
  /** A status change made in the SIEM UI: the `pick` fraction selects one of the incidents so far. */
  | { kind: "siemStatus"; pick: number; choice: number }
  /** Correlation adds events to an incident without changing its modification time. */
  | { kind: "quietEvents"; pick: number; count: number }
  /** The SIEM's read model shows changes `ms` late (0 ends it). */
  | { kind: "readLag"; ms: number }
  /** The next `count` calls about one incident fail (500, 403 or a truncated body); the others work. */
  | { kind: "incidentFault"; pick: number; fault: "500" | "403" | "malformed"; count: number }
  | { kind: "siem503"; seconds: number }
  | { kind: "siemMalformed"; count: number }
  | { kind: "siemHang"; count: number }
  | { kind: "siemLatency"; ms: number }
  | { kind: "tokenExpiry" }
  | { kind: "tg429"; method: TelegramFaultMethod; retryAfter: number; times: number }
  | { kind: "tg5xx"; method: TelegramFaultMethod; code: 500 | 502 | 503; times: number }
  /** Connections dropped before the call takes effect, or (afterProcessing) after: a send that "maybe happened". */
  | { kind: "tgReset"; count: number; afterProcessing: boolean }
  | { kind: "tgOutage"; ms: number; mode: "bad-gateway" | "drop" }
  /** The watched private chat blocks the bot (with or without the my_chat_member update Telegram sends). */
  | { kind: "block"; withUpdate: boolean }
  /** It unblocks the bot, and the admin allows it again with /accept<id>. */
  | { kind: "unblock" }
  /** The group becomes a supergroup (a new chat id). */
  | { kind: "migrate" }
  | { kind: "adminCommand"; text: "/debug" | "/accepted" | "/ping" | "/help" }
  /** The admin sets a chat's filter (`/filter<id> MATCHERS`), or clears it (null: `/filter<id> off`). */
  | { kind: "filter"; chat: RoutedChat; matchers: RuleMatcher[] | null }
  /** The admin mutes a chat for `seconds` (`/mute<id> 30s [MATCHERS]`); empty matchers: everything. */
  | { kind: "mute"; chat: RoutedChat; seconds: number; matchers: RuleMatcher[] }
  /** The admin ends a chat's mutes (`/unmute<id>`). */
  | { kind: "unmute"; chat: RoutedChat }
  /**
   * The service process is killed; it is started again `restartAfterMs` later. With several instances
   * the target is the one leading at that moment, or one standing by; `midSend`: the leader gets the
   * signal inside the fake's handling of its next message, before the answer (the message id) leaves.
   */
  | {
      kind: "kill";
      signal: "SIGKILL" | "SIGTERM";
      restartAfterMs: number;
      target?: "leader" | "standby";
      midSend?: boolean;
    }
  /**
   * PostgreSQL ends the leader's connections (pg_terminate_backend): its lease connection alone, or
   * every connection of its process (the lease's and the store's pool).
   */
  | { kind: "pgTerminate"; scope: "lease" | "all" }
  /**
   * Someone presses a button under a copy the bot delivered: `pick` selects one of the presser's copies so
   * far. `fresh`: one of the buttons the copy shows now (`choice` among them); stale: the `choice`-th of
   * Approve, Take, Resolve, Close whatever it shows (a client that did not redraw, a race with the SIEM UI).
   * Close goes on to its confirmation with `reason` (close_no: Cancel).
   */
  | { kind: "press"; presser: Presser; pick: number; fresh: boolean; choice: number; reason: CloseChoice }
  /** The admin opens a card in their private chat: `/inc KEY` of an incident so far, or a digest's `/inc_N`. */
  | { kind: "lookup"; pick: number; fromDigest: boolean }
  /** The admin links Alice to her MP account (`/link`), so that her Take assigns. */
  | { kind: "link" }
  /** Someone presses Snooze under a copy that shows it (`pick` among the presser's copies showing it). */
  | { kind: "snooze"; presser: Presser; pick: number }
  /**
   * Someone in the SIEM UI assigns an incident (`pick` among those so far) to an MP user, or clears its
   * assignee (null): an incident someone holds gets no reminders, even while New.
   */
  | { kind: "siemAssign"; pick: number; to: "alice" | "operator" | null };

/**
 * Who presses: the admin (in the group, or under a card /inc sent to their private chat), Alice (allowed
 * personally: in her private chat or in the group), Bob (allowed personally, in the group; while he blocks
 * the bot he may or may not count as allowed) and Carol, a stranger who is only a member of the group.
 */
export type Presser = "admin" | "alice" | "bob" | "carol";
export type CloseChoice = "close_yes" | "close_duplicate" | "close_authorised" | "close_other" | "close_no";

/** The workflow's actions, as a set of kinds (they are drawn from their own stream). */
export const WORKFLOW_KINDS: ReadonlySet<ChaosAction["kind"]> = new Set(["press", "lookup", "link"]);

/** The reminder actions, as a set of kinds (they are drawn from their own stream). */
export const REMINDER_KINDS: ReadonlySet<ChaosAction["kind"]> = new Set(["snooze", "siemAssign"]);

/** The chats whose routing the run changes: Alice, and the group (its supergroup after the migration). */
export type RoutedChat = "alice" | "group";

/** The routing actions, as a set of kinds (they are drawn from their own stream). */
export const ROUTING_KINDS: ReadonlySet<ChaosAction["kind"]> = new Set(["filter", "mute", "unmute"]);

export interface PlannedAction {
  /** Offset from the start of the chaos phase. */
  atMs: number;
  action: ChaosAction;
}

/** How the service runs: one instance on SQLite (the default), or several on one PostgreSQL database. */
export interface PlanShape {
  instances: number;
  db: "sqlite" | "postgres";
}

export const DEFAULT_SHAPE: PlanShape = { instances: 1, db: "sqlite" };

export interface ChaosPlan {
  seed: number;
  durationMs: number;
  shape: PlanShape;
  /** BOT_POLL_INTERVAL, seconds. */
  pollIntervalSec: number;
  /** Seeds the emulator's generated names, ids and events. */
  emulatorSeed: number;
  /** BOT_SILENT_BELOW for this run; null: not set. */
  silentBelow: SeverityWord | null;
  /** The reminder and escalation policies of the run (issue 15). */
  reminders: ReminderPlan;
  actions: PlannedAction[];
}

/**
 * The run's reminder policies: the env one (BOT_REMIND_*) always; the escalation either in the env
 * settings (BOT_ESCALATE_*, then BOT_REMIND_MIN_SEVERITY applies to it too) or as a `notify` policy of
 * the YAML file's `escalation:`, with a severity matcher of its own.
 */
export interface ReminderPlan {
  remindAfterSec: number;
  remindEverySec: number;
  remindMax: number;
  minSeverity: SeverityWord;
  escalation: {
    via: "env" | "file";
    afterSec: number;
    /** The file policy's `match: severity>=…` (low: no match, every incident); env: minSeverity. */
    minSeverity: SeverityWord;
  };
}

export const STATUSES: readonly IncidentStatus[] = ["New", "Approved", "InProgress", "Resolved", "Closed"];

/** The longest a SIEM 503 phase lasts: the intake's backoff after it stays well under a minute. */
const MAX_503_SECONDS = 15;
/** Nothing is injected in the last seconds: the run ends with the service up and faults clearing. */
const QUIET_TAIL_MS = 3_000;

/** With several instances, a fault of leadership comes about this often (a kill comes every 25 s alone). */
const LEADERSHIP_FAULT_EVERY_MS = 18_000;
const LEADERSHIP_FAULTS = ["leaderKill", "leaderTerm", "standbyKill", "pgLease", "pgAll"] as const;

/**
 * Draws the whole plan for a run of `durationMs` from `seed`. Everything but the kills is drawn the
 * same way whatever the shape, so one instance on SQLite gets the plan it always got.
 */
export function makePlan(seed: number, durationMs: number, shape: PlanShape = DEFAULT_SHAPE): ChaosPlan {
  const rng = new Prng(seed);
  const pollIntervalSec = Math.round(rng.between(0.5, 1.0) * 10) / 10;
  const emulatorSeed = rng.int(1, 2 ** 31 - 1);
  const actions: PlannedAction[] = [];
  const end = Math.max(5_000, durationMs - QUIET_TAIL_MS);
  const add = (atMs: number, action: ChaosAction) => {
    if (atMs >= 0 && atMs < end) actions.push({ atMs: Math.round(atMs), action });
  };

  // Incidents: a Poisson stream, mostly single ones, some bursts and some late ones.
  for (let t = rng.gap(1_000, 200); t < end; t += rng.gap(2_000, 150)) {
    const kind = rng.weighted({ incident: 75, burst: 7, late: 15, future: 3 });
    if (kind === "incident") {
      add(t, { kind, severity: rng.pick(["High", "Medium", "Low"] as const), events: rng.int(0, 8) });
    } else if (kind === "burst") {
      add(t, { kind, count: rng.int(5, 40) });
    } else if (kind === "future") {
      add(t, { kind, aheadMs: rng.int(30 * 60_000, 5 * 60 * 60_000) });
    } else {
      add(t, { kind, ageMs: rng.int(20_000, 5 * 60_000) });
    }
  }

  // Status changes made in the SIEM UI.
  for (let t = 4_000 + rng.gap(3_000); t < end; t += rng.gap(6_000, 500)) {
    add(t, { kind: "siemStatus", pick: rng.next(), choice: rng.int(0, 3) });
  }

  // Events added quietly to incidents already delivered.
  for (let t = 6_000 + rng.gap(5_000); t < end; t += rng.gap(9_000, 1_000)) {
    add(t, { kind: "quietEvents", pick: rng.next(), count: rng.int(1, 4) });
  }

  // SIEM faults.
  for (let t = rng.gap(8_000, 2_000); t < end; t += rng.gap(12_000, 2_000)) {
    const kind = rng.weighted({
      siem503: 3,
      siemMalformed: 3,
      siemHang: 2,
      siemLatency: 2,
      tokenExpiry: 3,
      readLag: 3,
      incidentFault: 3,
    });
    if (kind === "readLag") {
      add(t, { kind, ms: rng.int(1_000, 8_000) });
      add(t + rng.int(5_000, 20_000), { kind, ms: 0 });
    } else if (kind === "incidentFault") {
      const fault = rng.pick(["500", "403", "malformed"] as const);
      add(t, { kind, pick: rng.next(), fault, count: rng.int(1, 6) });
    } else if (kind === "siem503") add(t, { kind, seconds: rng.int(2, MAX_503_SECONDS) });
    else if (kind === "siemMalformed") add(t, { kind, count: rng.int(1, 4) });
    else if (kind === "siemHang") add(t, { kind, count: rng.int(1, 3) });
    else if (kind === "tokenExpiry") add(t, { kind });
    else {
      add(t, { kind, ms: rng.int(200, 1_500) });
      add(t + rng.int(3_000, 12_000), { kind, ms: 0 });
    }
  }

  // Telegram faults; an outage at most every minute or so.
  let lastOutage = Number.NEGATIVE_INFINITY;
  for (let t = rng.gap(6_000, 1_000); t < end; t += rng.gap(8_000, 1_000)) {
    const kind = rng.weighted({ tg429: 4, tg5xx: 3, tgReset: 4, tgOutage: 1 });
    const method = rng.weighted<TelegramFaultMethod>({ sendMessage: 6, editMessageText: 2, "*": 2 });
    if (kind === "tg429") {
      add(t, { kind, method, retryAfter: rng.int(1, 6), times: rng.int(1, 2) });
    } else if (kind === "tg5xx") {
      add(t, { kind, method, code: rng.pick([500, 502, 503] as const), times: rng.int(1, 3) });
    } else if (kind === "tgReset") {
      add(t, { kind, count: rng.int(1, 3), afterProcessing: rng.chance(0.25) });
    } else if (t - lastOutage > 60_000) {
      lastOutage = t;
      add(t, { kind, ms: rng.int(3_000, 15_000), mode: rng.chance(0.5) ? "bad-gateway" : "drop" });
    }
  }

  // The watched private chat blocks the bot once, and comes back.
  const blockAt = rng.between(0.15, 0.45) * end;
  add(blockAt, { kind: "block", withUpdate: rng.chance(0.6) });
  add(Math.min(end - 1, blockAt + rng.int(8_000, 20_000)), { kind: "unblock" });

  // The group becomes a supergroup once.
  add(rng.between(0.2, 0.8) * end, { kind: "migrate" });

  // The admin looks at the bot now and then.
  for (let t = rng.gap(20_000, 5_000); t < end; t += rng.gap(25_000, 5_000)) {
    add(t, { kind: "adminCommand", text: rng.pick(["/debug", "/accepted", "/ping", "/help"] as const) });
  }

  const silentBelow = addRoutingChanges(seed, end, add);
  addWorkflow(seed, end, add);
  const reminders = addReminders(seed, end, add);

  if (shape.instances > 1) addLeadershipFaults(rng, end, add);
  else {
    // Kills: about one every 25 s (at least two), spread over the run, one or two of them graceful.
    const kills = Math.max(2, Math.round(end / 25_000));
    const slot = end / kills;
    const graceful = new Set([rng.int(0, kills - 1)]);
    if (kills >= 5) graceful.add(rng.int(0, kills - 1));
    for (let i = 0; i < kills; i++) {
      const at = i * slot + rng.between(0.2, 0.8) * slot;
      add(at, {
        kind: "kill",
        signal: graceful.has(i) ? "SIGTERM" : "SIGKILL",
        restartAfterMs: rng.int(200, 4_000),
      });
    }
  }

  // Stable order: by time, then by the order drawn.
  const ordered = actions.map((a, i) => ({ a, i })).sort((x, y) => x.a.atMs - y.a.atMs || x.i - y.i);
  return {
    seed,
    durationMs,
    shape,
    pollIntervalSec,
    emulatorSeed,
    silentBelow,
    reminders,
    actions: ordered.map((x) => x.a),
  };
}

/** Mixed into the seed for the routing stream, so the actions drawn before routing existed stay as drawn. */
const ROUTING_STREAM = 0x0a7e_5c0d;
/** Mutes are short, so that some end by themselves during the run and some are ended by /unmute. */
const MUTE_SECONDS = [20, 60] as const;

/**
 * The admin's routing commands, about one every 6 s (more often in a short run; never closer than 2 s),
 * for Alice or the group:
 * filters of one to three matchers (every field but `rule`, every operator), `/filter off`, mutes of
 * 20–60 s with or without matchers, `/unmute`. One seed in three also runs with BOT_SILENT_BELOW.
 */
function addRoutingChanges(
  seed: number,
  end: number,
  add: (atMs: number, action: ChaosAction) => void,
): SeverityWord | null {
  const rng = new Prng(Math.imul((seed ^ ROUTING_STREAM) >>> 0, 0x9e37_79b1) >>> 0);
  // One draw: consecutive draws of a fresh stream are not independent enough for a one-in-three pick of three.
  const silentBelow = rng.pick([null, null, null, null, null, null, "low", "medium", "high"] as const);
  // A half-minute run still changes several rules.
  const mean = Math.min(6_000, end / 8);
  for (let t = 1_500 + rng.gap(2_000); t < end; t += rng.gap(mean, 2_000)) {
    const chat = rng.pick(["alice", "group"] as const);
    const kind = rng.weighted({ filter: 4, filterOff: 1.5, mute: 2.5, unmute: 1 });
    if (kind === "filter") add(t, { kind, chat, matchers: drawMatchers(rng, 3) });
    else if (kind === "filterOff") add(t, { kind: "filter", chat, matchers: null });
    else if (kind === "mute") {
      const matchers = rng.chance(0.5) ? drawMatchers(rng, 2) : [];
      add(t, { kind, chat, seconds: rng.int(MUTE_SECONDS[0], MUTE_SECONDS[1]), matchers });
    } else add(t, { kind, chat });
  }
  return silentBelow;
}

/** Mixed into the seed for the workflow stream (presses, lookups, the link), for the same reason. */
const WORKFLOW_STREAM = 0x3b1d_f10e;

/**
 * Button presses about one every 2.5 s (more often in a short run), from the admin, Alice, Bob and the
 * stranger Carol, a third of them stale; the admin's lookups (`/inc KEY`, a digest's `/inc_N`) about one
 * every 12 s; Alice linked to her MP account once, in the first third of the run.
 */
function addWorkflow(seed: number, end: number, add: (atMs: number, action: ChaosAction) => void): void {
  const rng = new Prng(Math.imul((seed ^ WORKFLOW_STREAM) >>> 0, 0x85eb_ca6b) >>> 0);
  add(rng.between(0.05, 0.3) * end, { kind: "link" });
  const pressMean = Math.min(2_500, end / 12);
  for (let t = 3_000 + rng.gap(pressMean); t < end; t += rng.gap(pressMean, 300)) {
    add(t, {
      kind: "press",
      presser: rng.weighted<Presser>({ admin: 2, alice: 3, bob: 1.5, carol: 1.5 }),
      pick: rng.next(),
      fresh: rng.chance(2 / 3),
      choice: rng.int(0, 11),
      reason: rng.weighted<CloseChoice>({
        close_yes: 3,
        close_duplicate: 1,
        close_authorised: 1,
        close_other: 1,
        close_no: 1.5,
      }),
    });
  }
  const lookupMean = Math.min(12_000, end / 4);
  for (let t = 5_000 + rng.gap(lookupMean); t < end; t += rng.gap(lookupMean, 1_000)) {
    add(t, { kind: "lookup", pick: rng.next(), fromDigest: rng.chance(0.5) });
  }
}

/** Mixed into the seed for the reminders stream (policies, snoozes, assignments in the SIEM UI). */
const REMINDER_STREAM = 0x5e1f_0a15;

/**
 * The reminder policies, with delays short enough to fire many times in a run (a tenth or so of it: 14–28
 * s in three minutes, never under 6 s), repeated 2 or 3 times, and an escalation 1.5–2.5 times the first
 * delay later; a Snooze press about every 20 s (more often in a short run), by any of the four, Carol's
 * changing nothing; an assignment in the SIEM UI about every 20 s, one in four clearing the assignee.
 */
function addReminders(
  seed: number,
  end: number,
  add: (atMs: number, action: ChaosAction) => void,
): ReminderPlan {
  const rng = new Prng(Math.imul((seed ^ REMINDER_STREAM) >>> 0, 0xc2b2_ae35) >>> 0);
  const delay = () => Math.min(30, Math.max(6, Math.round((rng.between(0.08, 0.16) * end) / 1000)));
  const remindAfterSec = delay();
  const remindEverySec = delay();
  const remindMax = rng.int(2, 3);
  const minSeverity = rng.weighted<SeverityWord>({ low: 3, medium: 2, high: 1 });
  const via = rng.chance(0.5) ? "env" : "file";
  const afterSec = Math.round(remindAfterSec * rng.between(1.5, 2.5));
  const escalationSeverity =
    via === "env" ? minSeverity : rng.weighted<SeverityWord>({ low: 2, medium: 2, high: 1 });
  const mean = Math.min(20_000, end / 5);
  for (let t = 2_000 + rng.gap(mean); t < end; t += rng.gap(mean, 1_000)) {
    add(t, {
      kind: "snooze",
      presser: rng.weighted<Presser>({ admin: 1, alice: 2, bob: 1, carol: 1 }),
      pick: rng.next(),
    });
  }
  for (let t = 4_000 + rng.gap(mean); t < end; t += rng.gap(mean, 1_000)) {
    const to = rng.weighted<"alice" | "operator" | "clear">({ alice: 1.5, operator: 1.5, clear: 1 });
    add(t, { kind: "siemAssign", pick: rng.next(), to: to === "clear" ? null : to });
  }
  return {
    remindAfterSec,
    remindEverySec,
    remindMax,
    minSeverity,
    escalation: { via, afterSec, minSeverity: escalationSeverity },
  };
}

/**
 * Several instances: about one fault of leadership every 18 s, spread over the run — SIGKILL and SIGTERM
 * of the leader (half of them in the middle of a send), a kill of the standby, its lease connection
 * ended, all its connections ended. The first five are one of each, in a drawn order, so every run
 * meets every kind; the rest are weighted.
 */
function addLeadershipFaults(rng: Prng, end: number, add: (atMs: number, action: ChaosAction) => void): void {
  const count = Math.max(LEADERSHIP_FAULTS.length, Math.round(end / LEADERSHIP_FAULT_EVERY_MS));
  const slot = end / count;
  const firstFive = [...LEADERSHIP_FAULTS];
  for (let i = firstFive.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [firstFive[i], firstFive[j]] = [firstFive[j]!, firstFive[i]!];
  }
  for (let i = 0; i < count; i++) {
    const at = i * slot + rng.between(0.15, 0.85) * slot;
    const kind =
      firstFive[i] ?? rng.weighted({ leaderKill: 4, leaderTerm: 2, standbyKill: 2, pgLease: 2, pgAll: 2 });
    const restartAfterMs = rng.int(200, 4_000);
    if (kind === "leaderKill" || kind === "leaderTerm") {
      const signal = kind === "leaderKill" ? "SIGKILL" : "SIGTERM";
      add(at, { kind: "kill", signal, restartAfterMs, target: "leader", midSend: rng.chance(0.5) });
    } else if (kind === "standbyKill") {
      const signal = rng.chance(0.5) ? "SIGKILL" : "SIGTERM";
      add(at, { kind: "kill", signal, restartAfterMs, target: "standby" });
    } else add(at, { kind: "pgTerminate", scope: kind === "pgLease" ? "lease" : "all" });
  }
}

/** How many actions of each kind a plan holds (for the summary). */
export function countByKind(actions: readonly PlannedAction[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { action } of actions) counts[action.kind] = (counts[action.kind] ?? 0) + 1;
  return counts;
}
