// Table types for Kysely. Times are integer milliseconds since the epoch (UTC).
import type { Generated } from "kysely";

export type ChatKind = "private" | "group" | "supergroup" | "channel";
/**
 * pending: asked the admins, no decision yet; allowed: receives incidents;
 * denied: ignored or removed by an admin (may ask again); banned: ignored for good.
 */
export type ChatState = "pending" | "allowed" | "denied" | "banned";

export interface ChatsTable {
  id: number;
  kind: ChatKind;
  title: string | null;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  /** Forum topic the chat subscribed from; deliveries carry it as message_thread_id. */
  thread_id: number | null;
  state: ChatState;
  /** 0 when the bot was removed or blocked; kept so /accepted can show it as inactive. */
  active: number;
  inactive_reason: string | null;
  created_at: number;
  state_changed_at: number;
  state_changed_by: number | null;
}

export interface IncidentsTable {
  id: string;
  key: string;
  name: string;
  severity: string;
  status: string;
  type: string;
  category: string;
  description: string | null;
  created_at: number;
  modified_at: number | null;
  first_seen_at: number;
  /** JSON of IncidentEvent[] as last read (dates as ISO strings). */
  events_json: string;
  total_events: number;
  /** JSON of ActionLine, or null. */
  last_action_json: string | null;
  /** When details and events were last read from the SIEM (null: only the list item is known). */
  enriched_at: number | null;
  /** Bumped whenever what a message shows changes; deliveries edit copies older than it. */
  version: number;
  updated_at: number;
  /** JSON of IncidentExtras (assignee, rules, targets, attackers) from the last details read; null: none yet (0007). */
  extras_json: Generated<string | null>;
  /** JSON of BotAction[], the last few actions taken through the bot, oldest first (0007). */
  bot_actions_json: Generated<string | null>;
  /** JSON of ReminderNote: the card's "⏰ … without a reaction" and "escalated to …" line; null: none (0009). */
  reminder_json: Generated<string | null>;
}

/** A Telegram user tied to an MP account (/link): Take assigns incidents to that account (0007). */
export interface UserLinksTable {
  telegram_id: number;
  mp_login: string;
  /** The MP user's UUID from the users query when linked. */
  mp_user_id: string;
  telegram_name: string | null;
  linked_by: number | null;
  linked_by_name: string | null;
  linked_at: number;
}

export type OutboxState = "pending" | "sent" | "cancelled";
export type OutboxVia = "single" | "digest";
/** How a delivered copy came: an outbox row (single, digest), or `/inc` asked for it (lookup_copies). */
export type CopyVia = OutboxVia | "lookup";

export interface OutboxTable {
  id: Generated<number>;
  incident_id: string;
  chat_id: number;
  state: OutboxState;
  message_id: number | null;
  via: OutboxVia | null;
  /** Incident version the sent message shows. */
  rendered_version: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  /** The incident's version, kept equal to incidents.version by the store's writes, for an index (migration 0003). */
  incident_version: Generated<number>;
  /** 1: delivered with disable_notification and shown with 🔕 (a mute, a silent rule, quiet hours). */
  silent: Generated<number>;
  /** The mute that made the row silent, for the mute-end summary; null when none did. */
  mute_id: Generated<number | null>;
  /** Severity rank fixed at queue time (0 High, 1 Medium, 2 Low, 3 other): a lane sends lower rank first. */
  rank: Generated<number>;
  /** The forum topic the row goes to; null: the chat's own thread_id. */
  thread_id: Generated<number | null>;
}

export interface AuditTable {
  id: Generated<number>;
  at: number;
  actor_id: number | null;
  actor_name: string | null;
  chat_id: number | null;
  action: string;
  target: string | null;
  result: string;
  detail: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** Each admin's copy of a new-chat request, so a decision can be shown in all of them. */
export interface ApprovalMessagesTable {
  id: Generated<number>;
  chat_id: number;
  admin_chat_id: number;
  message_id: number;
  created_at: number;
  decided_at: number | null;
}

/** A chat's request to receive incidents; undecided while decided_at is null. One row per chat. */
export interface ChatRequestsTable {
  chat_id: number;
  /** Who caused it (added the bot, or typed /start); null for a channel post. */
  requested_by: number | null;
  requested_at: number;
  decided_at: number | null;
}

/** Close was pressed under this message and the bot asked "Yes, close / Cancel" there. */
export interface CloseConfirmationsTable {
  chat_id: number;
  message_id: number;
  incident_id: string;
  asked_by: number | null;
  asked_at: number;
}

/**
 * The leader lease (one row, name "leader"): who leads, since which epoch, and until when. On PostgreSQL
 * the times are the database server's clock (ms); src/leadership/ keeps the row, the store only reads
 * the epoch to fence the leader's writes (fence.ts).
 */
export interface LeaderLeaseTable {
  name: string;
  holder: string;
  /** Bumped at every acquisition: a write fenced on an older epoch is refused. */
  epoch: number;
  expires_at: number;
  /** The holder's lease connection (pg_backend_pid()); null on SQLite. */
  backend_pid: number | null;
  acquired_at: number;
  renewed_at: number;
}

/** Every running instance's last heartbeat (local clock), for /debug. */
export interface InstancesTable {
  name: string;
  /** "leader" or "standby". */
  role: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  /** The epoch it leads in, while it leads. */
  epoch: number | null;
}

/**
 * Telegram updates received, by update_id: the row decides who handles an update (insert-or-nothing),
 * and keeps the update until it is handled, so a new leader handles what a dead one had received.
 */
export interface TelegramUpdatesTable {
  update_id: number;
  /** The update as JSON until it is handled; null after. */
  body: string | null;
  received_at: number;
  claimed_by: string;
  /** The leader's epoch for updates fetched by long polling; null for a webhook post. */
  claim_epoch: number | null;
  claimed_at: number;
  handled_at: number | null;
}

/**
 * Where a chat's incidents go and how loudly (routing, migration 0006). A chat without rows gets everything
 * in its own thread. thread_id 0 stands for the chat's own thread (its chats.thread_id), else a forum topic.
 */
export interface ChatFiltersTable {
  chat_id: number;
  thread_id: number;
  /** Order in which a chat's topics are tried (first match wins). */
  position: number;
  /** Canonical matchers; "" admits everything, "none" nothing. */
  matchers: string;
  /** Canonical matchers that make a row silent; "" none. */
  silent_matchers: string;
  /** JSON array of active-hours specs; "[]" always active. */
  active_hours: string;
  /** 1: written from the config file's routes; Telegram may not change it. */
  managed_by_config: number;
  updated_at: number;
  updated_by: number | null;
}

/** A mute (an Alertmanager silence) of a chat or of one of its topics: matching incidents arrive silently. */
export interface MutesTable {
  id: Generated<number>;
  chat_id: number;
  /** 0: the whole chat; else only what goes into this topic. */
  thread_id: number;
  /** Canonical matchers; "" mutes everything. */
  matchers: string;
  starts_at: number;
  ends_at: number;
  created_by: number | null;
  created_by_name: string | null;
  comment: string | null;
  created_at: number;
  /** Ended early by /unmute. */
  ended_at: number | null;
  ended_by: number | null;
  /** When the "N incidents arrived silently" line was claimed for sending: at most once. */
  summary_sent_at: number | null;
}

/**
 * A full card `/inc` sent into a chat (migration 0008): kept up to date like an outbox copy, beside it (a chat
 * may hold an incident's outbox copy and any number of looked-up cards).
 */
export interface LookupCopiesTable {
  id: Generated<number>;
  incident_id: string;
  chat_id: number;
  /** The forum topic it was asked (and sent) in; null: none. */
  thread_id: number | null;
  message_id: number;
  /** Incident version the message shows. */
  rendered_version: number;
  asked_by: number | null;
  created_at: number;
}

/** What one digest message holds (migration 0008), so that an edit shows the same lines in the same order. */
export interface DigestMessagesTable {
  chat_id: number;
  message_id: number;
  /** JSON array of incident ids, in the order of the lines. */
  incident_ids: string;
  /** 1: sent without sound (🔕 in the header): its edits keep it. */
  silent: number;
  /** Hash of the text last shown: an edit is made only when the text would change. */
  shown_hash: string;
  created_at: number;
}

export interface Database {
  chats: ChatsTable;
  incidents: IncidentsTable;
  outbox: OutboxTable;
  audit: AuditTable;
  settings: SettingsTable;
  approval_messages: ApprovalMessagesTable;
  chat_requests: ChatRequestsTable;
  close_confirmations: CloseConfirmationsTable;
  leader_lease: LeaderLeaseTable;
  instances: InstancesTable;
  telegram_updates: TelegramUpdatesTable;
  chat_filters: ChatFiltersTable;
  mutes: MutesTable;
  user_links: UserLinksTable;
  lookup_copies: LookupCopiesTable;
  digest_messages: DigestMessagesTable;
  reminder_jobs: ReminderJobsTable;
  reminder_messages: ReminderMessagesTable;
  report_chats: ReportChatsTable;
  report_sends: ReportSendsTable;
}

/** One scheduled job per (incident, policy) (issue 15, 0009). */
export interface ReminderJobsTable {
  incident_id: string;
  /** "env": the BOT_REMIND_* / BOT_ESCALATE_* shortcut. */
  policy: string;
  /** Bumped by every status change, snooze or mute: a job read at an older generation does nothing. */
  generation: number;
  /** When the incident's card first went out: reminders and escalation count from here. */
  anchor_at: number;
  /** When the job next needs a look; null once nothing is left to do. */
  next_due_at: number | null;
  reminders_sent: number;
  /** When the last reminder was queued: the next comes BOT_REMIND_EVERY later at the earliest. */
  last_reminded_at: number | null;
  /** When it escalates; null: it never does (off, or the incident was already old when first seen). */
  escalate_at: number | null;
  escalated_at: number | null;
  snoozed_until: number | null;
  /** Set when the incident left New (or nothing is left to do): the job is over. */
  done_at: number | null;
  created_at: number;
  updated_at: number;
}

export type ReminderMessageState = "pending" | "sending" | "sent" | "dropped";

/** A reminder a chat is owed: a reply to the incident's card there (0009). */
export interface ReminderMessagesTable {
  id: Generated<number>;
  incident_id: string;
  chat_id: number;
  thread_id: number | null;
  /** remind: a reply to the card; escalate: the full card, as a new message marked as an escalation. */
  kind: "remind" | "escalate";
  /** The card's message id in that chat (remind); null for an escalation. */
  reply_to: number | null;
  /** How long the incident had been New when the reminder fell due. */
  new_for_ms: number;
  state: ReminderMessageState;
  created_at: number;
  sent_at: number | null;
  message_id: number | null;
}

/** A chat (or forum topic) that opted in to the daily shift report with /report on (migration 0010). */
export interface ReportChatsTable {
  chat_id: number;
  thread_id: number | null;
  enabled_by: number | null;
  enabled_at: number;
}

/** One shift report claimed for one chat and day (YYYY-MM-DD in BOT_TIME_ZONE): never sent twice. */
export interface ReportSendsTable {
  day: string;
  chat_id: number;
  claimed_at: number;
}
