// The one zod schema that turns raw setting strings (from the environment, .env or the YAML file) into a
// Config. Every problem is reported as "<SETTING>: <what is wrong>" and a secret's value is never echoed.

import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { SEVERITY_WORDS_HINT, severityOfWord } from "../routing/index.js";
import { formatDuration, parseDuration } from "./duration.js";
import {
  type ActionPolicy,
  type Config,
  DEFAULT_REMIND_EVERY_MS,
  DEFAULT_REMIND_MAX,
  DEFAULT_RETENTION_MS,
  type Locale,
  type LogLevel,
} from "./types.js";

/** Every setting, in the order problems and descriptions are listed (design.md §1 plus the additions). */
export const SETTING_NAMES = [
  "MPSIEM_URL",
  "MPSIEM_AUTH_URL",
  "MPSIEM_USERNAME",
  "MPSIEM_PASSWORD",
  "MPSIEM_CLIENT_ID",
  "MPSIEM_CLIENT_SECRET",
  "MPSIEM_TOKEN",
  "MPSIEM_CA_FILE",
  "MPSIEM_TLS_VERIFY",
  "MPSIEM_TIMEOUT",
  "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_ADMIN_IDS",
  "TELEGRAM_API_ROOT",
  "TELEGRAM_PROXY",
  "BOT_PING_ANIMATION",
  "TELEGRAM_WEBHOOK_URL",
  "TELEGRAM_WEBHOOK_SECRET",
  "TELEGRAM_WEBHOOK_HOST",
  "TELEGRAM_WEBHOOK_PORT",
  "BOT_DB_PATH",
  "BOT_DB_URL",
  "BOT_POLL_INTERVAL",
  "BOT_INITIAL_LOOKBACK",
  "BOT_OVERLAP_WINDOW",
  "BOT_CHANGE_WINDOW",
  "BOT_RETENTION",
  "BOT_TIME_ZONE",
  "BOT_LOCALE",
  "BOT_MAX_EVENTS",
  "BOT_HTTP_PORT",
  "BOT_HTTP_HOST",
  "BOT_ACTION_POLICY",
  "BOT_LEASE_TTL",
  "BOT_INSTANCE_NAME",
  "BOT_SILENT_BELOW",
  "BOT_REMIND_AFTER",
  "BOT_REMIND_EVERY",
  "BOT_REMIND_MAX",
  "BOT_REMIND_MIN_SEVERITY",
  "BOT_ESCALATE_AFTER",
  "BOT_ESCALATE_CHAT",
  "BOT_REPORT_AT",
  "LOG_LEVEL",
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];

export const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set<SettingName>([
  "MPSIEM_PASSWORD",
  "MPSIEM_CLIENT_SECRET",
  "MPSIEM_TOKEN",
  "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_WEBHOOK_SECRET",
  "BOT_DB_URL",
]);

/** Raw values as strings; a setting that is absent (or empty) is undefined. */
export type RawSettings = Partial<Record<SettingName, string>>;

export const DEFAULT_AUTH_PORT = 3334;
export const MIN_POLL_INTERVAL_MS = 200;
export const DEFAULT_LEASE_TTL_MS = 15_000;
export const MIN_LEASE_TTL_MS = 1_000;
export const MAX_LEASE_TTL_MS = 10 * 60_000;
export const DEFAULT_WEBHOOK_PORT = 8443;

const KNOWN = new Set<string>(SETTING_NAMES);
export function isSettingName(name: string): name is SettingName {
  return KNOWN.has(name);
}

/** How a value failed: `expected` renders as "expected …, got "value""; `message` is used as is. */
type Rejection = { readonly rejected: true; readonly expected?: string; readonly message?: string };
const expected = (what: string): Rejection => ({ rejected: true, expected: what });
const rejectWith = (message: string): Rejection => ({ rejected: true, message });
const isRejection = (v: unknown): v is Rejection =>
  typeof v === "object" && v !== null && (v as Rejection).rejected === true;

type Parse<T> = (value: string) => T | Rejection;

/** A value as it may be shown in a problem line: quoted, bounded, credentials in a URL hidden. */
function shown(value: string): string {
  const clipped = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(hideUrlCredentials(clipped));
}

/** "socks5://user:pw@host" → "socks5://***@host"; also catches "user:pw@host" without a scheme. */
export function hideUrlCredentials(value: string): string {
  return value.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i,
    (_m, scheme: string | undefined) => `${scheme ?? ""}***@`,
  );
}

function describeRejection(name: SettingName, value: string, r: Rejection): string {
  if (SECRET_SETTINGS.has(name)) return `is set but invalid${r.expected ? `: expected ${r.expected}` : ""}`;
  return r.message ?? `expected ${r.expected}, got ${shown(value)}`;
}

function report(ctx: z.RefinementCtx, message: string): typeof z.NEVER {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
}

function runParse<T>(name: SettingName, parse: Parse<T>, raw: string, ctx: z.RefinementCtx): T {
  const result = parse(raw);
  return isRejection(result) ? report(ctx, describeRejection(name, raw, result)) : result;
}

function optional<T>(name: SettingName, parse: Parse<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T | undefined =>
      raw === undefined ? undefined : runParse(name, parse, raw, ctx),
    );
}

function withDefault<T>(name: SettingName, fallback: T, parse: Parse<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => (raw === undefined ? fallback : runParse(name, parse, raw, ctx)));
}

function required<T>(name: SettingName, parse: Parse<T>, whenMissing = "required") {
  return z
    .string()
    .optional()
    .transform(
      (raw, ctx): T => (raw === undefined ? report(ctx, whenMissing) : runParse(name, parse, raw, ctx)),
    );
}

// ---- value parsers ----

const text: Parse<string> = (v) => v;

function httpUrl(example: string): Parse<string> {
  const expectation = `an http(s) URL like ${example}`;
  return (v) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      return expected(expectation);
    }
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
      return expected(expectation);
    }
    if (url.username || url.password) {
      return rejectWith("must not contain a user name or password; the account has its own settings");
    }
    if (url.search || url.hash) return expected(`a base URL without ?query or #fragment like ${example}`);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  };
}

const PROXY_SCHEMES = new Set(["http:", "https:", "socks5:", "socks5h:"]);
const proxyUrl: Parse<string> = (v) => {
  const expectation = "a proxy URL starting with http://, https:// or socks5://";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return expected(expectation);
  }
  if (!PROXY_SCHEMES.has(url.protocol) || url.hostname === "") return expected(expectation);
  return v.replace(/\/+$/, "");
};

const DB_URL_EXAMPLE = "postgres://user:password@host:5432/dbname";
/** BOT_DB_URL. A secret (it holds the password), so a problem names what is expected, never the value. */
const databaseUrl: Parse<string> = (v) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return expected(`a PostgreSQL URL like ${DB_URL_EXAMPLE}`);
  }
  if ((url.protocol !== "postgres:" && url.protocol !== "postgresql:") || url.hostname === "") {
    return expected(`a PostgreSQL URL like ${DB_URL_EXAMPLE}`);
  }
  if (!/^\/[^/]+$/.test(url.pathname)) {
    return expected(`the database name after the host, like ${DB_URL_EXAMPLE}`);
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURIComponent(url.pathname);
  } catch {
    return expected("special characters in the user, password or database name written as %XX (URL-encoded)");
  }
  return v;
};

const WEBHOOK_URL_EXAMPLE = "https://bot.example.com/telegram/webhook";
/** TELEGRAM_WEBHOOK_URL: where Telegram posts updates; its path is what each instance serves. */
const webhookUrl: Parse<string> = (v) => {
  const expectation = `an https URL like ${WEBHOOK_URL_EXAMPLE}`;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return expected(expectation);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "")
    return expected(expectation);
  if (url.username || url.password) return rejectWith("must not contain a user name or password");
  if (url.search || url.hash)
    return expected(`a URL without ?query or #fragment like ${WEBHOOK_URL_EXAMPLE}`);
  return url.toString();
};

/** Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -. */
const webhookSecret: Parse<string> = (v) =>
  /^[A-Za-z0-9_-]{1,256}$/.test(v) ? v : expected("1-256 characters: letters A-Z a-z, digits, _ and -");

const instanceName: Parse<string> = (v) =>
  /^[A-Za-z0-9._:@-]{1,64}$/.test(v)
    ? v
    : expected("a name of 1-64 letters, digits and . _ : @ - (each instance its own, e.g. bot-1)");

const leaseTtl: Parse<number> = (v) => {
  const ms = parseDuration(v);
  if (ms === null || ms < MIN_LEASE_TTL_MS || ms > MAX_LEASE_TTL_MS) {
    return expected("a duration from 1s to 10m, like 15s");
  }
  return ms;
};

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);
const bool: Parse<boolean> = (v) => {
  const word = v.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return expected("true or false (also 1/0, yes/no)");
};

function wholeNumber(min: number, max: number, expectation: string): Parse<number> {
  return (v) => {
    if (!/^\d+$/.test(v)) return expected(expectation);
    const n = Number(v);
    return n >= min && n <= max ? n : expected(expectation);
  };
}

function oneOf<T extends string>(words: readonly T[], expectation: string): Parse<T> {
  return (v) => {
    const word = v.toLowerCase();
    return (words as readonly string[]).includes(word) ? (word as T) : expected(expectation);
  };
}

function duration(expectation: string, { positive }: { positive: boolean }): Parse<number> {
  return (v) => {
    const ms = parseDuration(v);
    if (ms === null || (positive && ms === 0)) return expected(expectation);
    return ms;
  };
}

const pollInterval: Parse<number> = (v) => {
  const ms = parseDuration(v);
  if (ms === null || ms === 0) return expected("seconds > 0 (fractions allowed)");
  if (ms < MIN_POLL_INTERVAL_MS) return rejectWith(`must be at least 0.2 seconds, got ${shown(v)}`);
  return ms;
};

const adminIds: Parse<number[]> = (v) => {
  const expectation = "comma-separated numeric Telegram user ids";
  const parts = v.split(/[\s,;]+/).filter((p) => p !== "");
  if (parts.length === 0) return expected(expectation);
  const ids: number[] = [];
  for (const part of parts) {
    const id = Number(part);
    if (!/^\d+$/.test(part) || id === 0 || !Number.isSafeInteger(id)) return expected(expectation);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
};

const timeZone: Parse<string> = (v) => {
  try {
    // Canonical spelling ("utc" → "UTC") so every part formats times the same way.
    return new Intl.DateTimeFormat("en-US", { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    return rejectWith(
      `unknown IANA time zone ${shown(v)} (examples: Europe/Moscow, Asia/Yekaterinburg, UTC)`,
    );
  }
};

const listenHost: Parse<string> = (v) =>
  /^[A-Za-z0-9.\-:[\]]+$/.test(v) ? v : expected("a host name or IP address to listen on, like 127.0.0.1");

const botToken: Parse<string> = (v) =>
  /^\d+:[A-Za-z0-9_-]+$/.test(v) ? v : expected("the token from @BotFather, like 123456789:AAH...");

const accessToken: Parse<string> = (v) => {
  if (/^bearer\s/i.test(v)) return expected('the token alone, without the "Bearer " prefix');
  return /\s/.test(v) ? expected("a token without spaces or line breaks") : v;
};

function filePath(cwd: string): Parse<string> {
  return (v) => (v === ":memory:" ? v : resolve(cwd, v));
}

function caFile(cwd: string): Parse<string> {
  return (v) => {
    const path = resolve(cwd, v);
    let pem: string;
    try {
      if (!statSync(path).isFile()) return rejectWith(`${JSON.stringify(path)} is not a file`);
      pem = readFileSync(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      return rejectWith(`cannot read ${JSON.stringify(path)} (${code})`);
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      return rejectWith(
        `expected a PEM file with at least one certificate, ${JSON.stringify(path)} has none`,
      );
    }
    return path;
  };
}

/** BOT_SILENT_BELOW: a severity (any case, Russian names too), or off. */
const silentBelow: Parse<"low" | "medium" | "high" | null> = (v) => {
  if (/^(off|none|0|false|no)$/i.test(v)) return null;
  return severityOfWord(v) ?? expected(`low, medium, high or off (${SEVERITY_WORDS_HINT})`);
};

/** BOT_REMIND_MIN_SEVERITY: a severity (any case, Russian names too). */
const minSeverity: Parse<"low" | "medium" | "high"> = (v) =>
  severityOfWord(v) ?? expected(`low, medium or high (${SEVERITY_WORDS_HINT})`);

/** BOT_ESCALATE_CHAT: a Telegram chat id (a group's is negative, like -1001234567890). */
const chatId: Parse<number> = (v) => {
  const id = Number(v);
  return /^-?\d+$/.test(v) && id !== 0 && Number.isSafeInteger(id)
    ? id
    : expected("a numeric Telegram chat id, like -1001234567890");
};

/** BOT_REPORT_AT: the daily shift report's time, HH:MM (24-hour, in BOT_TIME_ZONE), or off. */
const reportAt: Parse<string | undefined> = (v) => {
  if (/^(off|none|false|no)$/i.test(v)) return undefined;
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(v.trim());
  if (!m) return expected("a time of day HH:MM, 24-hour, in BOT_TIME_ZONE (e.g. 09:00), or off");
  return `${m[1]!.padStart(2, "0")}:${m[2]}`;
};

// ---- the schema ----

const SIEM_EXAMPLE = "https://siem.example.local";
const DURATION_LIKE = "a duration like 0, 30m, 24h";

/** Builds the schema; `cwd` anchors relative paths (BOT_DB_PATH, MPSIEM_CA_FILE). */
export function buildConfigSchema(cwd: string) {
  return z
    .object({
      MPSIEM_URL: required("MPSIEM_URL", httpUrl(SIEM_EXAMPLE)),
      MPSIEM_AUTH_URL: optional("MPSIEM_AUTH_URL", httpUrl(`${SIEM_EXAMPLE}:${DEFAULT_AUTH_PORT}`)),
      MPSIEM_USERNAME: optional("MPSIEM_USERNAME", text),
      MPSIEM_PASSWORD: optional("MPSIEM_PASSWORD", text),
      MPSIEM_CLIENT_ID: withDefault("MPSIEM_CLIENT_ID", "mpx", text),
      MPSIEM_CLIENT_SECRET: optional("MPSIEM_CLIENT_SECRET", text),
      MPSIEM_TOKEN: optional("MPSIEM_TOKEN", accessToken),
      MPSIEM_CA_FILE: optional("MPSIEM_CA_FILE", caFile(cwd)),
      MPSIEM_TLS_VERIFY: withDefault("MPSIEM_TLS_VERIFY", true, bool),
      MPSIEM_TIMEOUT: withDefault(
        "MPSIEM_TIMEOUT",
        30_000,
        duration("a duration > 0 like 30s or 2m", { positive: true }),
      ),
      TELEGRAM_BOT_TOKEN: required("TELEGRAM_BOT_TOKEN", botToken),
      TELEGRAM_ADMIN_IDS: required("TELEGRAM_ADMIN_IDS", adminIds, "required: at least one Telegram user id"),
      TELEGRAM_API_ROOT: withDefault(
        "TELEGRAM_API_ROOT",
        "https://api.telegram.org",
        httpUrl("https://api.telegram.org"),
      ),
      TELEGRAM_PROXY: optional("TELEGRAM_PROXY", proxyUrl),
      BOT_PING_ANIMATION: optional("BOT_PING_ANIMATION", text),
      TELEGRAM_WEBHOOK_URL: optional("TELEGRAM_WEBHOOK_URL", webhookUrl),
      TELEGRAM_WEBHOOK_SECRET: optional("TELEGRAM_WEBHOOK_SECRET", webhookSecret),
      TELEGRAM_WEBHOOK_HOST: withDefault("TELEGRAM_WEBHOOK_HOST", "127.0.0.1", listenHost),
      TELEGRAM_WEBHOOK_PORT: withDefault(
        "TELEGRAM_WEBHOOK_PORT",
        DEFAULT_WEBHOOK_PORT,
        wholeNumber(1, 65_535, "a port number from 1 to 65535"),
      ),
      BOT_DB_PATH: withDefault("BOT_DB_PATH", resolve(cwd, "data/bot.db"), filePath(cwd)),
      BOT_DB_URL: optional("BOT_DB_URL", databaseUrl),
      BOT_POLL_INTERVAL: withDefault("BOT_POLL_INTERVAL", 3_000, pollInterval),
      BOT_INITIAL_LOOKBACK: withDefault(
        "BOT_INITIAL_LOOKBACK",
        86_400_000,
        duration(DURATION_LIKE, { positive: false }),
      ),
      BOT_OVERLAP_WINDOW: withDefault(
        "BOT_OVERLAP_WINDOW",
        600_000,
        duration("a duration like 0, 5m, 10m", { positive: false }),
      ),
      BOT_CHANGE_WINDOW: withDefault(
        "BOT_CHANGE_WINDOW",
        604_800_000,
        duration("a duration like 0, 24h, 7d", { positive: false }),
      ),
      BOT_RETENTION: withDefault(
        "BOT_RETENTION",
        DEFAULT_RETENTION_MS,
        duration("a duration > 0 like 30d, 12w, 2160h", { positive: true }),
      ),
      BOT_TIME_ZONE: withDefault("BOT_TIME_ZONE", "Europe/Moscow", timeZone),
      BOT_LOCALE: withDefault<Locale>("BOT_LOCALE", "ru", oneOf(["ru", "en"], "ru or en")),
      BOT_MAX_EVENTS: withDefault("BOT_MAX_EVENTS", 5, wholeNumber(0, 50, "a whole number from 0 to 50")),
      BOT_HTTP_PORT: withDefault(
        "BOT_HTTP_PORT",
        0,
        wholeNumber(0, 65_535, "a port number from 0 to 65535 (0 = off)"),
      ),
      BOT_HTTP_HOST: withDefault("BOT_HTTP_HOST", "127.0.0.1", listenHost),
      BOT_ACTION_POLICY: withDefault<ActionPolicy>(
        "BOT_ACTION_POLICY",
        "users",
        oneOf(["users", "chat"], "users or chat"),
      ),
      BOT_LEASE_TTL: withDefault("BOT_LEASE_TTL", DEFAULT_LEASE_TTL_MS, leaseTtl),
      BOT_INSTANCE_NAME: optional("BOT_INSTANCE_NAME", instanceName),
      BOT_SILENT_BELOW: withDefault("BOT_SILENT_BELOW", null, silentBelow),
      BOT_REMIND_AFTER: withDefault(
        "BOT_REMIND_AFTER",
        0,
        duration("a duration like 0 (off), 20s, 30m, 1h", { positive: false }),
      ),
      BOT_REMIND_EVERY: withDefault(
        "BOT_REMIND_EVERY",
        DEFAULT_REMIND_EVERY_MS,
        duration("a duration > 0 like 20s, 30m, 1h", { positive: true }),
      ),
      BOT_REMIND_MAX: withDefault(
        "BOT_REMIND_MAX",
        DEFAULT_REMIND_MAX,
        wholeNumber(1, 100, "a whole number from 1 to 100"),
      ),
      BOT_REMIND_MIN_SEVERITY: withDefault<"low" | "medium" | "high">(
        "BOT_REMIND_MIN_SEVERITY",
        "low",
        minSeverity,
      ),
      BOT_ESCALATE_AFTER: withDefault(
        "BOT_ESCALATE_AFTER",
        0,
        duration("a duration like 0 (off), 20s, 1h", { positive: false }),
      ),
      BOT_ESCALATE_CHAT: optional("BOT_ESCALATE_CHAT", chatId),
      BOT_REPORT_AT: withDefault("BOT_REPORT_AT", undefined, reportAt),
      LOG_LEVEL: withDefault<LogLevel>(
        "LOG_LEVEL",
        "info",
        oneOf(["debug", "info", "warn", "error"], "debug, info, warn or error"),
      ),
    })
    .superRefine(
      (s, ctx) => {
        // Retention must outlive the windows that still read stored incidents: pruning an incident still
        // watched for changes would stop its edits, and one still in the overlap window would be sent again.
        if (typeof s.BOT_RETENTION === "number") {
          for (const [name, windowMs] of [
            ["BOT_CHANGE_WINDOW", s.BOT_CHANGE_WINDOW],
            ["BOT_OVERLAP_WINDOW", s.BOT_OVERLAP_WINDOW],
          ] as const) {
            if (typeof windowMs === "number" && s.BOT_RETENTION < windowMs) {
              ctx.addIssue({
                code: "custom",
                path: ["BOT_RETENTION"],
                message: `must not be shorter than ${name} (${formatDuration(windowMs)}), got ${formatDuration(s.BOT_RETENTION)}`,
              });
            }
          }
        }
        const missing = (name: SettingName, message: string) =>
          ctx.addIssue({ code: "custom", path: [name], message });
        // An escalation needs somewhere to go.
        if (
          typeof s.BOT_ESCALATE_AFTER === "number" &&
          s.BOT_ESCALATE_AFTER > 0 &&
          s.BOT_ESCALATE_CHAT === undefined
        ) {
          missing(
            "BOT_ESCALATE_CHAT",
            `required with BOT_ESCALATE_AFTER (${formatDuration(s.BOT_ESCALATE_AFTER)}): the chat id escalations go to`,
          );
        }
        // Webhook mode needs both: the URL turns it on, the secret proves a post comes from Telegram.
        if (s.TELEGRAM_WEBHOOK_URL !== undefined && s.TELEGRAM_WEBHOOK_SECRET === undefined) {
          missing(
            "TELEGRAM_WEBHOOK_SECRET",
            "required with TELEGRAM_WEBHOOK_URL (1-256 characters A-Z a-z 0-9 _ -)",
          );
        }
        if (s.TELEGRAM_WEBHOOK_URL === undefined && s.TELEGRAM_WEBHOOK_SECRET !== undefined) {
          missing(
            "TELEGRAM_WEBHOOK_URL",
            "required with TELEGRAM_WEBHOOK_SECRET: set the URL for webhook mode, or remove the secret for long polling",
          );
        }
        // A personal access token replaces the whole password login.
        if (s.MPSIEM_TOKEN !== undefined) return;
        if (s.MPSIEM_USERNAME === undefined)
          missing("MPSIEM_USERNAME", "required unless MPSIEM_TOKEN is set");
        if (s.MPSIEM_PASSWORD === undefined)
          missing("MPSIEM_PASSWORD", "required unless MPSIEM_TOKEN is set");
        if (s.MPSIEM_CLIENT_SECRET === undefined)
          missing("MPSIEM_CLIENT_SECRET", "required with a password login");
      },
      // Run even when single settings failed, so the user sees every problem in one go.
      { when: () => true },
    )
    .transform(
      (s): Config => ({
        siem: {
          url: s.MPSIEM_URL,
          authUrl: s.MPSIEM_AUTH_URL ?? defaultAuthUrl(s.MPSIEM_URL),
          username: s.MPSIEM_USERNAME,
          password: s.MPSIEM_PASSWORD,
          clientId: s.MPSIEM_CLIENT_ID,
          clientSecret: s.MPSIEM_CLIENT_SECRET,
          token: s.MPSIEM_TOKEN,
          caFile: s.MPSIEM_CA_FILE,
          tlsVerify: s.MPSIEM_TLS_VERIFY,
          timeoutMs: s.MPSIEM_TIMEOUT,
        },
        telegram: {
          botToken: s.TELEGRAM_BOT_TOKEN,
          adminIds: s.TELEGRAM_ADMIN_IDS,
          apiRoot: s.TELEGRAM_API_ROOT,
          proxy: s.TELEGRAM_PROXY,
          pingAnimation: s.BOT_PING_ANIMATION,
          webhook:
            s.TELEGRAM_WEBHOOK_URL !== undefined && s.TELEGRAM_WEBHOOK_SECRET !== undefined
              ? {
                  url: s.TELEGRAM_WEBHOOK_URL,
                  secret: s.TELEGRAM_WEBHOOK_SECRET,
                  host: s.TELEGRAM_WEBHOOK_HOST,
                  port: s.TELEGRAM_WEBHOOK_PORT,
                }
              : undefined,
        },
        bot: {
          dbPath: s.BOT_DB_PATH,
          dbUrl: s.BOT_DB_URL,
          pollIntervalMs: s.BOT_POLL_INTERVAL,
          initialLookbackMs: s.BOT_INITIAL_LOOKBACK,
          overlapMs: s.BOT_OVERLAP_WINDOW,
          changeWindowMs: s.BOT_CHANGE_WINDOW,
          retentionMs: s.BOT_RETENTION,
          timeZone: s.BOT_TIME_ZONE,
          locale: s.BOT_LOCALE,
          maxEvents: s.BOT_MAX_EVENTS,
          httpPort: s.BOT_HTTP_PORT,
          httpHost: s.BOT_HTTP_HOST,
          actionPolicy: s.BOT_ACTION_POLICY,
          leaseTtlMs: s.BOT_LEASE_TTL,
          instanceName: s.BOT_INSTANCE_NAME,
          silentBelow: s.BOT_SILENT_BELOW,
          reminders: {
            remindAfterMs: s.BOT_REMIND_AFTER,
            remindEveryMs: s.BOT_REMIND_EVERY,
            remindMax: s.BOT_REMIND_MAX,
            remindMinSeverity: s.BOT_REMIND_MIN_SEVERITY,
            escalateAfterMs: s.BOT_ESCALATE_CHAT === undefined ? 0 : s.BOT_ESCALATE_AFTER,
            escalateChatId: s.BOT_ESCALATE_CHAT ?? null,
          },
          ...(s.BOT_REPORT_AT ? { reportAt: s.BOT_REPORT_AT } : {}),
        },
        logLevel: s.LOG_LEVEL,
      }),
    );
}

/** MPSIEM_URL's scheme and host with the port where MP 10 serves /connect/token. */
export function defaultAuthUrl(siemUrl: string): string {
  const url = new URL(siemUrl);
  return `${url.protocol}//${url.hostname}:${DEFAULT_AUTH_PORT}`;
}
