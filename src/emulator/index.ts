// The bundled MaxPatrol SIEM 10 emulator: two listeners like the appliance (Core with /api, and
// the auth service with /connect/token), an in-memory incident store, fault injection and a
// control API. Used by the service's tests, `mpsiem-telegram emulator`, the demo and the
// benchmark. Behaviour follows /work/shared/mpsiem-api.md; see README.md beside this file.

import { randomInt } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { generate as generateCertificate } from "selfsigned";
import { createAuthHandler } from "./auth-api.js";
import { createControlHandler } from "./control-api.js";
import { createCoreHandler } from "./core-api.js";
import { EmulatorState } from "./state.js";
import { createAuthUiRoutes, createCoreUiRoutes } from "./ui-login.js";
import type { UserInput } from "./users.js";

export { PRODUCT_VERSION, UNAUTHORIZED_BODY } from "./core-api.js";
export {
  type DayOptions,
  type DayPlan,
  type PlannedIncident,
  type PlannedTransition,
  planDay,
  playDay,
} from "./day.js";
export { EmulatorError } from "./errors.js";
export { formatInstant, type Instant, parseTimeValue } from "./instant.js";
export { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "./list-request.js";
export { HOSTILE_NAME, SCENARIO_NAMES } from "./scenarios.js";
export {
  DEFAULT_PRODUCT_VERSION,
  type EmulatorEvent,
  type EmulatorIncident,
  EmulatorState,
  type EmulatorStats,
  type EmulatorTask,
  type FaultsView,
  INCIDENT_CALLS,
  type IncidentCall,
  type IncidentFaultInput,
  type IncidentFaultView,
  type IncidentInput,
  type TaskInput,
  type TransitionRecord,
  UPDATE_REQUIRED_FIELDS,
  type UpdateRecord,
  userIdFor,
} from "./state.js";
export type { EmulatorUser, UserInput } from "./users.js";

export interface EmulatorOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Core API port; 0 (the default) = any free port. */
  port?: number;
  /** Auth (/connect/token) port; 0 (the default) = any free port. */
  authPort?: number;
  /** true = a fresh self-signed certificate for 127.0.0.1/localhost/::1; or your own PEMs. */
  tls?: boolean | { cert: string; key: string };
  /** Seeds every generated value (ids, names, events). Default: random. */
  seed?: number;
  /** Background incident generation per minute; 0 = off (default). */
  ratePerMinute?: number;
  /** Every N generated incidents, add a burst of `burstSize` (for the demo). 0 = never (default). */
  burstEvery?: number;
  /** Size of each burst. Default 20. */
  burstSize?: number;
  /** The account /connect/token accepts. Defaults siem / siem / emulator-secret, client mpx. */
  username?: string;
  password?: string;
  clientSecret?: string;
  clientId?: string;
  /** MP users besides the API account (the users query, assignment). */
  users?: UserInput[];
  /** Static personal access tokens accepted as Bearer (MP 27.x, §2.2). */
  personalTokens?: string[];
  /** expires_in of issued tokens, seconds. Default 86400. */
  tokenTtlSec?: number;
  /** Refuse transitions outside a plausible workflow (Closed is final, …). Default: only same-status is refused. */
  strictTransitions?: boolean;
  /** Clock for created/modified times, token expiry, timed faults and the `Date` header. Default: real time. */
  now?: () => Date;
  /**
   * Read calls (list, details, events, history) show a change this many ms after it happened, by
   * `now`. Default 0. Also `POST /__emulator/faults/read-lag`.
   */
  readModelLagMs?: number;
  /**
   * The MP SIEM version to behave as: "26.1" (default) or "27.6", or a full "27.6.2519". It sets
   * system_info's productVersion and the details shape (26.x `correlationRuleNames`, 27.x
   * `correlationRules`).
   */
  version?: string;
}

/** Full product versions for the profiles the emulator knows (26.1.7351 from S1; 27.6's build number is invented). */
export const VERSION_PROFILES: Readonly<Record<string, string>> = {
  "26.1": "26.1.7351",
  "27.6": "27.6.2519",
};

/** "26.1" → "26.1.7351"; a full version is kept; anything else is refused with a message. */
export function productVersionFor(version: string | undefined): string {
  if (version === undefined) return VERSION_PROFILES["26.1"] as string;
  const trimmed = version.trim();
  const known = VERSION_PROFILES[trimmed];
  if (known) return known;
  if (/^\d{2}\.\d+\.\d+$/.test(trimmed)) return trimmed;
  throw new Error(
    `Emulator version '${version}' is unknown; use ${Object.keys(VERSION_PROFILES).join(" or ")}, or a full version like 27.6.2519`,
  );
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:40123 (no trailing slash) */
  coreUrl: string;
  /** e.g. http://127.0.0.1:40124 */
  authUrl: string;
  /** With TLS: the certificate (PEM) to trust. */
  caCertPem?: string;
  /** Programmatic control, the same powers as the control API. */
  state: EmulatorState;
  close(): Promise<void>;
}

export const EMULATOR_DEFAULTS = {
  host: "127.0.0.1",
  username: "siem",
  password: "siem",
  clientSecret: "emulator-secret",
  clientId: "mpx",
  tokenTtlSec: 86_400,
  burstSize: 20,
} as const;

async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const pems = await generateCertificate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function checkPort(value: number | undefined, name: string): number {
  const port = value ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`Emulator ${name} must be an integer 0..65535 (0 = any free port), got ${value}`);
  }
  return port;
}

function listen(server: http.Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const hint =
        error.code === "EADDRINUSE"
          ? `port ${port} on ${host} is already in use; choose another port or 0 for any free one`
          : error.message;
      reject(new Error(`MP SIEM emulator ${what} could not listen: ${hint}`, { cause: error }));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    // Hanging requests (the hang fault) and idle keep-alive sockets must not hold close() open.
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? EMULATOR_DEFAULTS.host;
  const port = checkPort(opts.port, "port");
  const authPort = checkPort(opts.authPort, "authPort");
  const tokenTtlSec = opts.tokenTtlSec ?? EMULATOR_DEFAULTS.tokenTtlSec;
  if (!Number.isFinite(tokenTtlSec) || tokenTtlSec <= 0) {
    throw new Error(`Emulator tokenTtlSec must be a positive number of seconds, got ${tokenTtlSec}`);
  }
  const seed = opts.seed ?? randomInt(0, 2 ** 31);

  const readModelLagMs = opts.readModelLagMs ?? 0;
  if (!Number.isInteger(readModelLagMs) || readModelLagMs < 0) {
    throw new Error(`Emulator readModelLagMs must be a non-negative integer, got ${readModelLagMs}`);
  }
  const state = new EmulatorState({
    seed,
    now: opts.now ?? (() => new Date()),
    tokenTtlSec,
    personalTokens: opts.personalTokens ?? [],
    strictTransitions: opts.strictTransitions ?? false,
    readModelLagMs,
    productVersion: productVersionFor(opts.version),
  });

  const tlsMaterial = opts.tls === true ? await selfSignedCertificate() : opts.tls ? opts.tls : undefined;
  const scheme = tlsMaterial ? "https" : "http";
  const timers = new Set<NodeJS.Timeout>();
  const account = {
    username: opts.username ?? EMULATOR_DEFAULTS.username,
    password: opts.password ?? EMULATOR_DEFAULTS.password,
    clientId: opts.clientId ?? EMULATOR_DEFAULTS.clientId,
    clientSecret: opts.clientSecret ?? EMULATOR_DEFAULTS.clientSecret,
  };
  // The API account is an MP user too: its UUID is the changedBy of the transitions it makes.
  state.addUser({ userName: account.username, firstName: "API", lastName: "Account" });
  for (const user of opts.users ?? []) state.addUser(user);
  let authOrigin = "";
  const coreHandler = createCoreHandler({
    state,
    timers,
    control: createControlHandler(state, tlsMaterial?.cert),
    ui: createCoreUiRoutes({ state, scheme, authOrigin: () => authOrigin }),
  });
  const authHandler = createAuthHandler({
    state,
    timers,
    account,
    ui: createAuthUiRoutes({ state, scheme, account }),
  });
  const makeServer = (handler: http.RequestListener): http.Server =>
    tlsMaterial
      ? https.createServer({ cert: tlsMaterial.cert, key: tlsMaterial.key }, handler)
      : http.createServer(handler);
  const coreServer = makeServer(coreHandler);
  const authServer = makeServer(authHandler);

  let corePort: number;
  let boundAuthPort: number;
  try {
    corePort = await listen(coreServer, port, host, "core API");
    boundAuthPort = await listen(authServer, authPort, host, "auth");
  } catch (error) {
    await Promise.all([closeServer(coreServer), closeServer(authServer)]);
    throw error;
  }

  const ratePerMinute = opts.ratePerMinute ?? 0;
  state.setGeneratorRate(ratePerMinute, opts.burstEvery ?? 0, opts.burstSize ?? EMULATOR_DEFAULTS.burstSize);

  authOrigin = `${scheme}://${urlHost(host)}:${boundAuthPort}`;
  let closing: Promise<void> | null = null;
  return {
    coreUrl: `${scheme}://${urlHost(host)}:${corePort}`,
    authUrl: authOrigin,
    ...(tlsMaterial ? { caCertPem: tlsMaterial.cert } : {}),
    state,
    close() {
      closing ??= (async () => {
        state.dispose();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        await Promise.all([closeServer(coreServer), closeServer(authServer)]);
      })();
      return closing;
    },
  };
}

/**
 * `mpsiem-telegram emulator`: starts the emulator and prints one line per listener and the
 * account (the emulator's own throw-away account, printed on purpose so a person can log in).
 */
export async function runEmulatorCommand(
  opts: EmulatorOptions & { print?: (line: string) => void },
): Promise<RunningEmulator> {
  const { print = (line: string) => process.stdout.write(`${line}\n`), ...emulatorOptions } = opts;
  const running = await startEmulator(emulatorOptions);
  print(`MP SIEM emulator core API: ${running.coreUrl}`);
  print(`MP SIEM emulator auth: ${running.authUrl}`);
  print(
    `account: ${opts.username ?? EMULATOR_DEFAULTS.username} / ${opts.password ?? EMULATOR_DEFAULTS.password}, ` +
      `client secret ${opts.clientSecret ?? EMULATOR_DEFAULTS.clientSecret}`,
  );
  if (running.caCertPem) {
    const kind = opts.tls === true ? "a self-signed certificate made at start" : "the certificate given";
    print(`TLS: ${kind}; trust ${running.coreUrl}/__emulator/ca.pem (save it as MPSIEM_CA_FILE)`);
  }
  return running;
}
