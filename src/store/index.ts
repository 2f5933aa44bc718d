// The service's durable state. Every other part reads and writes it through these repositories only.
import { ApprovalsRepository } from "./approvals.js";
import { AuditRepository } from "./audit.js";
import { ChatsRepository } from "./chats.js";
import { IncidentsRepository } from "./incidents.js";
import { openDatabase } from "./open.js";
import { OutboxRepository } from "./outbox.js";
import { RetentionRepository } from "./retention.js";
import { SettingsRepository } from "./settings.js";

export type { ApprovalMessage } from "./approvals.js";
export type { AuditEntry, AuditRecord } from "./audit.js";
export type { Chat, ChatIdentity } from "./chats.js";
export type { ActionLine, IngestResult, StoredIncident } from "./incidents.js";
export { StoreLockedError } from "./open.js";
export type { DeliveredCopy, PendingDelivery, StaleCopy } from "./outbox.js";
export { type PruneCounts, RetentionRepository, RetentionTask } from "./retention.js";
export type { ChatKind, ChatState, OutboxVia } from "./schema.js";

export interface Store {
  readonly path: string;
  readonly chats: ChatsRepository;
  readonly incidents: IncidentsRepository;
  readonly outbox: OutboxRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly approvals: ApprovalsRepository;
  /** Deletes what BOT_RETENTION no longer keeps (RetentionTask runs it). */
  readonly retention: RetentionRepository;
  close(): Promise<void>;
}

export async function openStore(dbPath: string, opts: { now?: () => number } = {}): Promise<Store> {
  const now = opts.now ?? Date.now;
  const opened = await openDatabase(dbPath);
  const { db } = opened;
  return {
    path: opened.path,
    chats: new ChatsRepository(db, now),
    incidents: new IncidentsRepository(db, now),
    outbox: new OutboxRepository(db, now),
    audit: new AuditRepository(db, now),
    settings: new SettingsRepository(db),
    approvals: new ApprovalsRepository(db, now),
    retention: new RetentionRepository(db),
    close: () => opened.close(),
  };
}
