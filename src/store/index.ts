// The service's durable state. Every other part reads and writes it through these repositories only.
import { ApprovalsRepository } from "./approvals.js";
import { AuditRepository } from "./audit.js";
import { ChatsRepository } from "./chats.js";
import type { DialectName } from "./dialect/types.js";
import { IncidentsRepository } from "./incidents.js";
import { type OpenOptions, openDatabase } from "./open.js";
import { OutboxRepository } from "./outbox.js";
import { SettingsRepository } from "./settings.js";

export type { ApprovalMessage } from "./approvals.js";
export type { AuditEntry, AuditRecord } from "./audit.js";
export type { Chat, ChatIdentity } from "./chats.js";
export type { DialectName } from "./dialect/types.js";
export type { ActionLine, IngestResult, StoredIncident } from "./incidents.js";
export { isPostgresUrl, StoreLockedError } from "./open.js";
export type { DeliveredCopy, PendingDelivery, StaleCopy } from "./outbox.js";
export type { ChatKind, ChatState, OutboxVia } from "./schema.js";

export interface Store {
  readonly dialect: DialectName;
  /** Where the data lives, safe to print: the SQLite file, or the PostgreSQL URL without its password. */
  readonly path: string;
  readonly chats: ChatsRepository;
  readonly incidents: IncidentsRepository;
  readonly outbox: OutboxRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly approvals: ApprovalsRepository;
  close(): Promise<void>;
}

/**
 * Opens the store at `target`: a SQLite file path (BOT_DB_PATH), or a `postgres://` URL (BOT_DB_URL).
 * Migrations are applied before it returns.
 */
export async function openStore(
  target: string,
  opts: { now?: () => number } & OpenOptions = {},
): Promise<Store> {
  const now = opts.now ?? Date.now;
  const opened = await openDatabase(target, opts);
  const { db } = opened;
  return {
    dialect: opened.types.dialect,
    path: opened.location,
    chats: new ChatsRepository(db, now),
    incidents: new IncidentsRepository(db, now),
    outbox: new OutboxRepository(db, now),
    audit: new AuditRepository(db, now),
    settings: new SettingsRepository(db),
    approvals: new ApprovalsRepository(db, now),
    close: () => opened.close(),
  };
}
