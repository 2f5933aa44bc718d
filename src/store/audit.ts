// The audit log: every state change and every action, who did it, when, and how it ended.
import type { Kysely, Selectable } from "kysely";
import type { AuditTable, Database } from "./schema.js";

export type AuditEntry = Selectable<AuditTable>;

export interface AuditRecord {
  actorId: number | null;
  actorName?: string | null;
  chatId?: number | null;
  action: string; // e.g. "chat.allow", "chat.ban", "incident.approve"
  target?: string | null;
  result: string; // "ok", "refused", "failed", "not_allowed", …
  detail?: string | null;
}

export class AuditRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.db
      .insertInto("audit")
      .values({
        at: this.now(),
        actor_id: entry.actorId,
        actor_name: entry.actorName ?? null,
        chat_id: entry.chatId ?? null,
        action: entry.action,
        target: entry.target ?? null,
        result: entry.result,
        detail: entry.detail ?? null,
      })
      .execute();
  }

  async recent(limit = 50): Promise<AuditEntry[]> {
    return this.db.selectFrom("audit").selectAll().orderBy("id", "desc").limit(limit).execute();
  }

  /** Incident ids acted on successfully through the bot (`incident.*`, result ok) since `since` (ms). */
  async actedOnSince(since: number): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("audit")
      .select("target")
      .distinct()
      .where("at", ">=", since)
      .where("action", "like", "incident.%")
      .where("result", "=", "ok")
      .where("target", "is not", null)
      .execute();
    return new Set(rows.map((r) => r.target as string));
  }

  /** The latest `limit` actions on incidents through the bot (`incident.*`), newest first, whatever their result. */
  async recentActions(limit: number): Promise<AuditEntry[]> {
    return this.db
      .selectFrom("audit")
      .selectAll()
      .where("action", "like", "incident.%")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
  }
}
