// Versioned schema migrations, applied in order at start. Never edit a released migration: add one.
import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";

const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("chats")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("title", "text")
        .addColumn("username", "text")
        .addColumn("first_name", "text")
        .addColumn("last_name", "text")
        .addColumn("thread_id", "integer")
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("inactive_reason", "text")
        .addColumn("created_at", "integer", (c) => c.notNull())
        .addColumn("state_changed_at", "integer", (c) => c.notNull())
        .addColumn("state_changed_by", "integer")
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
        .addColumn("created_at", "integer", (c) => c.notNull())
        .addColumn("modified_at", "integer")
        .addColumn("first_seen_at", "integer", (c) => c.notNull())
        .addColumn("events_json", "text", (c) => c.notNull().defaultTo("[]"))
        .addColumn("total_events", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("last_action_json", "text")
        .addColumn("enriched_at", "integer")
        .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("updated_at", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("incidents_first_seen").on("incidents").column("first_seen_at").execute();

      await db.schema
        .createTable("outbox")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("incident_id", "text", (c) => c.notNull().references("incidents.id"))
        .addColumn("chat_id", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("message_id", "integer")
        .addColumn("via", "text")
        .addColumn("rendered_version", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "integer", (c) => c.notNull())
        .addColumn("last_error", "text")
        .addColumn("created_at", "integer", (c) => c.notNull())
        .addColumn("sent_at", "integer")
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
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("at", "integer", (c) => c.notNull())
        .addColumn("actor_id", "integer")
        .addColumn("actor_name", "text")
        .addColumn("chat_id", "integer")
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
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("chat_id", "integer", (c) => c.notNull())
        .addColumn("admin_chat_id", "integer", (c) => c.notNull())
        .addColumn("message_id", "integer", (c) => c.notNull())
        .addColumn("created_at", "integer", (c) => c.notNull())
        .addColumn("decided_at", "integer")
        .execute();
      await db.schema.createIndex("approval_by_chat").on("approval_messages").column("chat_id").execute();
    },
  },
  // Keeps the idle loop's queries from reading every delivered row of a year of traffic, and gives
  // retention (BOT_RETENTION) indexes to delete old rows in small batches.
  "0003_stale_copy_index_and_retention": {
    async up(db: Kysely<unknown>) {
      // Stale single-message copies were found by joining every sent row with its incident. The outbox
      // now carries its incident's version (kept equal by two triggers), so the stale copies — usually
      // none — sit in a small partial index of their own.
      await db.schema
        .alterTable("outbox")
        .addColumn("incident_version", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`UPDATE outbox SET incident_version =
        (SELECT version FROM incidents WHERE incidents.id = outbox.incident_id)`.execute(db);
      await sql`CREATE TRIGGER outbox_incident_version_on_insert AFTER INSERT ON outbox
        BEGIN
          UPDATE outbox SET incident_version = (SELECT version FROM incidents WHERE id = NEW.incident_id)
          WHERE id = NEW.id;
        END`.execute(db);
      await sql`CREATE TRIGGER incidents_version_to_outbox AFTER UPDATE OF version ON incidents
        WHEN NEW.version IS NOT OLD.version
        BEGIN
          UPDATE outbox SET incident_version = NEW.version WHERE incident_id = NEW.id;
        END`.execute(db);
      await sql`CREATE INDEX outbox_stale ON outbox (state, via, chat_id, id)
        WHERE state = 'sent' AND via = 'single' AND message_id IS NOT NULL
          AND rendered_version < incident_version`.execute(db);
      // The pacer's read of the last minute's sends at start.
      await sql`CREATE INDEX outbox_sent_at ON outbox (state, sent_at) WHERE state = 'sent'`.execute(db);
      // Retention: the oldest rows first, without reading the young ones.
      await db.schema.createIndex("outbox_created").on("outbox").column("created_at").execute();
      await db.schema.createIndex("audit_at").on("audit").column("at").execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
