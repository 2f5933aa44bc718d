// One HTTP exchange with MP SIEM over undici: TLS trust, timeouts, and turning every failure
// below HTTP (refused connection, bad certificate, hang) into a SiemError with the right kind.

import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { Agent, request } from "undici";
import type { SiemConfig } from "../config/types.js";
import { SiemError, type SiemErrorKind } from "./types.js";

/** A body larger than this is not an MP SIEM answer we can use; it protects the process's memory. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** undici's own timers fire this much after the whole-request deadline, so the deadline decides. */
const TIMER_SLACK_MS = 1_000;

export interface TransportOptions {
  config: SiemConfig;
  connectTimeoutMs: number;
  /** Strips secrets from any text that may reach an error message. */
  redact: (text: string) => string;
}

export interface HttpAnswer {
  status: number;
  body: string;
  /** The `Date` header (the server's clock), or null. */
  date: string | null;
}

export interface HttpCall {
  /** For error messages: "list incidents", "login", ... */
  call: string;
  method: "GET" | "POST" | "PUT";
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Reads MPSIEM_CA_FILE and returns the trust list: the system roots plus the file's certificates. */
function loadTrustedCas(caFile: string): string[] {
  let pem: string;
  try {
    pem = readFileSync(caFile, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new SiemError(
      "tls",
      "configuration",
      `MPSIEM_CA_FILE=${caFile} cannot be read (${reason}); point it at a PEM file with the SIEM's CA certificate`,
      undefined,
      { cause: error },
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new SiemError(
      "tls",
      "configuration",
      `MPSIEM_CA_FILE=${caFile} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`,
    );
  }
  return [...rootCertificates, pem];
}

export function createAgent(config: SiemConfig, connectTimeoutMs: number): Agent {
  const ca = config.caFile ? loadTrustedCas(config.caFile) : undefined;
  return new Agent({
    connect: {
      timeout: connectTimeoutMs,
      rejectUnauthorized: config.tlsVerify,
      ...(ca ? { ca } : {}),
    },
    // The whole-request timeout (an AbortSignal) governs; these, a little later, only replace undici's 300 s defaults.
    headersTimeout: config.timeoutMs + TIMER_SLACK_MS,
    bodyTimeout: config.timeoutMs + TIMER_SLACK_MS,
    maxResponseSize: MAX_RESPONSE_BYTES,
  });
}

const CERTIFICATE_CODES =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;
const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);

/** Every `code` along an error's cause chain (undici wraps socket errors). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

function classifyFailure(
  error: unknown,
  httpCall: HttpCall,
  timedOut: boolean,
  options: TransportOptions,
): SiemError {
  const { call, url } = httpCall;
  const origin = safeOrigin(url);
  const codes = errorCodes(error);
  const code = codes[0] ?? (error instanceof Error ? error.name : "unknown");
  const make = (kind: SiemErrorKind, message: string) =>
    new SiemError(kind, call, options.redact(message), undefined, { cause: error });

  if (timedOut) {
    return make("timeout", `no answer from ${origin} within ${options.config.timeoutMs} ms (MPSIEM_TIMEOUT)`);
  }
  const certificateCode = codes.find((c) => CERTIFICATE_CODES.test(c));
  if (certificateCode) {
    return make(
      "tls",
      `the certificate of ${origin} is not trusted (${certificateCode}); set MPSIEM_CA_FILE to the SIEM's CA certificate (PEM), or MPSIEM_TLS_VERIFY=false to skip the check`,
    );
  }
  if (codes.some((c) => c.startsWith("ERR_SSL") || c === "EPROTO")) {
    return make(
      "tls",
      `TLS handshake with ${origin} failed (${code}); check the scheme (https/http) and port in the SIEM URL, MPSIEM_CA_FILE and MPSIEM_TLS_VERIFY`,
    );
  }
  if (codes.some((c) => TIMEOUT_CODES.has(c))) {
    if (codes.includes("UND_ERR_CONNECT_TIMEOUT")) {
      return make("timeout", `cannot connect to ${origin} within ${options.connectTimeoutMs} ms (${code})`);
    }
    return make("timeout", `no answer from ${origin} in time (${code}); MPSIEM_TIMEOUT sets the limit`);
  }
  if (codes.includes("UND_ERR_RES_EXCEEDED_MAX_SIZE")) {
    return make("malformed", `the answer from ${origin} is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  if (codes.includes("UND_ERR_DESTROYED") || codes.includes("UND_ERR_CLOSED")) {
    return make("network", "the SIEM client is closed");
  }
  const detail = error instanceof Error && error.message ? `${code}: ${error.message}` : code;
  return make("network", `cannot reach ${origin} (${detail})`);
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "the SIEM";
  }
}

/**
 * Sends one request and reads the whole body as text within `config.timeoutMs`.
 * Throws SiemError (network, timeout, tls) only when no HTTP answer arrived; any status is returned.
 */
export async function exchange(
  agent: Agent,
  httpCall: HttpCall,
  options: TransportOptions,
): Promise<HttpAnswer> {
  const deadline = AbortSignal.timeout(options.config.timeoutMs);
  try {
    const response = await request(httpCall.url, {
      dispatcher: agent,
      method: httpCall.method,
      headers: httpCall.headers,
      body: httpCall.body,
      signal: deadline,
    });
    const body = await response.body.text();
    const date = response.headers.date;
    return { status: response.statusCode, body, date: typeof date === "string" ? date : null };
  } catch (error) {
    throw classifyFailure(error, httpCall, deadline.aborted, options);
  }
}
