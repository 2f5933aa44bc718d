// The service's durable state. Every other part reads and writes it through these repositories only.
//
// One store, two dialects: SQLite at BOT_DB_PATH (default) or PostgreSQL at BOT_DB_URL. Migrations and
// repositories are the same code for both; what differs lives in dialect/sqlite.ts and dialect/postgres.ts
// only. Rules for portable migrations and repositories:
//  - A migration is `"000N_name": (t) => ({ async up(db) {…} })`. Every integer column is `t.int` (bigint
//    on PostgreSQL: chat ids and ms timestamps exceed int32); an auto-increment id is `.$call(t.autoId)`.
//    Text is "text"; booleans are t.int 0/1; JSON is text (JSON.stringify); times are ms in t.int.
//    Use createTable/addColumn/createIndex only: SQLite cannot alter a column or add a constraint later.
//  - Never write an explicit value into an autoId column (PostgreSQL's identity would not move past it).
//  - Integers read back as numbers on both (int8 parser in dialect/postgres.ts), count(*) and max() of
//    an integer too; sum()/avg() are numeric, a string on PostgreSQL: wrap them in Number().
//  - New ids: `.returning("id")`, never `insertId` (undefined on PostgreSQL).
//  - Upserts: `.onConflict((oc) => oc.column(s)(…).doNothing() / .doUpdateSet(…))`; never catch a
//    unique-violation error (the codes differ).
//  - `where(x, "in", list)` never with an empty list: SQLite accepts `in ()`, PostgreSQL fails. Return early.
//  - GROUP BY lists every selected column that is not an aggregate (PostgreSQL insists).
//  - When order matters, orderBy with a unique tie-breaker (id); never order by a nullable column (NULLs
//    sort first on SQLite, last on PostgreSQL). Text compares by bytes on SQLite but by the database's
//    collation on PostgreSQL: keyset paging (`id > after`) only on integers or same-format ids (UUIDs).
//  - No dialect functions (now(), datetime(), ||, json_extract, ilike): times come from the injected clock.
//    LIKE is case-insensitive on SQLite only: store and compare normalised (lower-cased) text.
//  - PostgreSQL runs transactions side by side (READ COMMITTED); SQLite one at a time. Compute counters in
//    SQL (`eb("n", "+", 1)`), not from a row read earlier; guard a state change with WHERE state = expected.
//  - U+0000 in text is dropped on PostgreSQL (it cannot store it; a plugin in dialect/postgres.ts).
//  - Writes only the leader may make (outbox progress, ingest with the watermark, the leader's settings, the
//    Telegram update offset) go through the repository's Fence (fence.ts), never around it: in the view
//    Store.fenced(epoch) gives the leader, they commit only while its epoch is the lease's.
//  - Tests: every store test runs per dialect: describe.each(DIALECTS) with databasePerTest(dialect)
//    (test/helpers/store-dialects.ts).
import { ApprovalsRepository, CloseConfirmationsRepository } from "./approvals.js";
import { AuditRepository } from "./audit.js";
import { ChatsRepository } from "./chats.js";
import type { DialectName } from "./dialect/types.js";
import { Fence } from "./fence.js";
import { IncidentsRepository } from "./incidents.js";
import { LeaseRepository } from "./lease.js";
import { type OpenOptions, openDatabase } from "./open.js";
import { OutboxRepository } from "./outbox.js";
import { RemindersRepository } from "./reminders.js";
import { ReportsRepository } from "./reports.js";
import { RetentionRepository } from "./retention.js";
import { RoutingRulesRepository } from "./routing-rules.js";
import { SettingsRepository } from "./settings.js";
import { UpdatesRepository } from "./updates.js";
import { UserLinksRepository } from "./user-links.js";

export type { ApprovalMessage, ChatRequest } from "./approvals.js";
export type { AuditEntry, AuditRecord } from "./audit.js";
export type { Chat, ChatIdentity } from "./chats.js";
export type { DialectName } from "./dialect/types.js";
export { FencedError, LEASE_NAME } from "./fence.js";
export {
  type ActionLine,
  BOT_ACTIONS_KEPT,
  type BotAction,
  everyRecipient,
  type IncidentExtras,
  type IncidentRead,
  type IngestResult,
  type Reconcile,
  type Route,
  type RoutedDelivery,
  /** The contract's name for a RoutedDelivery (routing-contract.md). */
  type RoutedDelivery as Delivery,
  type StatusDecision,
  type StoredIncident,
} from "./incidents.js";
export type { InstanceHeartbeat, InstanceRole, LeaseState } from "./lease.js";
export { isPostgresUrl, StoreLockedError } from "./open.js";
export {
  type DeliveredCopy,
  type OutboxCopy,
  type PendingDelivery,
  SEVERITY_RANK,
  type StaleCopy,
  type StaleDigest,
  severityRank,
} from "./outbox.js";
export {
  type JobPatch,
  type JobStep,
  type NewReminderMessage,
  type ReminderJob,
  type ReminderMessage,
  type ReminderNote,
  RemindersRepository,
  readNote,
  type Unscheduled,
} from "./reminders.js";
export { type ReportChat, ReportsRepository } from "./reports.js";
export { type PruneCounts, RetentionRepository, RetentionTask } from "./retention.js";
export {
  type ConfigRoute,
  type ConfigSync,
  type DueMuteSummary,
  type NewMute,
  ROUTING_GENERATION_KEY,
  RoutingRulesRepository,
  type RowRouting,
  type StoredDestination,
  type StoredMute,
} from "./routing-rules.js";
export type { ChatKind, ChatState, CopyVia, OutboxVia } from "./schema.js";
export { type IncomingUpdate, type StoredUpdate, UPDATE_OFFSET_KEY } from "./updates.js";
export { type UserLink, UserLinksRepository } from "./user-links.js";

export interface Store {
  readonly dialect: DialectName;
  /** Where the data lives, safe to print: the SQLite file, or the PostgreSQL URL without its password. */
  readonly path: string;
  readonly chats: ChatsRepository;
  readonly incidents: IncidentsRepository;
  readonly outbox: OutboxRepository;
  readonly audit: AuditRepository;
  /** Telegram users linked to MP accounts (/link). */
  readonly userLinks: UserLinksRepository;
  readonly settings: SettingsRepository;
  readonly approvals: ApprovalsRepository;
  readonly closeConfirmations: CloseConfirmationsRepository;
  readonly lease: LeaseRepository;
  readonly updates: UpdatesRepository;
  /**
   * Routing rules: filters and topics per chat, the config file's routes, mutes. Only the claim of a
   * mute's summary is fenced (the leader sends it).
   */
  readonly routing: RoutingRulesRepository;
  /** Reminder and escalation jobs and the messages they owe (issue 15); the leader's steps are fenced. */
  readonly reminders: RemindersRepository;
  /** The daily shift report: its chats, and each day's claim (fenced: the leader sends it). */
  readonly reports: ReportsRepository;
  /**
   * The same store as seen by the leader of `epoch`: its outbox progress, ingests, settings and update
   * offset commit only while the lease is still at that epoch (FencedError otherwise). No-op on SQLite.
   */
  fenced(epoch: number): Store;
  /** The epoch this view's writes are fenced on (null: not fenced). */
  readonly epoch: number | null;
  /** Deletes what BOT_RETENTION no longer keeps (RetentionTask runs it). */
  readonly retention: RetentionRepository;
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
  const dialect = opened.types.dialect;
  const shared = {
    dialect,
    path: opened.location,
    chats: new ChatsRepository(db, now),
    audit: new AuditRepository(db, now),
    userLinks: new UserLinksRepository(db, now),
    approvals: new ApprovalsRepository(db, now),
    closeConfirmations: new CloseConfirmationsRepository(db),
    lease: new LeaseRepository(db, now),
    retention: new RetentionRepository(db),
    close: () => opened.close(),
  };
  const view = (epoch: number | null): Store => {
    const fence = new Fence(db, dialect, epoch);
    return {
      ...shared,
      epoch,
      incidents: new IncidentsRepository(db, now, fence),
      outbox: new OutboxRepository(db, now, fence),
      settings: new SettingsRepository(db, fence),
      updates: new UpdatesRepository(db, now, fence),
      routing: new RoutingRulesRepository(db, now, fence),
      reminders: new RemindersRepository(db, now, fence),
      reports: new ReportsRepository(db, now, fence),
      fenced: (next) => view(next),
    };
  };
  return view(null);
}
