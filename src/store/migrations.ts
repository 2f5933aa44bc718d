// Versioned schema migrations, applied in order at start. Never edit a released migration: add one.
// Each migration is a function of the dialect's column types `t` (the rules are at the top of index.ts):
// integers are `t.int`, auto-increment ids `.$call(t.autoId)`; everything else is written once.
import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";
import type { SchemaTypes } from "./dialect/types.js";

const migrations: Record<string, (t: SchemaTypes) => Migration> = {
  "0001_initial": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("chats")
        .addColumn("id", t.int, (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("title", "text")
        .addColumn("username", "text")
        .addColumn("first_name", "text")
        .addColumn("last_name", "text")
        .addColumn("thread_id", t.int)
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("active", t.int, (c) => c.notNull().defaultTo(1))
        .addColumn("inactive_reason", "text")
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("state_changed_at", t.int, (c) => c.notNull())
        .addColumn("state_changed_by", t.int)
        .execute();

      await db.schema
        .createTable("incidents")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("key", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("severity", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("category", "text", (c) => c.notNull())
        .addColumn("description", "text")
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("modified_at", t.int)
        .addColumn("first_seen_at", t.int, (c) => c.notNull())
        .addColumn("events_json", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("total_events", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("last_action_json", "text")
        .addColumn("enriched_at", t.int)
        .addColumn("version", t.int, (c) => c.notNull().defaultTo(1))
        .addColumn("updated_at", t.int, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("incidents_first_seen").on("incidents").column("first_seen_at").execute();

      await db.schema
        .createTable("outbox")
        .$call(t.autoId)
        .addColumn("incident_id", "text", (c) => c.notNull().references("incidents.id"))
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("message_id", t.int)
        .addColumn("via", "text")
        .addColumn("rendered_version", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("attempts", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", t.int, (c) => c.notNull())
        .addColumn("last_error", "text")
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("sent_at", t.int)
        .addUniqueConstraint("outbox_incident_chat", ["incident_id", "chat_id"])
        .execute();
      await db.schema
        .createIndex("outbox_pending")
        .on("outbox")
        .columns(["state", "chat_id", "id"])
        .execute();
      await db.schema.createIndex("outbox_incident").on("outbox").column("incident_id").execute();

      await db.schema
        .createTable("audit")
        .$call(t.autoId)
        .addColumn("at", t.int, (c) => c.notNull())
        .addColumn("actor_id", t.int)
        .addColumn("actor_name", "text")
        .addColumn("chat_id", t.int)
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("target", "text")
        .addColumn("result", "text", (c) => c.notNull())
        .addColumn("detail", "text")
        .execute();

      await db.schema
        .createTable("settings")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("approval_messages")
        .$call(t.autoId)
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("admin_chat_id", t.int, (c) => c.notNull())
        .addColumn("message_id", t.int, (c) => c.notNull())
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("decided_at", t.int)
        .execute();
      await db.schema.createIndex("approval_by_chat").on("approval_messages").column("chat_id").execute();
    },
  }),
  // One open request per chat, with who caused it (bounds requests per chat and per person), and the
  // Close confirmations the bot asked for, per message (a "Yes, close" counts only after one).
  "0002_chat_requests_and_close_confirmations": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("chat_requests")
        .addColumn("chat_id", t.int, (c) => c.primaryKey())
        .addColumn("requested_by", t.int)
        .addColumn("requested_at", t.int, (c) => c.notNull())
        .addColumn("decided_at", t.int)
        .execute();
      await db.schema
        .createIndex("chat_requests_by_person")
        .on("chat_requests")
        .columns(["requested_by", "requested_at"])
        .execute();

      await db.schema
        .createTable("close_confirmations")
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("message_id", t.int, (c) => c.notNull())
        .addColumn("incident_id", "text", (c) => c.notNull())
        .addColumn("asked_by", t.int)
        .addColumn("asked_at", t.int, (c) => c.notNull())
        .addPrimaryKeyConstraint("close_confirmations_message", ["chat_id", "message_id"])
        .execute();
    },
  }),
  // Keeps the idle loop's queries from reading every delivered row of a year of traffic, and gives
  // retention (BOT_RETENTION) indexes to delete old rows in small batches.
  "0003_stale_copy_index_and_retention": (t) => ({
    async up(db: Kysely<unknown>) {
      // Stale single-message copies were found by joining every sent row with its incident. The outbox
      // now carries its incident's version (kept equal by the store's writes that bump it, in the same
      // transaction), so the stale copies — usually none — sit in a small partial index of their own.
      await db.schema
        .alterTable("outbox")
        .addColumn("incident_version", t.int, (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`UPDATE outbox SET incident_version =
        (SELECT version FROM incidents WHERE incidents.id = outbox.incident_id)`.execute(db);
      // Partial indexes: the same statement on SQLite and PostgreSQL.
      await sql`CREATE INDEX outbox_stale ON outbox (state, via, chat_id, id)
        WHERE state = 'sent' AND via = 'single' AND message_id IS NOT NULL
          AND rendered_version < incident_version`.execute(db);
      // The pacer's read of the last minute's sends at start.
      await sql`CREATE INDEX outbox_sent_at ON outbox (state, sent_at) WHERE state = 'sent'`.execute(db);
      // Retention: the oldest rows first, without reading the young ones.
      await db.schema.createIndex("outbox_created").on("outbox").column("created_at").execute();
      await db.schema.createIndex("audit_at").on("audit").column("at").execute();
    },
  }),
  // Several instances on one PostgreSQL database: the leader lease (with its epoch, for fencing), every
  // instance's heartbeat, and the Telegram updates received (dedup by update_id, replay after a failover).
  "0004_leadership": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("leader_lease")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("holder", "text", (c) => c.notNull())
        .addColumn("epoch", t.int, (c) => c.notNull())
        .addColumn("expires_at", t.int, (c) => c.notNull())
        .addColumn("backend_pid", t.int)
        .addColumn("acquired_at", t.int, (c) => c.notNull())
        .addColumn("renewed_at", t.int, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("instances")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("host", "text", (c) => c.notNull())
        .addColumn("pid", t.int, (c) => c.notNull())
        .addColumn("started_at", t.int, (c) => c.notNull())
        .addColumn("heartbeat_at", t.int, (c) => c.notNull())
        .addColumn("epoch", t.int)
        .execute();
      await db.schema
        .createTable("telegram_updates")
        .addColumn("update_id", t.int, (c) => c.primaryKey())
        .addColumn("body", "text")
        .addColumn("received_at", t.int, (c) => c.notNull())
        .addColumn("claimed_by", "text", (c) => c.notNull())
        .addColumn("claim_epoch", t.int)
        .addColumn("claimed_at", t.int, (c) => c.notNull())
        .addColumn("handled_at", t.int)
        .execute();
      await db.schema
        .createIndex("telegram_updates_unhandled")
        .on("telegram_updates")
        .columns(["handled_at", "update_id"])
        .execute();
    },
  }),
  // Routing and noise control (issue 13): each outbox row says how loudly it goes out, into which forum
  // topic, and how urgent it is. A lane sends lower rank first (High before Medium before Low), then by id.
  "0005_outbox_routing": (t) => ({
    async up(db: Kysely<unknown>) {
      // 1: delivered with disable_notification and shown with 🔕.
      await db.schema
        .alterTable("outbox")
        .addColumn("silent", t.int, (c) => c.notNull().defaultTo(0))
        .execute();
      // The mute that made the row silent (its end summary counts them); null when none did.
      await db.schema.alterTable("outbox").addColumn("mute_id", t.int).execute();
      // The severity's rank, fixed at queue time: 0 High, 1 Medium, 2 Low, 3 anything else.
      await db.schema
        .alterTable("outbox")
        .addColumn("rank", t.int, (c) => c.notNull().defaultTo(3))
        .execute();
      // The forum topic the row goes to; null: the chat's own thread_id.
      await db.schema.alterTable("outbox").addColumn("thread_id", t.int).execute();
      // Rows still waiting get their rank from their incident; delivered ones never need it.
      for (const [severity, rank] of [
        ["high", 0],
        ["medium", 1],
        ["low", 2],
      ] as const) {
        await sql`UPDATE outbox SET "rank" = ${rank} WHERE state = 'pending' AND incident_id IN
          (SELECT id FROM incidents WHERE lower(trim(severity)) = ${severity})`.execute(db);
      }
      // A lane reads its chat's pending rows by rank, then id: this index gives them in that order (no
      // sort). 0001's outbox_pending (state, chat_id, id) stays: migrations only add (see index.ts).
      await db.schema
        .createIndex("outbox_pending_rank")
        .on("outbox")
        .columns(["state", "chat_id", "rank", "id"])
        .execute();
    },
  }),
  // Routing (issue 13): each chat's destinations with their filters, silent rules and active hours (from
  // Telegram or the config file), and mutes with who set them and until when.
  "0006_routing_rules": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("chat_filters")
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("thread_id", t.int, (c) => c.notNull())
        .addColumn("position", t.int, (c) => c.notNull())
        .addColumn("matchers", "text", (c) => c.notNull())
        .addColumn("silent_matchers", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("active_hours", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("managed_by_config", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("updated_at", t.int, (c) => c.notNull())
        .addColumn("updated_by", t.int)
        .addPrimaryKeyConstraint("chat_filters_destination", ["chat_id", "thread_id"])
        .execute();
      await db.schema
        .createTable("mutes")
        .$call(t.autoId)
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("thread_id", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("matchers", "text", (c) => c.notNull())
        .addColumn("starts_at", t.int, (c) => c.notNull())
        .addColumn("ends_at", t.int, (c) => c.notNull())
        .addColumn("created_by", t.int)
        .addColumn("created_by_name", "text")
        .addColumn("comment", "text")
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("ended_at", t.int)
        .addColumn("ended_by", t.int)
        .addColumn("summary_sent_at", t.int)
        .execute();
      await db.schema.createIndex("mutes_by_chat").on("mutes").columns(["chat_id", "ends_at"]).execute();
      // Mutes whose summary is still to be sent: few, found without reading the ones long done.
      await sql`CREATE INDEX mutes_summary_due ON mutes (ends_at) WHERE summary_sent_at IS NULL`.execute(db);
      // The summary counts the rows a mute made silent.
      await sql`CREATE INDEX outbox_mute ON outbox (mute_id) WHERE mute_id IS NOT NULL`.execute(db);
    },
  }),
  // Working an incident from the chat (issue 14): Telegram users linked to MP accounts (Take assigns to
  // them); the card's SIEM details beyond the list item (assignee, rules, targets, attackers) and the last
  // actions taken through the bot, kept on the incident so every copy shows them.
  "0007_workflow": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("user_links")
        .addColumn("telegram_id", t.int, (c) => c.primaryKey())
        .addColumn("mp_login", "text", (c) => c.notNull())
        .addColumn("mp_user_id", "text", (c) => c.notNull())
        .addColumn("telegram_name", "text")
        .addColumn("linked_by", t.int)
        .addColumn("linked_by_name", "text")
        .addColumn("linked_at", t.int, (c) => c.notNull())
        .execute();
      await db.schema.alterTable("incidents").addColumn("extras_json", "text").execute();
      await db.schema.alterTable("incidents").addColumn("bot_actions_json", "text").execute();
    },
  }),
  // /inc (issue 14): the cards it sends are copies kept up to date; digests remember their lines and what
  // they showed, so that a status change edits them (and only when their text changes).
  "0008_lookup": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("lookup_copies")
        .$call(t.autoId)
        .addColumn("incident_id", "text", (c) => c.notNull())
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("thread_id", t.int)
        .addColumn("message_id", t.int, (c) => c.notNull())
        .addColumn("rendered_version", t.int, (c) => c.notNull())
        .addColumn("asked_by", t.int)
        .addColumn("created_at", t.int, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("lookup_copies_chat")
        .on("lookup_copies")
        .columns(["chat_id", "incident_id"])
        .execute();
      await db.schema
        .createIndex("lookup_copies_incident")
        .on("lookup_copies")
        .column("incident_id")
        .execute();
      await db.schema
        .createTable("digest_messages")
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("message_id", t.int, (c) => c.notNull())
        .addColumn("incident_ids", "text", (c) => c.notNull())
        .addColumn("silent", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("shown_hash", "text", (c) => c.notNull())
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addPrimaryKeyConstraint("digest_messages_message", ["chat_id", "message_id"])
        .execute();
      // Digest rows sent before this were never meant to be edited (rendered_version 0): they count as
      // showing their incident's current version, so only later changes edit them.
      await sql`UPDATE outbox SET rendered_version = incident_version
        WHERE state = 'sent' AND via = 'digest'`.execute(db);
      // Digest messages with a line to bring up to date: few, found without reading every sent row.
      await sql`CREATE INDEX outbox_digest_stale ON outbox (state, via, chat_id, message_id)
        WHERE state = 'sent' AND via = 'digest' AND rendered_version < incident_version`.execute(db);
    },
  }),
  // Reminders and escalation (issue 15): one job per (incident, policy) that survives restarts, with the
  // generation every status change, snooze or mute bumps; the replies each chat is owed; and the line the
  // card shows ("⏰ 30 min without a reaction", "escalated to …").
  "0009_reminders": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("reminder_jobs")
        .addColumn("incident_id", "text", (c) => c.notNull())
        .addColumn("policy", "text", (c) => c.notNull())
        .addColumn("generation", t.int, (c) => c.notNull().defaultTo(1))
        .addColumn("anchor_at", t.int, (c) => c.notNull())
        .addColumn("next_due_at", t.int)
        .addColumn("reminders_sent", t.int, (c) => c.notNull().defaultTo(0))
        .addColumn("last_reminded_at", t.int)
        .addColumn("escalate_at", t.int)
        .addColumn("escalated_at", t.int)
        .addColumn("snoozed_until", t.int)
        .addColumn("done_at", t.int)
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("updated_at", t.int, (c) => c.notNull())
        .addPrimaryKeyConstraint("reminder_jobs_key", ["incident_id", "policy"])
        .execute();
      // The leader's tick reads only the jobs still running, by due time.
      await sql`CREATE INDEX reminder_jobs_due ON reminder_jobs (next_due_at) WHERE done_at IS NULL`.execute(
        db,
      );
      await db.schema
        .createTable("reminder_messages")
        .$call(t.autoId)
        .addColumn("incident_id", "text", (c) => c.notNull())
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("thread_id", t.int)
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("reply_to", t.int)
        .addColumn("new_for_ms", t.int, (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("created_at", t.int, (c) => c.notNull())
        .addColumn("sent_at", t.int)
        .addColumn("message_id", t.int)
        .execute();
      await db.schema
        .createIndex("reminder_messages_chat")
        .on("reminder_messages")
        .columns(["state", "chat_id", "id"])
        .execute();
      // Retention finds them by incident and by age.
      await db.schema
        .createIndex("reminder_messages_incident")
        .on("reminder_messages")
        .column("incident_id")
        .execute();
      await db.schema
        .createIndex("reminder_messages_created")
        .on("reminder_messages")
        .column("created_at")
        .execute();
      await db.schema.alterTable("incidents").addColumn("reminder_json", "text").execute();
    },
  }),
  // Questions to the bot (issue 16): the chats that take the daily shift report, and each report's
  // claim per chat and day, so it goes out once across restarts and instances.
  "0010_queries": (t) => ({
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("report_chats")
        .addColumn("chat_id", t.int, (c) => c.primaryKey())
        .addColumn("thread_id", t.int)
        .addColumn("enabled_by", t.int)
        .addColumn("enabled_at", t.int, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("report_sends")
        .addColumn("day", "text", (c) => c.notNull())
        .addColumn("chat_id", t.int, (c) => c.notNull())
        .addColumn("claimed_at", t.int, (c) => c.notNull())
        .addPrimaryKeyConstraint("report_sends_day_chat", ["day", "chat_id"])
        .execute();
    },
  }),
};

export function migrationProvider(t: SchemaTypes): MigrationProvider {
  return {
    async getMigrations() {
      return Object.fromEntries(Object.entries(migrations).map(([name, migration]) => [name, migration(t)]));
    },
  };
}
