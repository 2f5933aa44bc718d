// pino logger whose every finished line passes through redactSecrets(), so a secret cannot leak even
// when it hides inside an error message, a stack trace or a URL (the bot token sits in every Bot API
// URL). Lines are JSON by default, human-readable (pino-pretty, formatted in-process) when `pretty`.

import pino from "pino";
import { prettyFactory } from "pino-pretty";
import type { LogLevel } from "../config/types.js";

const CENSOR = "***";

/** The most recent log lines, already redacted (JSON text, one object per line). */
export interface LogRing {
  lines(): string[];
}

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Values to hide wherever they appear (see configSecrets() in src/config/load.ts). */
  secrets: string[];
  /** Human-readable lines instead of JSON (the CLI sets it when stdout is a terminal). */
  pretty?: boolean;
  /** Where lines go; stdout (synchronous writes, so nothing is lost at exit) when omitted. */
  destination?: NodeJS.WritableStream | { write(s: string): void };
  /** How many lines the ring keeps; 200 when omitted. */
  ringSize?: number;
}

// Keys whose values are secrets whatever they contain; the value-based pass below is the real guard.
const SECRET_KEYS = [
  "password",
  "clientSecret",
  "client_secret",
  "token",
  "botToken",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "authorization",
  "Authorization",
];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

// Bot API URLs carry the token in the path: /bot<id>:<secret>/method. Hidden even if nobody listed it.
const BOT_URL_TOKEN = /\/bot\d+(?::|%3A)[^/\s"'?#\\]+/gi;
// A Telegram bot token on its own (numeric id, colon, 35 characters).
const BARE_BOT_TOKEN = /\b\d{5,}:[A-Za-z0-9_-]{30,}/g;

/**
 * Replaces every occurrence of each secret with "***": as written, URL-encoded (path and form
 * style) and JSON-escaped, so it is caught inside URLs, request bodies and JSON log lines alike.
 */
export function redactSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const variant of secretVariants(secrets)) {
    if (!out.includes(variant)) continue;
    if (variant.length >= WHOLE_WORD_BELOW) out = out.split(variant).join(CENSOR);
    // A short secret ("siem") is also a piece of ordinary words ("mpsiem-telegram"): hide it only
    // where it stands on its own, or every log line would be garbled.
    else
      out = out.replace(
        new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(variant)}(?![\\p{L}\\p{N}])`, "gu"),
        CENSOR,
      );
  }
  return out.replace(BOT_URL_TOKEN, `/bot${CENSOR}`).replace(BARE_BOT_TOKEN, CENSOR);
}

/** Secrets shorter than this are matched as whole words only. */
const WHOLE_WORD_BELOW = 6;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const variantCache = new WeakMap<string[], string[]>();

function secretVariants(secrets: string[]): string[] {
  const cached = variantCache.get(secrets);
  if (cached) return cached;
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    for (const form of [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
    ]) {
      variants.add(form);
      variants.add(JSON.stringify(form).slice(1, -1));
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  const sorted = [...variants].sort((a, b) => b.length - a.length);
  variantCache.set(secrets, sorted);
  return sorted;
}

class Ring implements LogRing {
  private readonly buffer: string[] = [];
  constructor(private readonly capacity: number) {}
  push(line: string): void {
    this.buffer.push(line);
    if (this.buffer.length > this.capacity) this.buffer.splice(0, this.buffer.length - this.capacity);
  }
  lines(): string[] {
    return [...this.buffer];
  }
}

export function createLogger(opts: CreateLoggerOptions): { logger: pino.Logger; ring: LogRing } {
  const secrets = [...opts.secrets];
  const ring = new Ring(Math.max(1, opts.ringSize ?? 200));
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const prettify = opts.pretty
    ? prettyFactory({ translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l", ignore: "pid,hostname" })
    : undefined;

  const sink = {
    write(chunk: string): void {
      const line = redactSecrets(chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk, secrets);
      ring.push(line);
      destination.write(prettify ? redactSecrets(prettify(line), secrets) : `${line}\n`);
    },
  };

  const logger = pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    sink,
  );
  return { logger, ring };
}

const LEVEL_NAMES: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/**
 * The latest warnings and errors from the ring as short readable lines ("2025-01-02T03:04:05.000Z error
 * SIEM poll failed: connect ECONNREFUSED"), newest last — what /debug shows.
 */
export function recentProblems(ring: LogRing, limit = 10): string[] {
  const problems: string[] = [];
  for (const line of ring.lines()) {
    let entry: { level?: number; time?: string; msg?: string; err?: { message?: string } };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry.level !== "number" || entry.level < 40) continue;
    const detail = entry.err?.message && entry.err.message !== entry.msg ? `: ${entry.err.message}` : "";
    problems.push(
      `${entry.time ?? "?"} ${LEVEL_NAMES[entry.level] ?? entry.level} ${entry.msg ?? ""}${detail}`,
    );
  }
  return problems.slice(-limit);
}
