// The validated configuration every part of the service receives.
// src/config/schema.ts builds it from environment variables, .env and an optional YAML file
// (design.md §1 lists the variables; names in comments).

export type Locale = "ru" | "en";
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Who may press incident buttons: `users` = admins and personally allowed users; `chat` = any member of an allowed chat. */
export type ActionPolicy = "users" | "chat";

export interface SiemConfig {
  url: string; // MPSIEM_URL, no trailing slash
  authUrl: string; // MPSIEM_AUTH_URL, default MPSIEM_URL with port 3334
  username?: string; // MPSIEM_USERNAME
  password?: string; // MPSIEM_PASSWORD (secret)
  clientId: string; // MPSIEM_CLIENT_ID, default "mpx"
  clientSecret?: string; // MPSIEM_CLIENT_SECRET (secret)
  token?: string; // MPSIEM_TOKEN (secret), personal access token used as the Bearer
  caFile?: string; // MPSIEM_CA_FILE
  tlsVerify: boolean; // MPSIEM_TLS_VERIFY, default true
  timeoutMs: number; // MPSIEM_TIMEOUT (addition), default 30s: whole-request timeout of one call
}

export interface TelegramConfig {
  botToken: string; // TELEGRAM_BOT_TOKEN (secret)
  adminIds: number[]; // TELEGRAM_ADMIN_IDS
  apiRoot: string; // TELEGRAM_API_ROOT, default https://api.telegram.org
  proxy?: string; // TELEGRAM_PROXY
  pingAnimation?: string; // BOT_PING_ANIMATION (addition): file_id or URL sent on /ping
  webhook?: WebhookConfig; // TELEGRAM_WEBHOOK_* (addition): updates by webhook instead of long polling
}

/** Webhook mode: Telegram posts updates to `url`; every instance listens on host:port for them. */
export interface WebhookConfig {
  url: string; // TELEGRAM_WEBHOOK_URL: the public https URL Telegram posts to (its path is served)
  secret: string; // TELEGRAM_WEBHOOK_SECRET (secret): Telegram sends it in X-Telegram-Bot-Api-Secret-Token
  host: string; // TELEGRAM_WEBHOOK_HOST, default 127.0.0.1: where this instance listens for the posts
  port: number; // TELEGRAM_WEBHOOK_PORT, default 8443
}

export interface BotConfig {
  dbPath: string; // BOT_DB_PATH, default ./data/bot.db
  dbUrl?: string; // BOT_DB_URL (secret: holds the password): postgres://user:password@host:port/db instead of SQLite
  pollIntervalMs: number; // BOT_POLL_INTERVAL (seconds, fractions allowed), default 3
  initialLookbackMs: number; // BOT_INITIAL_LOOKBACK, default 24h
  overlapMs: number; // BOT_OVERLAP_WINDOW (addition), default 10m: re-read window behind the watermark
  changeWindowMs: number; // BOT_CHANGE_WINDOW (addition), default 7d: how long sent incidents are watched for changes
  /**
   * BOT_RETENTION (addition), default 90d: how long delivered rows, audit entries and incidents are kept.
   * The loader always sets it; a config built by hand may leave it out for the default.
   */
  retentionMs?: number;
  timeZone: string; // BOT_TIME_ZONE, default Europe/Moscow
  locale: Locale; // BOT_LOCALE, default ru
  maxEvents: number; // BOT_MAX_EVENTS, default 5
  httpPort: number; // BOT_HTTP_PORT, default 0 (off)
  httpHost: string; // BOT_HTTP_HOST, default 127.0.0.1
  actionPolicy: ActionPolicy; // BOT_ACTION_POLICY (addition), default users
  leaseTtlMs?: number; // BOT_LEASE_TTL, default 15s (also when a config built in code leaves it out): a standby takes over within it
  instanceName?: string; // BOT_INSTANCE_NAME (addition), default <host>-<pid>: this instance in /healthz, /debug
  /** BOT_SILENT_BELOW (design.md §3): incidents below this severity arrive silently everywhere; absent = off. */
  silentBelow?: "low" | "medium" | "high" | null;
  /** BOT_REMIND_* and BOT_ESCALATE_* (design.md §5); absent (a config built in code) = both off. */
  reminders?: ReminderConfig;
  /** BOT_REPORT_AT (issue 16): "HH:MM" in BOT_TIME_ZONE, when the daily shift report goes out; absent = off. */
  reportAt?: string;
}

/** design.md §5: the one-policy shortcut for reminders and escalation. */
export interface ReminderConfig {
  remindAfterMs: number; // BOT_REMIND_AFTER, default 0 = off
  remindEveryMs: number; // BOT_REMIND_EVERY, default 30m
  remindMax: number; // BOT_REMIND_MAX, default 3
  remindMinSeverity: "low" | "medium" | "high"; // BOT_REMIND_MIN_SEVERITY, default low
  escalateAfterMs: number; // BOT_ESCALATE_AFTER, default 0 = off
  escalateChatId: number | null; // BOT_ESCALATE_CHAT
}

/** Whether reminders or escalation are on (the Snooze button is offered only then). */
export function remindersOn(
  config: Pick<Config, "bot"> & { escalation?: EscalationPolicyConfig[] },
): boolean {
  const r = config.bot.reminders;
  if ((config.escalation?.length ?? 0) > 0) return true;
  return r !== undefined && (r.remindAfterMs > 0 || (r.escalateAfterMs > 0 && r.escalateChatId !== null));
}

/**
 * A policy of the config file's `escalation:` (issue 15, config/policies.ts): for the incidents its
 * matchers admit, reminders in the chats that have the card and/or one notification to a chat.
 */
export interface EscalationPolicyConfig {
  name: string;
  /** Matchers in canonical form ("" = every incident). */
  match: string;
  /** The `remind` step: first reminder `afterMs` after the first delivery, then every `everyMs`. */
  remind: { afterMs: number; everyMs: number } | null;
  /** The `notify` step: the full card to `chatId`, once, `afterMs` after the first delivery. */
  notify: { afterMs: number; chatId: number } | null;
  /** How many reminders at most (the repeat cap). */
  repeat: number;
  /** Active-hours specs in BOT_TIME_ZONE; outside them a due step is held until they begin. Empty = always. */
  activeHours: string[];
}

/** BOT_REMIND_EVERY's default: 30 minutes. */
export const DEFAULT_REMIND_EVERY_MS = 30 * 60_000;
/** BOT_REMIND_MAX's default. */
export const DEFAULT_REMIND_MAX = 3;

/**
 * A route of the config file's `routes:` (design.md §3): the chat is allowed by being listed; `topic`
 * sends into a forum topic. Matchers are in canonical form ("" = everything / no silent rule).
 */
export interface RouteConfig {
  chatId: number;
  topic: number | null;
  filter: string;
  silent: string;
  /** Active-hours specs ("monday-friday 09:00-18:00"); empty = always. */
  activeHours: string[];
}

/** BOT_RETENTION's default: 90 days. */
export const DEFAULT_RETENTION_MS = 90 * 86_400_000;

export interface Config {
  siem: SiemConfig;
  telegram: TelegramConfig;
  bot: BotConfig;
  logLevel: LogLevel; // LOG_LEVEL, default info
  /** The config file's `routes:` (absent or empty: none). */
  routes?: RouteConfig[];
  /** The config file's `escalation:` policies (absent or empty: none; the env settings still apply). */
  escalation?: EscalationPolicyConfig[];
}

/** The values that must never be printed: logs, /debug, error replies. */
export function secretValues(config: Config): string[] {
  return [
    config.siem.password,
    config.siem.clientSecret,
    config.siem.token,
    config.telegram.botToken,
    config.telegram.webhook?.secret,
    ...(config.bot.dbUrl ? urlPasswordForms(config.bot.dbUrl) : []),
  ].filter((v): v is string => typeof v === "string" && v.length > 0);
}

/**
 * The password of a URL (BOT_DB_URL) in every form it may show up in: as written, as a URL parser
 * re-encodes it, and decoded (what the database driver sends). Empty when the URL has none.
 */
export function urlPasswordForms(url: string): string[] {
  const forms: string[] = [];
  // As written: between the first ":" of the user info and its last "@".
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "";
  const at = authority.lastIndexOf("@");
  const userInfo = at === -1 ? "" : authority.slice(0, at);
  const colon = userInfo.indexOf(":");
  if (colon !== -1) forms.push(userInfo.slice(colon + 1));
  try {
    forms.push(new URL(url).password);
  } catch {
    // not a URL: the form as written is all there is
  }
  for (const form of [...forms]) {
    try {
      forms.push(decodeURIComponent(form));
    } catch {
      // a stray "%": only the form as written exists
    }
  }
  return [...new Set(forms.filter((f) => f.length > 0))];
}
