// The few settings the demo reads. Everything else (SIEM address, account, database) is the demo's own.
// Sources, highest first: environment variables, the .env in the working directory, the --config file.
// The full loader (src/config/load.ts) is not used on purpose: it requires a real SIEM's settings.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { parse as parseYaml } from "yaml";
import type { Locale } from "../config/types.js";

export const DEFAULT_TELEGRAM_API_ROOT = "https://api.telegram.org";

/** A real bot to use instead of the built-in fake Bot API. */
export interface RealTelegram {
  botToken: string;
  adminIds: number[];
  apiRoot: string;
  proxy?: string;
}

export interface DemoSettings {
  /** Undefined: no token, so the demo plays its script against the fake Bot API. */
  telegram?: RealTelegram;
  locale: Locale;
  timeZone: string;
}

/** A setting a person must fix; the message names it. */
export class DemoSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoSettingsError";
  }
}

const READ = [
  "TELEGRAM_BOT_TOKEN",
  "TELEGRAM_ADMIN_IDS",
  "TELEGRAM_API_ROOT",
  "TELEGRAM_PROXY",
  "BOT_LOCALE",
  "BOT_TIME_ZONE",
] as const;
type Name = (typeof READ)[number];

export interface ReadDemoSettingsOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  configFile?: string;
}

export function readDemoSettings(opts: ReadDemoSettingsOptions = {}): DemoSettings {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const fromFile = opts.configFile ? readConfigFile(resolve(cwd, opts.configFile)) : {};
  const fromDotenv = readDotenv(resolve(cwd, ".env"));
  const value = (name: Name): string | undefined =>
    nonEmpty(env[name]) ?? nonEmpty(fromDotenv[name]) ?? nonEmpty(fromFile[name]);

  const locale = value("BOT_LOCALE")?.toLowerCase() ?? "ru";
  if (locale !== "ru" && locale !== "en") {
    throw new DemoSettingsError(`BOT_LOCALE: expected ru or en, got "${locale}"`);
  }
  const timeZone = value("BOT_TIME_ZONE") ?? "Europe/Moscow";
  if (!isTimeZone(timeZone)) {
    throw new DemoSettingsError(`BOT_TIME_ZONE: "${timeZone}" is not an IANA time zone (e.g. Europe/Moscow)`);
  }

  const botToken = value("TELEGRAM_BOT_TOKEN");
  const adminIdsText = value("TELEGRAM_ADMIN_IDS");
  if (botToken === undefined && adminIdsText === undefined) return { locale, timeZone };
  if (botToken === undefined || adminIdsText === undefined) {
    const [set, missing] =
      botToken === undefined
        ? ["TELEGRAM_ADMIN_IDS", "TELEGRAM_BOT_TOKEN"]
        : ["TELEGRAM_BOT_TOKEN", "TELEGRAM_ADMIN_IDS"];
    throw new DemoSettingsError(
      `${set} is set but ${missing} is not: set both to try the demo in your own Telegram, or neither for the offline demo`,
    );
  }
  const apiRoot = (value("TELEGRAM_API_ROOT") ?? DEFAULT_TELEGRAM_API_ROOT).replace(/\/+$/, "");
  if (!/^https?:\/\/\S+$/i.test(apiRoot)) {
    throw new DemoSettingsError(`TELEGRAM_API_ROOT: expected an http(s) URL, got "${apiRoot}"`);
  }
  const proxy = value("TELEGRAM_PROXY");
  return {
    locale,
    timeZone,
    telegram: {
      botToken,
      adminIds: parseAdminIds(adminIdsText),
      apiRoot,
      ...(proxy ? { proxy } : {}),
    },
  };
}

/** "111, 222" → [111, 222]; anything else is an error naming the bad part. */
export function parseAdminIds(text: string): number[] {
  const parts = text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const ids: number[] = [];
  for (const part of parts) {
    const id = Number(part);
    if (!/^\d{1,16}$/.test(part) || !Number.isSafeInteger(id) || id <= 0) {
      throw new DemoSettingsError(
        `TELEGRAM_ADMIN_IDS: "${part}" is not a Telegram user id (a positive whole number; ask @userinfobot)`,
      );
    }
    ids.push(id);
  }
  if (ids.length === 0) throw new DemoSettingsError("TELEGRAM_ADMIN_IDS: no user id given");
  return ids;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function readDotenv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    return parseDotenv(readFileSync(path));
  } catch (error) {
    throw new DemoSettingsError(`.env (${path}): cannot read (${errorText(error)})`);
  }
}

/** The demo's settings from a YAML file of SETTING: value lines (the same file `run --config` takes). */
function readConfigFile(path: string): Partial<Record<Name, string>> {
  let document: unknown;
  try {
    // Failsafe schema: every value stays the text written, as the service's own loader reads it.
    document = parseYaml(readFileSync(path, "utf8"), { schema: "failsafe" });
  } catch (error) {
    throw new DemoSettingsError(`config file ${path}: cannot read (${errorText(error).split("\n")[0]})`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== "object" || Array.isArray(document)) {
    throw new DemoSettingsError(`config file ${path}: expected a map of SETTING_NAME: value lines`);
  }
  const picked: Partial<Record<Name, string>> = {};
  for (const name of READ) {
    const raw = (document as Record<string, unknown>)[name];
    if (typeof raw === "string") picked[name] = raw;
    else if (Array.isArray(raw) && name === "TELEGRAM_ADMIN_IDS") picked[name] = raw.map(String).join(",");
  }
  return picked;
}

function errorText(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message : String(error));
}
