// The scheduler against the MP SIEM emulator over HTTP and a real SQLite store, with a clock that moves
// only when told (nothing sleeps): the fire-time re-read stops a reminder the poller has not seen yet; the
// SIEM budget for those re-reads holds, the rest checked against the store; a backfill does not escalate;
// two schedulers racing on one job (a tick cut short, a second instance) write its step once.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { EscalationPolicyConfig, ReminderConfig } from "../../src/config/types.js";
import { Metrics } from "../../src/http/metrics.js";
import { IncidentReader } from "../../src/intake/index.js";
import { ENV_POLICY, ReminderEngine } from "../../src/schedule/index.js";
import { fakeTime, type Harness, MINUTE, startHarness } from "../intake/helpers.js";

const SETTINGS: ReminderConfig = {
  remindAfterMs: 10 * MINUTE,
  remindEveryMs: 10 * MINUTE,
  remindMax: 3,
  remindMinSeverity: "low",
  escalateAfterMs: 30 * MINUTE,
  escalateChatId: -100999,
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function world(
  opts: {
    created?: number[];
    severity?: "Low" | "Medium" | "High";
    severities?: string[];
    start?: number;
  } = {},
) {
  const time = fakeTime(opts.start);
  h = await startHarness({ time });
  const harness = h;
  const incidents = (opts.created ?? [time.now()]).map((created, i) =>
    harness.emu.state.addIncident({
      status: "New",
      severity: (opts.severities?.[i] as "Low" | "Medium" | "High" | undefined) ?? opts.severity ?? "High",
      eventsCount: 1,
      created: new Date(created),
    }),
  );
  await harness.intake.pollOnce();
  // Delivered: every row sent, message ids 500 + i.
  for (const [i, row] of (await harness.store.outbox.pending(1000)).entries()) {
    await harness.store.outbox.markSent([row.id], 500 + i, "single", 1);
  }
  const reader = new IncidentReader({
    siem: harness.siem,
    store: harness.store,
    maxEvents: 5,
    now: time.now,
  });
  let queued = 0;
  // The config file's policies alone (no env policy), their active hours in `timeZone`.
  const withPolicies = (policies: EscalationPolicyConfig[], timeZone = "UTC") =>
    new ReminderEngine({
      store: harness.store,
      reader,
      policies,
      timeZone,
      log: pino({ level: "silent" }),
      now: time.now,
      onQueued: () => queued++,
      intervalMs: 1_000,
    });
  const engine = (settings: Partial<ReminderConfig> = {}, rereadsPerMinute?: number, metrics?: Metrics) =>
    new ReminderEngine({
      store: harness.store,
      reader,
      settings: { ...SETTINGS, ...settings },
      log: pino({ level: "silent" }),
      now: time.now,
      onQueued: () => queued++,
      intervalMs: 1_000,
      ...(rereadsPerMinute !== undefined ? { rereadsPerMinute } : {}),
      ...(metrics ? { metrics } : {}),
    });
  return { h: harness, time, incidents, engine, withPolicies, queued: () => queued };
}

describe("the reminder scheduler", () => {
  it("re-reads the incident at fire time: a change in the SIEM UI the poller has not seen stops the reminder", async () => {
    const { h, time, incidents, engine } = await world();
    const scheduler = engine();
    expect(await scheduler.tick()).toMatchObject({ scheduled: 1, reminded: 0 });
    h.emu.state.setStatus(incidents[0]!.id, "Approved");
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, ended: 1, rereads: 1 });
    expect(await h.store.reminders.messagesOf(incidents[0]!.id)).toEqual([]);
    expect((await h.store.incidents.get(incidents[0]!.id))?.status).toBe("Approved");
    expect(await h.store.reminders.job(incidents[0]!.id, ENV_POLICY)).toMatchObject({ nextDueAt: null });
  });

  it("reminds in every chat that has the card, as a reply to it, then escalates once", async () => {
    const { h, time, incidents, engine, queued } = await world();
    const scheduler = engine();
    await scheduler.tick();
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 0 });
    const first = await h.store.reminders.messagesOf(incidents[0]!.id);
    expect(first.map((m) => [m.chatId, m.kind, m.replyTo !== null]).sort()).toEqual([
      [-100202, "remind", true],
      [101, "remind", true],
    ]);
    expect(queued()).toBe(1);
    time.advance(20 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 1 });
    time.advance(60 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 0 });
    time.advance(60 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0 });
    const all = await h.store.reminders.messagesOf(incidents[0]!.id);
    expect(all.filter((m) => m.kind === "escalate").map((m) => m.chatId)).toEqual([-100999]);
    expect(all.filter((m) => m.kind === "remind")).toHaveLength(3 * 2);
    expect((await h.store.incidents.get(incidents[0]!.id))?.reminderNote?.escalatedTo).toBe("-100999");
  });

  it("keeps to its SIEM budget: re-reads beyond it are checked against the store", async () => {
    const { time, engine } = await world({ created: [0, 1, 2, 3, 4].map((i) => Date.now() - i * 1_000) });
    const metrics = new Metrics({ processMetrics: false });
    const scheduler = engine({ escalateAfterMs: 0 }, 2, metrics);
    expect(await scheduler.tick()).toMatchObject({ scheduled: 5 });
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 5, rereads: 2, fromStore: 3 });
    // Within the same minute the budget is spent.
    time.advance(10 * MINUTE - 30_000);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0 });
    time.advance(30_000);
    expect(await scheduler.tick()).toMatchObject({ reminded: 5, rereads: 2, fromStore: 3 });
    // /metrics shows the SIEM's share, the steps and how late the jobs were looked at.
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^mpsiem_telegram_reminder_checks_total\{source="siem"\} 4$/m);
    expect(text).toMatch(/^mpsiem_telegram_reminder_checks_total\{source="store"\} 6$/m);
    expect(text).toMatch(/^mpsiem_telegram_reminder_steps_total\{kind="remind"\} 10$/m);
    expect(text).toMatch(/^mpsiem_telegram_reminder_lateness_seconds_count 10$/m);
  });

  it("counts each re-read when it is made: a slow tick's late re-read still holds the budget a minute", async () => {
    const { h, time } = await world({ created: [0, 1, 2, 3, 4].map((i) => Date.now() - i * 1_000) });
    const reader = new IncidentReader({ siem: h.siem, store: h.store, maxEvents: 5, now: time.now });
    // The clock at each re-read; the first one answers after 59 s (a SIEM under load), the rest at once.
    const readAt: number[] = [];
    const delays = [59_000];
    const slowReader = {
      reread: async (id: string) => {
        readAt.push(time.now());
        const read = await reader.reread(id);
        time.advance(delays.shift() ?? 0);
        return read;
      },
    };
    const scheduler = new ReminderEngine({
      store: h.store,
      reader: slowReader,
      settings: { ...SETTINGS, remindEveryMs: MINUTE, escalateAfterMs: 0 },
      log: pino({ level: "silent" }),
      now: time.now,
      onQueued: () => undefined,
      intervalMs: 1_000,
      rereadsPerMinute: 2,
      // One at a time, so that the second re-read begins when the first has answered.
      rereadConcurrency: 1,
    });
    await scheduler.tick();
    time.advance(10 * MINUTE);
    const start = time.now();
    expect(await scheduler.tick()).toMatchObject({ reminded: 5, rereads: 2, fromStore: 3 });
    expect(readAt.map((t) => t - start)).toEqual([0, 59_000]);
    // The next reminders are due a minute after the tick began: only the re-read made at +0 s has left the
    // last minute, so one more, not two (two would make three within 60 s).
    time.advance(MINUTE - (time.now() - start));
    expect(await scheduler.tick()).toMatchObject({ reminded: 5, rereads: 1, fromStore: 4 });
    for (const t of readAt)
      expect(readAt.filter((u) => u > t - MINUTE && u <= t).length).toBeLessThanOrEqual(2);
  });

  it("re-reads a few incidents at once, within the budget, the most overdue first", async () => {
    const { h, time, incidents } = await world({
      created: [0, 1, 2, 3, 4, 5].map((i) => Date.now() - i * 1_000),
    });
    const reader = new IncidentReader({ siem: h.siem, store: h.store, maxEvents: 5, now: time.now });
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const countingReader = {
      reread: async (id: string) => {
        order.push(id);
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          return await reader.reread(id);
        } finally {
          inFlight--;
        }
      },
    };
    const scheduler = new ReminderEngine({
      store: h.store,
      reader: countingReader,
      settings: { ...SETTINGS, escalateAfterMs: 0 },
      log: pino({ level: "silent" }),
      now: time.now,
      onQueued: () => undefined,
      intervalMs: 1_000,
      rereadsPerMinute: 5,
      rereadConcurrency: 3,
    });
    await scheduler.tick();
    time.advance(10 * MINUTE);
    const due = (await h.store.reminders.due(time.now(), 10)).map((j) => j.incidentId);
    expect(due.sort()).toEqual(incidents.map((i) => i.id).sort());
    const dueOrder = (await h.store.reminders.due(time.now(), 10)).map((j) => j.incidentId);
    expect(await scheduler.tick()).toMatchObject({ reminded: 6, rereads: 5, fromStore: 1 });
    expect(most).toBe(3);
    // The budget goes to the jobs in due order (the most overdue first); the last is read from the store.
    expect(order).toEqual(dueOrder.slice(0, 5));
  });

  it("waits for the next tick until the next job is due, at most the interval; none while a backlog is left", async () => {
    const { time, engine } = await world();
    const scheduler = engine({ escalateAfterMs: 0 });
    const report = await scheduler.tick();
    expect(report).toMatchObject({ scheduled: 1, backlog: false });
    // The one job is due in 10 minutes: the interval (1 s) decides.
    expect(await scheduler.delayAfter(report)).toBe(1_000);
    time.advance(10 * MINUTE - 400);
    expect(await scheduler.delayAfter(report)).toBe(400);
    time.advance(390);
    expect(await scheduler.delayAfter(report)).toBe(100); // never closer than 100 ms
    expect(await scheduler.delayAfter({ ...report, backlog: true })).toBe(0);
    time.advance(10);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1 });
  });

  it("a Snooze pressed before the incident's job existed pauses the job made later", async () => {
    // An /inc card, or a chat whose copy went out first, can be snoozed before the scheduler has seen the
    // incident's copies: no job to pause yet (chaos seed 1749713782: a reminder 164 s after the Snooze).
    const { h, time, incidents, engine } = await world();
    const id = incidents[0]!.id;
    expect(await h.store.reminders.bump(id, { snoozedUntil: time.now() + 60 * MINUTE })).toBe(0);
    const scheduler = engine({ escalateAfterMs: 30 * MINUTE });
    expect(await scheduler.tick()).toMatchObject({ scheduled: 1 });
    expect(await h.store.reminders.job(id, ENV_POLICY)).toMatchObject({
      snoozedUntil: time.now() + 60 * MINUTE,
    });
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0, rereads: 0 });
    time.advance(30 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0, rereads: 0 });
    // The hour is over: one reminder and the escalation, not every one missed.
    time.advance(20 * MINUTE + 1_000);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 1 });
    // A status change ends the kept snooze with the jobs.
    expect((await h.store.incidents.get(id))?.reminderNote?.snoozedUntil).toBeGreaterThan(0);
    await h.store.reminders.bump(id, { snoozedUntil: null, done: true });
    expect((await h.store.incidents.get(id))?.reminderNote?.snoozedUntil).toBeUndefined();
  });

  it("does not escalate an incident that was already old when first seen (a backfill); it still reminds", async () => {
    const { h, time, incidents, engine } = await world({ created: [Date.now() - 2 * 60 * MINUTE] });
    const scheduler = engine();
    await scheduler.tick();
    expect(await h.store.reminders.job(incidents[0]!.id, ENV_POLICY)).toMatchObject({ escalateAt: null });
    time.advance(2 * 60 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 0 });
  });

  it("leaves incidents below BOT_REMIND_MIN_SEVERITY alone: their job is over at once", async () => {
    const { h, time, incidents, engine } = await world({ severity: "Medium" });
    const scheduler = engine({ remindMinSeverity: "high" });
    expect(await scheduler.tick()).toMatchObject({ scheduled: 1 });
    expect(await h.store.reminders.job(incidents[0]!.id, ENV_POLICY)).toMatchObject({ nextDueAt: null });
    time.advance(2 * 60 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0, rereads: 0 });
    expect(await h.store.reminders.messagesOf(incidents[0]!.id)).toEqual([]);
    // The same incident under "medium" is reminded of (a second world: afterEach closes that one).
    await h.close();
    const other = await world({ severity: "Medium" });
    await other.engine({ remindMinSeverity: "medium" }).tick();
    expect((await other.h.store.reminders.job(other.incidents[0]!.id, ENV_POLICY))?.nextDueAt).not.toBeNull();
  });

  it("two schedulers racing on the same due job write its step and its messages once", async () => {
    const { h, time, incidents, engine } = await world();
    const one = engine();
    const two = engine();
    await one.tick();
    time.advance(10 * MINUTE);
    const [a, b] = await Promise.all([one.tick(), two.tick()]);
    expect(a.reminded + b.reminded).toBe(1);
    expect(await h.store.reminders.messagesOf(incidents[0]!.id)).toHaveLength(2);
  });
});

/** A policy of the config file, as config/policies.ts makes it. */
function policy(p: Partial<EscalationPolicyConfig> & { name: string }): EscalationPolicyConfig {
  return { match: "", remind: null, notify: null, repeat: 3, activeHours: [], ...p };
}

/** The last `hh:mm` UTC at or before the real now (the SIEM emulator's incidents are in the past). */
function lastUtc(hours: number, minutes: number): number {
  const now = Date.now();
  const day = new Date(now);
  let at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hours, minutes);
  if (at > now) at -= 24 * 60 * MINUTE;
  return at;
}

describe("policies of the config file", () => {
  it("holds a step due outside the policy's active hours until they begin, then sends it once", async () => {
    // The card goes out at 01:50 in BOT_TIME_ZONE (here Asia/Tokyo, UTC+9): the reminder is due at 02:00.
    const start = lastUtc(16, 50);
    const { h, time, incidents, withPolicies } = await world({ start });
    const scheduler = withPolicies(
      [
        policy({
          name: "office",
          remind: { afterMs: 10 * MINUTE, everyMs: 8 * 60 * MINUTE },
          notify: { afterMs: 20 * MINUTE, chatId: -100999 },
          repeat: 2,
          activeHours: ["09:00-18:00"],
        }),
      ],
      "Asia/Tokyo",
    );
    expect(await scheduler.tick()).toMatchObject({ scheduled: 1 });
    expect((await h.store.reminders.job(incidents[0]!.id, "office"))?.nextDueAt).toBe(start + 10 * MINUTE);
    // 02:00 … 08:59: held, nothing queued, no SIEM re-read spent.
    const nineLocal = start + 7 * 60 * MINUTE + 10 * MINUTE;
    let held = 0;
    for (let t = start + 10 * MINUTE; t < nineLocal; t += 30 * MINUTE) {
      time.advance(t - time.now());
      const report = await scheduler.tick();
      expect(report).toMatchObject({ reminded: 0, escalated: 0, rereads: 0 });
      held += report.held;
    }
    // Held once at 02:00, then not looked at again until 09:00.
    expect(held).toBe(1);
    expect(await h.store.reminders.messagesOf(incidents[0]!.id)).toEqual([]);
    expect((await h.store.reminders.job(incidents[0]!.id, "office"))?.nextDueAt).toBe(nineLocal);
    // 09:00: the reminder (one, not one per missed slot) and the notification, once.
    time.advance(nineLocal - time.now());
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 1 });
    time.advance(MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0 });
    const sent = await h.store.reminders.messagesOf(incidents[0]!.id);
    expect(
      sent
        .filter((m) => m.kind === "remind")
        .map((m) => m.chatId)
        .sort(),
    ).toEqual([-100202, 101]);
    expect(sent.filter((m) => m.kind === "escalate").map((m) => m.chatId)).toEqual([-100999]);
  });

  it("a policy's matcher selects only the incidents it admits (severity=high: not the Medium one)", async () => {
    const now = Date.now();
    const { h, time, incidents, withPolicies } = await world({
      created: [now, now - 1_000],
      severities: ["High", "Medium"],
    });
    const scheduler = withPolicies([
      policy({
        name: "high",
        match: "severity=high",
        remind: { afterMs: 10 * MINUTE, everyMs: 10 * MINUTE },
      }),
    ]);
    expect(await scheduler.tick()).toMatchObject({ scheduled: 2 });
    const [high, medium] = incidents;
    expect(await h.store.reminders.job(medium!.id, "high")).toMatchObject({ nextDueAt: null });
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1 });
    expect((await h.store.reminders.messagesOf(high!.id)).length).toBe(2);
    expect(await h.store.reminders.messagesOf(medium!.id)).toEqual([]);
  });

  it("an incident admitted by two policies gets a job for each, and each acts on its own", async () => {
    const { h, time, incidents, withPolicies } = await world();
    const scheduler = withPolicies([
      policy({ name: "remind-all", remind: { afterMs: 10 * MINUTE, everyMs: 60 * MINUTE }, repeat: 1 }),
      policy({ name: "duty", match: "severity>=medium", notify: { afterMs: 15 * MINUTE, chatId: -100999 } }),
    ]);
    expect(await scheduler.tick()).toMatchObject({ scheduled: 2 });
    const id = incidents[0]!.id;
    expect(await h.store.reminders.job(id, "remind-all")).toMatchObject({ escalateAt: null });
    expect(await h.store.reminders.job(id, "duty")).toMatchObject({ escalateAt: expect.any(Number) });
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 1, escalated: 0 });
    time.advance(5 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 1 });
    time.advance(2 * 60 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0 });
    const sent = await h.store.reminders.messagesOf(id);
    expect(sent.filter((m) => m.kind === "remind")).toHaveLength(2);
    expect(sent.filter((m) => m.kind === "escalate").map((m) => m.chatId)).toEqual([-100999]);
  });

  it("a change in the SIEM UI stops every policy's job of the incident (each re-reads at fire time)", async () => {
    const { h, time, incidents, withPolicies } = await world();
    const scheduler = withPolicies([
      policy({ name: "remind-all", remind: { afterMs: 10 * MINUTE, everyMs: 10 * MINUTE } }),
      policy({ name: "duty", notify: { afterMs: 10 * MINUTE, chatId: -100999 } }),
    ]);
    expect(await scheduler.tick()).toMatchObject({ scheduled: 2 });
    h.emu.state.setStatus(incidents[0]!.id, "Approved");
    time.advance(10 * MINUTE);
    expect(await scheduler.tick()).toMatchObject({ reminded: 0, escalated: 0, ended: 2 });
    expect(await h.store.reminders.messagesOf(incidents[0]!.id)).toEqual([]);
  });

  it("the env settings and a file policy side by side: two jobs, the env one named env", async () => {
    const { h, incidents } = await world();
    const scheduler = new ReminderEngine({
      store: h.store,
      reader: { reread: async () => undefined },
      settings: SETTINGS,
      policies: [policy({ name: "duty", notify: { afterMs: 15 * MINUTE, chatId: -100999 } })],
      log: pino({ level: "silent" }),
      now: Date.now,
      onQueued: () => undefined,
      intervalMs: 1_000,
    });
    expect(await scheduler.tick()).toMatchObject({ scheduled: 2 });
    expect(await h.store.reminders.job(incidents[0]!.id, ENV_POLICY)).not.toBeUndefined();
    expect(await h.store.reminders.job(incidents[0]!.id, "duty")).not.toBeUndefined();
  });
});
