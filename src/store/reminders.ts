// Reminders and escalation (issue 15, design.md §5): the jobs and the messages they owe, on both dialects.
//
// - One job per (incident, policy), keyed by both: a second scheduling of the same pair does nothing, so a
//   restart or a second instance never doubles it.
// - Every change to a job goes through its generation: the writer names the generation it read, the write
//   bumps it, and a write over an older generation changes nothing. A status change, a snooze or a mute
//   bumps it too, so a job that was read before one of those exits without acting.
// - A job's step and the messages it owes are written in one fenced transaction (only the leader fires):
//   a crash leaves either both or neither, so a restart neither loses nor repeats a reminder.
import type { Kysely, Selectable } from "kysely";
import type { Fence } from "./fence.js";
import type { Database, ReminderJobsTable, ReminderMessagesTable } from "./schema.js";

export interface ReminderJob {
  incidentId: string;
  policy: string;
  generation: number;
  anchorAt: number;
  nextDueAt: number | null;
  remindersSent: number;
  lastRemindedAt: number | null;
  escalateAt: number | null;
  escalatedAt: number | null;
  snoozedUntil: number | null;
  doneAt: number | null;
}

/** A delivered incident with no job yet for a policy. */
export interface Unscheduled {
  incidentId: string;
  severity: string;
  status: string;
  createdAt: number;
  firstSeenAt: number;
  /** When its first copy went out. */
  firstSentAt: number;
  /** A Snooze pressed before the job existed. */
  snoozedUntil: number | null;
}

export interface ReminderMessage {
  id: number;
  incidentId: string;
  chatId: number;
  threadId: number | null;
  kind: "remind" | "escalate";
  replyTo: number | null;
  newForMs: number;
  createdAt: number;
}

export type NewReminderMessage = Omit<ReminderMessage, "id" | "createdAt">;

/** The line a card shows while its incident is New: how long unanswered, and where it was escalated. */
export interface ReminderNote {
  newForMs?: number;
  escalatedTo?: string;
  /** A Snooze pressed before the job existed (not shown on the card). */
  snoozedUntil?: number;
}

/** One step of a job: what it becomes, the messages it owes, the card's note. */
export interface JobStep {
  job: Pick<ReminderJob, "incidentId" | "policy" | "generation">;
  patch: JobPatch;
  messages?: NewReminderMessage[];
  note?: ReminderNote;
}

/** What a job becomes after a step (the generation is bumped by the write itself). */
export type JobPatch = Partial<
  Pick<
    ReminderJob,
    "nextDueAt" | "remindersSent" | "lastRemindedAt" | "escalatedAt" | "snoozedUntil" | "doneAt"
  >
>;

export class RemindersRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly fence: Fence,
  ) {}

  /**
   * Incidents still New, delivered, and without a job for `policy`, oldest delivery first. `sentSince`:
   * only copies sent since then (the scheduler's later looks; the partial index outbox_sent_at answers).
   */
  async unscheduled(policy: string, limit: number, sentSince: number | null = null): Promise<Unscheduled[]> {
    let query = this.db
      .selectFrom("outbox")
      .innerJoin("incidents", "incidents.id", "outbox.incident_id")
      .leftJoin("reminder_jobs", (join) =>
        join
          .onRef("reminder_jobs.incident_id", "=", "outbox.incident_id")
          .on("reminder_jobs.policy", "=", policy),
      )
      .where("reminder_jobs.incident_id", "is", null)
      .where("incidents.status", "=", "New")
      .where("outbox.state", "=", "sent")
      .where("outbox.sent_at", "is not", null);
    if (sentSince !== null) query = query.where("outbox.sent_at", ">=", sentSince);
    const rows = await query
      .select((eb) => [
        "outbox.incident_id as incidentId",
        "incidents.severity as severity",
        "incidents.status as status",
        "incidents.created_at as createdAt",
        "incidents.first_seen_at as firstSeenAt",
        "incidents.reminder_json as reminderJson",
        eb.fn.min("outbox.sent_at").as("firstSentAt"),
      ])
      .groupBy([
        "outbox.incident_id",
        "incidents.severity",
        "incidents.status",
        "incidents.created_at",
        "incidents.first_seen_at",
        "incidents.reminder_json",
      ])
      .orderBy("firstSentAt")
      .orderBy("outbox.incident_id")
      .limit(limit)
      .execute();
    return rows.map(({ reminderJson, ...r }) => ({
      ...r,
      firstSentAt: Number(r.firstSentAt),
      snoozedUntil: readNote(reminderJson).snoozedUntil ?? null,
    }));
  }

  /** Creates the job unless (incident, policy) already has one. Returns whether this call created it. */
  async schedule(
    job: Omit<ReminderJob, "generation" | "remindersSent" | "lastRemindedAt" | "escalatedAt">,
  ): Promise<boolean> {
    const now = this.now();
    const result = await this.fence.run((db) =>
      db
        .insertInto("reminder_jobs")
        .values({
          incident_id: job.incidentId,
          policy: job.policy,
          generation: 1,
          anchor_at: job.anchorAt,
          next_due_at: job.nextDueAt,
          reminders_sent: 0,
          last_reminded_at: null,
          escalate_at: job.escalateAt,
          escalated_at: null,
          snoozed_until: job.snoozedUntil,
          done_at: job.doneAt,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(["incident_id", "policy"]).doNothing())
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async job(incidentId: string, policy: string): Promise<ReminderJob | undefined> {
    const row = await this.db
      .selectFrom("reminder_jobs")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .where("policy", "=", policy)
      .executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** Running jobs due at `now`, the most overdue first. */
  async due(now: number, limit: number): Promise<ReminderJob[]> {
    const rows = await this.db
      .selectFrom("reminder_jobs")
      .selectAll()
      .where("done_at", "is", null)
      .where("next_due_at", "<=", now)
      .orderBy("next_due_at")
      .orderBy("incident_id")
      .orderBy("policy")
      .limit(limit)
      .execute();
    return rows.map(toJob);
  }

  /** When the next running job is due (null: none), through the due index. */
  async nextDueAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom("reminder_jobs")
      .select("next_due_at")
      .where("done_at", "is", null)
      .where("next_due_at", "is not", null)
      .orderBy("next_due_at")
      .limit(1)
      .executeTakeFirst();
    return row?.next_due_at ?? null;
  }

  /** How many running jobs are due at `now` (for the budget's overflow and metrics). */
  async dueCount(now: number): Promise<number> {
    const row = await this.db
      .selectFrom("reminder_jobs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("done_at", "is", null)
      .where("next_due_at", "<=", now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * One step of a job read at `generation`: the patch, the messages it owes and the card's note, in one
   * fenced transaction. False (and nothing written) when the job has moved on since it was read.
   */
  async step(
    job: Pick<ReminderJob, "incidentId" | "policy" | "generation">,
    patch: JobPatch,
    messages: NewReminderMessage[] = [],
    note?: ReminderNote,
  ): Promise<boolean> {
    const [written] = await this.steps([{ job, patch, messages, ...(note ? { note } : {}) }]);
    return written === true;
  }

  /**
   * Several steps (one tick's) in one fenced transaction, each as `step` writes it and guarded by its own
   * generation: whether each was written, in order. One commit per tick rather than per job keeps a flood
   * of due jobs cheap; a crash still leaves each step either whole or absent.
   */
  async steps(steps: JobStep[]): Promise<boolean[]> {
    if (steps.length === 0) return [];
    const now = this.now();
    return this.fence.transaction(async (trx) => {
      const written: boolean[] = [];
      for (const { job, patch, messages = [], note } of steps) {
        const updated = await trx
          .updateTable("reminder_jobs")
          .set((eb) => ({
            ...patchColumns(patch),
            generation: eb("generation", "+", 1),
            updated_at: now,
          }))
          .where("incident_id", "=", job.incidentId)
          .where("policy", "=", job.policy)
          .where("generation", "=", job.generation)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) {
          written.push(false);
          continue;
        }
        written.push(true);
        if (messages.length > 0) {
          await trx
            .insertInto("reminder_messages")
            .values(
              messages.map((m) => ({
                incident_id: m.incidentId,
                chat_id: m.chatId,
                thread_id: m.threadId,
                kind: m.kind,
                reply_to: m.replyTo,
                new_for_ms: m.newForMs,
                state: "pending" as const,
                created_at: now,
                sent_at: null,
                message_id: null,
              })),
            )
            .execute();
        }
        if (note !== undefined) await writeNote(trx, job.incidentId, note);
      }
      return written;
    });
  }

  /**
   * Bumps every job of an incident (a status change, a snooze, a mute): a job read before this exits.
   * `snoozedUntil` pauses them (null: the snooze is over); `done` ends them. The snooze is also kept on the
   * incident, for the jobs not made yet: a card pressed before the incident's copy in some chat went out
   * (an /inc card, a chat's busy lane) has no job to pause, and the one scheduled later starts snoozed.
   */
  async bump(
    incidentId: string,
    change: { snoozedUntil?: number | null; done?: boolean } = {},
  ): Promise<number> {
    const now = this.now();
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("reminder_jobs")
        .set((eb) => ({
          generation: eb("generation", "+", 1),
          updated_at: now,
          ...(change.snoozedUntil !== undefined ? { snoozed_until: change.snoozedUntil } : {}),
          ...(change.done === true ? { done_at: now, next_due_at: null, snoozed_until: null } : {}),
        }))
        .where("incident_id", "=", incidentId)
        .where("done_at", "is", null)
        .executeTakeFirst();
      if (change.snoozedUntil !== undefined) {
        const row = await trx
          .selectFrom("incidents")
          .select("reminder_json")
          .where("id", "=", incidentId)
          .executeTakeFirst();
        if (row) {
          const { snoozedUntil: _, ...rest } = readNote(row.reminder_json);
          const note: ReminderNote =
            change.snoozedUntil === null ? rest : { ...rest, snoozedUntil: change.snoozedUntil };
          // Not a version bump: the cards do not show it.
          await trx
            .updateTable("incidents")
            .set({ reminder_json: JSON.stringify(note) })
            .where("id", "=", incidentId)
            .execute();
        }
      }
      return Number(result.numUpdatedRows);
    });
  }

  /** The forum topic the incident's row went to in a chat (null: the chat's own thread). */
  async threadOf(incidentId: string, chatId: number): Promise<number | null> {
    const row = await this.db
      .selectFrom("outbox")
      .select("thread_id")
      .where("incident_id", "=", incidentId)
      .where("chat_id", "=", chatId)
      .executeTakeFirst();
    return row?.thread_id ?? null;
  }

  // ---- the messages owed ----

  /** Chats with reminders waiting, with how many. */
  async pendingChats(): Promise<Map<number, number>> {
    // Chats that receive now (a paused one waits); a chat the bot never stored (an escalation chat set by
    // id alone) is tried, and what Telegram answers decides.
    const rows = await this.db
      .selectFrom("reminder_messages")
      .leftJoin("chats", "chats.id", "reminder_messages.chat_id")
      .select((eb) => ["reminder_messages.chat_id as chatId", eb.fn.countAll<number>().as("n")])
      .where("reminder_messages.state", "=", "pending")
      .where((eb) =>
        eb.or([
          eb("chats.id", "is", null),
          eb.and([eb("chats.state", "=", "allowed"), eb("chats.active", "=", 1)]),
        ]),
      )
      .groupBy("reminder_messages.chat_id")
      .execute();
    return new Map(rows.map((r) => [r.chatId, Number(r.n)]));
  }

  async pendingForChat(chatId: number, limit: number): Promise<ReminderMessage[]> {
    const rows = await this.db
      .selectFrom("reminder_messages")
      .selectAll()
      .where("state", "=", "pending")
      .where("chat_id", "=", chatId)
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(toMessage);
  }

  /** Claims messages for sending: only one caller gets each. Returns the ids claimed. */
  async claim(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.fence.run((db) =>
      db
        .updateTable("reminder_messages")
        .set({ state: "sending" })
        .where("id", "in", ids)
        .where("state", "=", "pending")
        .returning("id")
        .execute(),
    );
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  /** Claimed messages: sent (with the message that carried them), given back, or dropped. */
  async settle(
    ids: number[],
    outcome: "sent" | "pending" | "dropped",
    messageId: number | null = null,
  ): Promise<void> {
    if (ids.length === 0) return;
    const now = this.now();
    await this.fence.run((db) =>
      db
        .updateTable("reminder_messages")
        .set({
          state: outcome,
          ...(outcome === "sent" ? { sent_at: now, message_id: messageId } : {}),
        })
        .where("id", "in", ids)
        .where("state", "=", "sending")
        .execute(),
    );
  }

  /** Telegram messages with reminders sent to a chat since `since` (a collapsed message counts once). */
  async sentToChatSince(chatId: number, since: number): Promise<number> {
    const row = await this.db
      .selectFrom("reminder_messages")
      .select((eb) => eb.fn.count<number>("message_id").distinct().as("n"))
      .where("chat_id", "=", chatId)
      .where("state", "=", "sent")
      .where("kind", "=", "remind")
      .where("sent_at", ">=", since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Every reminder message of an incident (tests, /debug). */
  async messagesOf(incidentId: string): Promise<Array<ReminderMessage & { state: string }>> {
    const rows = await this.db
      .selectFrom("reminder_messages")
      .selectAll()
      .where("incident_id", "=", incidentId)
      .orderBy("id")
      .execute();
    return rows.map((r) => ({ ...toMessage(r), state: r.state }));
  }

  /**
   * Drops an incident's reminders still waiting to be sent (a Snooze: what was queued before it goes too).
   * Not an escalation already queued: it was decided before the press and the cards already say where it
   * went, so it goes out, as a page already sent does; the snooze holds the ones not yet due.
   */
  async dropPendingReminders(incidentId: string): Promise<number> {
    const result = await this.fence.run((db) =>
      db
        .updateTable("reminder_messages")
        .set({ state: "dropped" })
        .where("incident_id", "=", incidentId)
        .where("kind", "=", "remind")
        .where("state", "=", "pending")
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows);
  }

  /** Leftovers of a sender cut short: a claim it never settled is treated as sent (never twice). */
  async settleAbandoned(): Promise<number> {
    const result = await this.fence.run((db) =>
      db
        .updateTable("reminder_messages")
        .set({ state: "dropped" })
        .where("state", "=", "sending")
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows);
  }
}

async function writeNote(trx: Kysely<Database>, incidentId: string, note: ReminderNote): Promise<void> {
  const row = await trx
    .selectFrom("incidents")
    .select(["version", "reminder_json"])
    .where("id", "=", incidentId)
    .executeTakeFirst();
  if (!row) return;
  const before = readNote(row.reminder_json);
  const merged: ReminderNote = { ...before, ...note };
  const json = JSON.stringify(merged);
  if (json === (row.reminder_json ?? "")) return;
  const version = row.version + 1;
  await trx
    .updateTable("incidents")
    .set({ reminder_json: json, version })
    .where("id", "=", incidentId)
    .execute();
  // Every card now shows an older version: delivery edits them (as store/incidents.ts does). Not digest
  // rows: a digest line does not show the note, so editing it would change nothing a reader sees and spend
  // the chat's Telegram budget during the very flood that fills digests. A status change still bumps them.
  await trx
    .updateTable("outbox")
    .set({ incident_version: version })
    .where("incident_id", "=", incidentId)
    .where((eb) => eb.or([eb("via", "is", null), eb("via", "!=", "digest")]))
    .execute();
}

export function readNote(json: string | null | undefined): ReminderNote {
  if (!json) return {};
  try {
    const value = JSON.parse(json) as ReminderNote;
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

function patchColumns(patch: JobPatch): Partial<Selectable<ReminderJobsTable>> {
  const out: Partial<Selectable<ReminderJobsTable>> = {};
  if (patch.nextDueAt !== undefined) out.next_due_at = patch.nextDueAt;
  if (patch.remindersSent !== undefined) out.reminders_sent = patch.remindersSent;
  if (patch.lastRemindedAt !== undefined) out.last_reminded_at = patch.lastRemindedAt;
  if (patch.escalatedAt !== undefined) out.escalated_at = patch.escalatedAt;
  if (patch.snoozedUntil !== undefined) out.snoozed_until = patch.snoozedUntil;
  if (patch.doneAt !== undefined) out.done_at = patch.doneAt;
  return out;
}

function toJob(row: Selectable<ReminderJobsTable>): ReminderJob {
  return {
    incidentId: row.incident_id,
    policy: row.policy,
    generation: row.generation,
    anchorAt: row.anchor_at,
    nextDueAt: row.next_due_at,
    remindersSent: row.reminders_sent,
    lastRemindedAt: row.last_reminded_at,
    escalateAt: row.escalate_at,
    escalatedAt: row.escalated_at,
    snoozedUntil: row.snoozed_until,
    doneAt: row.done_at,
  };
}

function toMessage(row: Selectable<ReminderMessagesTable>): ReminderMessage {
  return {
    id: row.id,
    incidentId: row.incident_id,
    chatId: row.chat_id,
    threadId: row.thread_id,
    kind: row.kind,
    replyTo: row.reply_to,
    newForMs: row.new_for_ms,
    createdAt: row.created_at,
  };
}
