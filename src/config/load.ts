// Loads the Config from, in order of precedence: environment variables, a .env file in the working
// directory, the YAML file (--config FILE or MPSIEM_TELEGRAM_CONFIG), then the defaults.
//
// The YAML file is a flat map using the same UPPER_SNAKE names as the environment variables:
//   MPSIEM_URL: https://siem.example.local
//   TELEGRAM_ADMIN_IDS: [111111, 222222]     # or "111111,222222"
//   BOT_POLL_INTERVAL: 1.5
// plus, optionally, `routes:` (a list; config/routes.ts) and `escalation:` (a list of policies;
// config/policies.ts), which only the file can hold.
// An unknown key in the file is an error (typo protection); unknown environment variables are ignored.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { parse as parseYaml } from "yaml";
import { formatDuration, parseDuration } from "./duration.js";
import { parsePolicies } from "./policies.js";
import { parseRoutes } from "./routes.js";
import {
  buildConfigSchema,
  DEFAULT_LEASE_TTL_MS,
  hideUrlCredentials,
  isSettingName,
  type RawSettings,
  SETTING_NAMES,
  type SettingName,
} from "./schema.js";
import {
  type Config,
  DEFAULT_REMIND_EVERY_MS,
  DEFAULT_REMIND_MAX,
  DEFAULT_RETENTION_MS,
  secretValues,
} from "./types.js";

export { formatDuration, parseDuration };

/** Names the environment variable that points at the YAML file when --config is not given. */
export const CONFIG_FILE_VARIABLE = "MPSIEM_TELEGRAM_CONFIG";

/** Start-up stops with this; `problems` holds one line per problem, each naming the setting. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  configFile?: string;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];

  const dotenvValues = readDotenv(cwd, problems);
  const fileName =
    opts.configFile ?? nonEmpty(env[CONFIG_FILE_VARIABLE]) ?? nonEmpty(dotenvValues[CONFIG_FILE_VARIABLE]);
  let fromFile: RawSettings = {};
  let routesValue: unknown;
  let escalationValue: unknown;
  if (fileName !== undefined) {
    const file = readYamlSettings(resolve(cwd, fileName), problems);
    // An unreadable file would make every setting in it look "required": report only the real cause.
    if (file === null) throw new ConfigError(problems);
    fromFile = file.settings;
    routesValue = file.routes;
    escalationValue = file.escalation;
  }

  const merged: RawSettings = { ...fromFile, ...pickSettings(dotenvValues), ...pickSettings(env) };
  const result = buildConfigSchema(cwd).safeParse(merged);
  if (!result.success) problems.push(...issueLines(result.error.issues));
  const routes = parseRoutes(routesValue, problems);
  const escalation = parsePolicies(escalationValue, problems);
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return {
    ...result.data,
    ...(routes.length > 0 ? { routes } : {}),
    ...(escalation.length > 0 ? { escalation } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

/** Trims values (except the password, where spaces may be real) and drops empty ones: unset. */
function settingValue(name: SettingName, value: string): string | undefined {
  if (value.trim() === "") return undefined;
  return name === "MPSIEM_PASSWORD" ? value : value.trim();
}

function pickSettings(source: Record<string, string | undefined>): RawSettings {
  const picked: RawSettings = {};
  for (const name of SETTING_NAMES) {
    const raw = source[name];
    if (raw === undefined) continue;
    const value = settingValue(name, raw);
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

function readDotenv(cwd: string, problems: string[]): Record<string, string> {
  const path = resolve(cwd, ".env");
  if (!existsSync(path)) return {};
  try {
    return parseDotenv(readFileSync(path));
  } catch (error) {
    problems.push(`.env (${path}): cannot read (${errorCode(error)})`);
    return {};
  }
}

/** The key of the file that holds routes (a list, not a setting). */
const ROUTES_KEY = "routes";
/** The key of the file that holds the escalation policies (a list, not a setting). */
const ESCALATION_KEY = "escalation";

/**
 * Reads the YAML file into raw settings and its `routes:` (checked later); null when the file cannot be
 * read or parsed at all.
 */
function readYamlSettings(
  path: string,
  problems: string[],
): { settings: RawSettings; routes: unknown; escalation: unknown } | null {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (error) {
    problems.push(`config file ${path}: cannot read (${errorCode(error)})`);
    return null;
  }
  let document: unknown;
  try {
    // Failsafe schema: every scalar stays the text that was written, so a password "0123" is not
    // turned into the number 123, nor "1e3" into 1000; the settings parse their own values.
    document = parseYaml(source, { schema: "failsafe" });
  } catch (error) {
    const firstLine = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    problems.push(`config file ${path}: not valid YAML: ${firstLine}`);
    return null;
  }
  if (document === null || document === undefined)
    return { settings: {}, routes: undefined, escalation: undefined };
  if (typeof document !== "object" || Array.isArray(document)) {
    problems.push(`config file ${path}: expected a map of SETTING_NAME: value lines (see README)`);
    return null;
  }

  const settings: RawSettings = {};
  let routes: unknown;
  let escalation: unknown;
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    if (key === ROUTES_KEY) {
      routes = value;
      continue;
    }
    if (key === ESCALATION_KEY) {
      escalation = value;
      continue;
    }
    if (!isSettingName(key)) {
      const hint = closestSetting(key);
      problems.push(`${key}: unknown setting in ${path}${hint ? `; did you mean ${hint}?` : ""}`);
      continue;
    }
    const text = yamlValueToText(key, value);
    if (text === null) {
      problems.push(
        `${key}: expected a single value in ${path}, got a ${Array.isArray(value) ? "list" : "map"}`,
      );
      continue;
    }
    const trimmed = text === undefined ? undefined : settingValue(key, text);
    if (trimmed !== undefined) settings[key] = trimmed;
  }
  return { settings, routes, escalation };
}

/** Scalars become their text; a list is allowed for TELEGRAM_ADMIN_IDS only. null = not acceptable. */
function yamlValueToText(name: SettingName, value: unknown): string | undefined | null {
  // "KEY:", "KEY: ~" and "KEY: null" leave the setting unset, as in ordinary YAML.
  if (value === null || value === undefined || value === "~" || /^null$/i.test(String(value)))
    return undefined;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return String(value);
  if (name === "TELEGRAM_ADMIN_IDS" && Array.isArray(value)) {
    if (value.every((v) => typeof v === "number" || typeof v === "string")) return value.join(",");
  }
  return null;
}

function closestSetting(key: string): string | undefined {
  const wanted = key.toUpperCase().replace(/[-.\s]/g, "_");
  let best: { name: string; distance: number } | undefined;
  for (const name of SETTING_NAMES) {
    const distance = editDistance(wanted, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= 3 ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message : String(error));
}

/** zod issues → "SETTING: message", in the order the settings are documented. */
function issueLines(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  const order = (issue: { path: readonly PropertyKey[] }) => {
    const index = SETTING_NAMES.indexOf(issue.path[0] as SettingName);
    return index === -1 ? SETTING_NAMES.length : index;
  };
  return [...issues]
    .sort((a, b) => order(a) - order(b))
    .map((issue) =>
      issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message,
    );
}

// ---- showing a loaded config ----

const NOT_SET = "(not set)";
const HIDDEN = "***";

/** Every setting by its variable name, secrets as "***" (for /debug and the start-up log line). */
export function describeConfig(c: Config): Record<string, string> {
  const plain = (v: string | undefined) => v ?? NOT_SET;
  const secret = (v: string | undefined) => (v === undefined ? NOT_SET : HIDDEN);
  const values: Record<SettingName, string> = {
    MPSIEM_URL: c.siem.url,
    MPSIEM_AUTH_URL: c.siem.authUrl,
    MPSIEM_USERNAME: plain(c.siem.username),
    MPSIEM_PASSWORD: secret(c.siem.password),
    MPSIEM_CLIENT_ID: c.siem.clientId,
    MPSIEM_CLIENT_SECRET: secret(c.siem.clientSecret),
    MPSIEM_TOKEN: secret(c.siem.token),
    MPSIEM_CA_FILE: plain(c.siem.caFile),
    MPSIEM_TLS_VERIFY: String(c.siem.tlsVerify),
    MPSIEM_TIMEOUT: formatDuration(c.siem.timeoutMs),
    TELEGRAM_BOT_TOKEN: secret(c.telegram.botToken),
    TELEGRAM_ADMIN_IDS: c.telegram.adminIds.join(","),
    TELEGRAM_API_ROOT: c.telegram.apiRoot,
    TELEGRAM_PROXY: c.telegram.proxy ? hideUrlCredentials(c.telegram.proxy) : NOT_SET,
    BOT_PING_ANIMATION: plain(c.telegram.pingAnimation),
    TELEGRAM_WEBHOOK_URL: plain(c.telegram.webhook?.url),
    TELEGRAM_WEBHOOK_SECRET: secret(c.telegram.webhook?.secret),
    TELEGRAM_WEBHOOK_HOST: c.telegram.webhook ? c.telegram.webhook.host : NOT_SET,
    TELEGRAM_WEBHOOK_PORT: c.telegram.webhook ? String(c.telegram.webhook.port) : NOT_SET,
    BOT_DB_PATH: c.bot.dbPath,
    BOT_DB_URL: c.bot.dbUrl ? hideUrlCredentials(c.bot.dbUrl) : NOT_SET,
    BOT_POLL_INTERVAL: formatDuration(c.bot.pollIntervalMs),
    BOT_INITIAL_LOOKBACK: formatDuration(c.bot.initialLookbackMs),
    BOT_OVERLAP_WINDOW: formatDuration(c.bot.overlapMs),
    BOT_CHANGE_WINDOW: formatDuration(c.bot.changeWindowMs),
    BOT_RETENTION: formatDuration(c.bot.retentionMs ?? DEFAULT_RETENTION_MS),
    BOT_TIME_ZONE: c.bot.timeZone,
    BOT_LOCALE: c.bot.locale,
    BOT_MAX_EVENTS: String(c.bot.maxEvents),
    BOT_HTTP_PORT: String(c.bot.httpPort),
    BOT_HTTP_HOST: c.bot.httpHost,
    BOT_ACTION_POLICY: c.bot.actionPolicy,
    BOT_LEASE_TTL: formatDuration(c.bot.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS),
    BOT_INSTANCE_NAME: plain(c.bot.instanceName),
    BOT_SILENT_BELOW: c.bot.silentBelow ?? "off",
    BOT_REMIND_AFTER: formatDuration(c.bot.reminders?.remindAfterMs ?? 0),
    BOT_REMIND_EVERY: formatDuration(c.bot.reminders?.remindEveryMs ?? DEFAULT_REMIND_EVERY_MS),
    BOT_REMIND_MAX: String(c.bot.reminders?.remindMax ?? DEFAULT_REMIND_MAX),
    BOT_REMIND_MIN_SEVERITY: c.bot.reminders?.remindMinSeverity ?? "low",
    BOT_ESCALATE_AFTER: formatDuration(c.bot.reminders?.escalateAfterMs ?? 0),
    BOT_ESCALATE_CHAT:
      c.bot.reminders?.escalateChatId != null ? String(c.bot.reminders.escalateChatId) : NOT_SET,
    BOT_REPORT_AT: c.bot.reportAt ?? "off",
    LOG_LEVEL: c.logLevel,
  };
  // Listed in the documented order.
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, values[name]]));
}

/**
 * Every value that must never be printed: secretValues() from types.ts plus the password of a
 * TELEGRAM_PROXY URL (as written and URL-decoded). Give this list to createLogger.
 */
export function configSecrets(c: Config): string[] {
  const secrets = secretValues(c);
  if (c.telegram.proxy) {
    try {
      const password = new URL(c.telegram.proxy).password;
      if (password) secrets.push(password, decodeURIComponent(password));
    } catch {
      // proxyUrl() in the schema already accepted it as a URL; nothing more to hide.
    }
  }
  return [...new Set(secrets)];
}
