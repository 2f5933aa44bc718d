// The MP SIEM client against the bundled emulator over real HTTP(S) on 127.0.0.1.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SiemConfig } from "../../src/config/types.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { createSiemClient, type SiemClientOptions } from "../../src/siem/client.js";
import { type SiemClient, SiemError } from "../../src/siem/types.js";

const USERNAME = "soc-robot";
const PASSWORD = "Pa55-w0rd-8d41c";
const CLIENT_SECRET = "cs-5f0e2b7a-91d3";
const PAT = "pat_7c1e0f93b2a4";
const FAST_RETRY = { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 };

/** Everything the clients in a test logged, as JSON lines. */
const logLines: string[] = [];
/** Every error message a client produced in this file (checked for secrets at the end). */
const errorMessages: string[] = [];
const openClients: SiemClient[] = [];
const openEmulators: RunningEmulator[] = [];

const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });

async function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const running = await startEmulator({
    seed: 7,
    username: USERNAME,
    password: PASSWORD,
    clientSecret: CLIENT_SECRET,
    ...options,
  });
  openEmulators.push(running);
  return running;
}

function configFor(emu: RunningEmulator, overrides: Partial<SiemConfig> = {}): SiemConfig {
  return {
    url: emu.coreUrl,
    authUrl: emu.authUrl,
    username: USERNAME,
    password: PASSWORD,
    clientId: "mpx",
    clientSecret: CLIENT_SECRET,
    tlsVerify: true,
    timeoutMs: 5_000,
    ...overrides,
  };
}

function client(
  emu: RunningEmulator,
  overrides: Partial<SiemConfig> = {},
  options: Partial<SiemClientOptions> = {},
) {
  const created = createSiemClient({
    config: configFor(emu, overrides),
    logger,
    retry: FAST_RETRY,
    ...options,
  });
  openClients.push(created);
  return created;
}

/** The SiemError a promise rejects with (failing the test if it resolves or throws something else). */
async function siemFailure(promise: Promise<unknown>): Promise<SiemError> {
  const outcome = await promise.then(
    () => new Error("expected a SiemError, but the call succeeded"),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(SiemError);
  const error = outcome as SiemError;
  errorMessages.push(error.message);
  return error;
}

const tokenRequests = (emu: RunningEmulator) => emu.state.stats().requests["POST /connect/token"] ?? 0;
const responses = (emu: RunningEmulator, status: number) => emu.state.stats().responses[String(status)] ?? 0;
const requestsTo = (emu: RunningEmulator, route: string) => emu.state.stats().requests[route] ?? 0;
const LIST_ROUTE = "POST /api/v2/incidents";
const TRANSITION_ROUTE = "PUT /api/incidents/{id}/transitions";
const EPOCH = new Date(0);

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
  await Promise.all(openEmulators.splice(0).map((e) => e.close()));
});

describe("login and tokens", () => {
  it("logs in with the password grant and reads system info", async () => {
    const emu = await emulator();
    const siem = client(emu);
    expect(await siem.systemInfo()).toEqual({ productVersion: "26.1.7351" });
    expect(tokenRequests(emu)).toBe(1);
    expect(responses(emu, 401)).toBe(0);
  });

  it("shares one login among concurrent callers", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident();
    const siem = client(emu);
    await Promise.all([
      siem.systemInfo(),
      siem.getIncident(incident.id),
      siem.getEvents(incident.id, 2),
      siem.listIncidents({ from: EPOCH, timeType: "creation" }),
      siem.systemInfo(),
    ]);
    expect(tokenRequests(emu)).toBe(1);
  });

  it("logs in again when the token expires mid-run", async () => {
    const emu = await emulator();
    emu.state.addBurst(3);
    const siem = client(emu);
    expect(await siem.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(3);
    emu.state.expireAllTokens();
    emu.state.addIncident();
    expect(await siem.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(4);
    expect(responses(emu, 401)).toBe(1);
    expect(tokenRequests(emu)).toBe(2);
  });

  it("recovers from a 401 on every kind of call: list, details, events, transition", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident({ eventsCount: 4 });
    const siem = client(emu);
    await siem.systemInfo();

    const calls: Array<[string, () => Promise<unknown>]> = [
      ["list", () => siem.listIncidents({ from: EPOCH, timeType: "creation" })],
      ["details", () => siem.getIncident(incident.id)],
      ["events", () => siem.getEvents(incident.id, 2)],
      [
        "transition",
        () => siem.transition(incident.id, "Approved", { measures: "m", message: "approved by test" }),
      ],
    ];
    for (const [name, call] of calls) {
      const before401 = responses(emu, 401);
      // Revoking refresh tokens too makes the client fall back to a password login.
      if (name === "transition") emu.state.revokeAllTokens();
      else emu.state.expireAllTokens();
      await call();
      expect(responses(emu, 401), name).toBeGreaterThan(before401);
    }
    expect(emu.state.get(incident.id)?.status).toBe("Approved");
    // One initial login plus one renewal per expired token.
    expect(tokenRequests(emu)).toBeGreaterThanOrEqual(5);
  });

  it("renews with the refresh grant before the token runs out", async () => {
    let clock = Date.parse("2024-03-12T06:00:00Z");
    const emu = await emulator({ tokenTtlSec: 100, now: () => new Date(clock) });
    const siem = client(emu, {}, { now: () => clock });
    await siem.systemInfo();
    expect(tokenRequests(emu)).toBe(1);

    clock += 50_000; // half the lifetime: the token is kept
    await siem.systemInfo();
    expect(tokenRequests(emu)).toBe(1);

    clock += 35_000; // 85 % of the lifetime: renewed before any 401
    const logsBefore = logLines.length;
    await siem.systemInfo();
    expect(tokenRequests(emu)).toBe(2);
    expect(responses(emu, 401)).toBe(0);
    const renewals = logLines.slice(logsBefore).map((line) => JSON.parse(line) as { how?: string });
    expect(renewals.some((entry) => entry.how === "refresh")).toBe(true);
    expect(renewals.some((entry) => entry.how === "password")).toBe(false);

    // The emulator's refresh tokens are one-time: a second renewal needs the new one.
    clock += 85_000;
    await siem.systemInfo();
    expect(tokenRequests(emu)).toBe(3);
    expect(responses(emu, 400)).toBe(0);
  });

  it("falls back to a password login when the refresh grant is refused", async () => {
    let clock = Date.parse("2024-03-12T06:00:00Z");
    const emu = await emulator({ tokenTtlSec: 100, now: () => new Date(clock) });
    const siem = client(emu, {}, { now: () => clock });
    await siem.systemInfo();
    emu.state.revokeAllTokens();
    clock += 90_000;
    await siem.systemInfo();
    // login, refused refresh, password login
    expect(tokenRequests(emu)).toBe(3);
    expect(responses(emu, 400)).toBe(1);
  });

  it("uses a personal access token as the Bearer without logging in", async () => {
    const emu = await emulator({ personalTokens: [PAT] });
    emu.state.addBurst(2);
    const siem = client(emu, {
      token: PAT,
      username: undefined,
      password: undefined,
      clientSecret: undefined,
    });
    expect(await siem.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(2);
    expect(tokenRequests(emu)).toBe(0);

    emu.state.setPersonalTokens([]);
    const refused = await siemFailure(siem.systemInfo());
    expect(refused.kind).toBe("credentials");
    expect(refused.message).toContain("MPSIEM_TOKEN");
    expect(tokenRequests(emu)).toBe(0);
  });

  it("reports a wrong password as a credentials error naming the settings", async () => {
    const emu = await emulator();
    const siem = client(emu, { password: "Wrong-Pa55-31337" });
    const failure = await siemFailure(siem.systemInfo());
    expect(failure.kind).toBe("credentials");
    expect(failure.call).toBe("login");
    expect(failure.transient).toBe(false);
    expect(failure.message).toContain("MPSIEM_USERNAME and MPSIEM_PASSWORD");
    expect(failure.message).not.toContain("Wrong-Pa55-31337");
    // No retry loop on a wrong password: one attempt per call.
    expect(tokenRequests(emu)).toBe(1);
  });

  it("reports a wrong client secret as a credentials error naming MPSIEM_CLIENT_SECRET", async () => {
    const emu = await emulator();
    const siem = client(emu, { clientSecret: "not-the-secret-42" });
    const failure = await siemFailure(siem.listIncidents({ from: EPOCH, timeType: "creation" }));
    expect(failure.kind).toBe("credentials");
    expect(failure.message).toContain("MPSIEM_CLIENT_SECRET");
  });
});

describe("incidents", () => {
  it("pages through 2,500 incidents: every id once, oldest first", async () => {
    const emu = await emulator();
    emu.state.addIncident({ created: "2020-01-01T00:00:00Z" }); // outside the window
    const from = new Date(emu.state.now().getTime() - 60_000);
    const added = emu.state.addBurst(2_500);
    const siem = client(emu, {}, { pageSize: 1000 });

    const incidents = await siem.listIncidents({ from, timeType: "creation" });
    const ids = incidents.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(added.map((i) => i.id)));
    expect(requestsTo(emu, LIST_ROUTE)).toBe(3);
    for (let i = 1; i < incidents.length; i++) {
      expect(incidents[i]!.created.getTime()).toBeGreaterThanOrEqual(incidents[i - 1]!.created.getTime());
    }
    // A page size from the query wins over the client's default.
    const smallPages = await siem.listIncidents({ from, timeType: "creation", pageSize: 600 });
    expect(smallPages.map((i) => i.id)).toEqual(ids);
    expect(requestsTo(emu, LIST_ROUTE)).toBe(3 + 5);
  });

  it("maps list items to IncidentSummary in UTC", async () => {
    const emu = await emulator();
    const added = emu.state.addIncident({
      created: "2024-03-12T06:12:00.4571234Z",
      severity: "High",
      name: "Web_Bulk_Failed_URL_Access",
    });
    const siem = client(emu);
    const [incident] = await siem.listIncidents({
      from: new Date("2024-03-12T00:00:00Z"),
      timeType: "creation",
    });
    expect(incident).toEqual({
      id: added.id,
      key: added.key,
      name: "Web_Bulk_Failed_URL_Access",
      category: added.category,
      type: added.type,
      status: "New",
      severity: "High",
      created: new Date("2024-03-12T06:12:00.457Z"),
      isConfirmed: false,
    });
  });

  it("sends a timeFrom/timeTo the SIEM accepts, inclusive at the millisecond", async () => {
    const emu = await emulator();
    const times = [
      "2024-03-12T06:12:00.0000000Z",
      "2024-03-12T06:12:00.0010000Z",
      "2024-03-12T06:12:00.9990000Z",
      "2024-12-31T23:59:59.5000000Z",
      "2030-01-01T00:00:00.1230000Z",
    ];
    const added = times.map((created) => emu.state.addIncident({ created }));
    const siem = client(emu);
    for (const [index, text] of times.entries()) {
      const at = new Date(text);
      const from = await siem.listIncidents({ from: at, timeType: "creation" });
      expect(from.map((i) => i.id)).toEqual(added.slice(index).map((i) => i.id));
      const later = await siem.listIncidents({ from: new Date(at.getTime() + 1), timeType: "creation" });
      expect(later.map((i) => i.id)).toEqual(added.slice(index + 1).map((i) => i.id));
      const upTo = await siem.listIncidents({ from: EPOCH, to: at, timeType: "creation" });
      expect(upTo.map((i) => i.id)).toEqual(added.slice(0, index + 1).map((i) => i.id));
    }
    expect(responses(emu, 400)).toBe(0);
  });

  it("filters by last modification", async () => {
    let clock = Date.parse("2024-03-12T06:00:00Z");
    const emu = await emulator({ now: () => new Date(clock) });
    const [first, second] = emu.state.addBurst(2);
    clock += 60_000;
    emu.state.setStatus(second!.id, "InProgress");
    const siem = client(emu);
    const changed = await siem.listIncidents({ from: new Date(clock - 1_000), timeType: "lastModification" });
    expect(changed.map((i) => i.id)).toEqual([second!.id]);
    expect(changed[0]?.status).toBe("InProgress");
    expect(first).toBeDefined();
  });

  it("reads details and events with the total count", async () => {
    const emu = await emulator();
    const added = emu.state.addIncident({
      description: "Множество неудачных попыток",
      events: [
        { description: "первое", date: "2024-03-12T06:12:07.1234567Z" },
        { description: "второе" },
        { description: "третье" },
      ],
    });
    const siem = client(emu);
    const details = await siem.getIncident(added.id);
    expect(details).toMatchObject({
      id: added.id,
      key: added.key,
      description: "Множество неудачных попыток",
      status: "New",
      correlationRules: [added.name],
    });
    expect(details.detected).toBeInstanceOf(Date);
    expect(details.modified).toBeInstanceOf(Date);

    const firstTwo = await siem.getEvents(added.id, 2);
    expect(firstTwo.total).toBe(3);
    expect(firstTwo.events.map((e) => e.description)).toEqual(["первое", "второе"]);
    expect(firstTwo.events[0]?.date).toEqual(new Date("2024-03-12T06:12:07.123Z"));

    const none = await siem.getEvents(added.id, 0);
    expect(none).toEqual({ events: [], total: 3 });
  });

  it("answers not_found for an unknown incident id", async () => {
    const emu = await emulator();
    const siem = client(emu);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await siemFailure(siem.getIncident(unknown))).kind).toBe("not_found");
    expect((await siemFailure(siem.getEvents(unknown, 5))).kind).toBe("not_found");
  });
});

describe("transitions", () => {
  it("changes the status (204) and records the comment", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident();
    const siem = client(emu);
    await siem.transition(incident.id, "Approved", {
      measures: "Инцидент подтвержден через Telegram-бот.",
      message: "Инцидент подтвержден пользователем @ivan (123456789) через Telegram-бот.",
    });
    expect(emu.state.get(incident.id)?.status).toBe("Approved");
    const [history] = emu.state.transitionsOf(incident.id);
    expect(history).toMatchObject({
      prevStatus: "New",
      nextStatus: "Approved",
      comment: "Инцидент подтвержден пользователем @ivan (123456789) через Telegram-бот.",
      measures: "Инцидент подтвержден через Telegram-бот.",
      via: "api",
    });
  });

  it("reports a transition to the current status as refused, with the SIEM's reason", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident();
    emu.state.setStatus(incident.id, "Closed");
    const siem = client(emu);
    const failure = await siemFailure(
      siem.transition(incident.id, "Closed", { measures: "", message: "again" }),
    );
    expect(failure.kind).toBe("refused");
    expect(failure.status).toBe(400);
    expect(failure.message).toContain("already in status Closed");
    expect(requestsTo(emu, TRANSITION_ROUTE)).toBe(1);
  });

  it("reports an unknown incident as not_found", async () => {
    const emu = await emulator();
    const siem = client(emu);
    const failure = await siemFailure(
      siem.transition("11111111-2222-4333-8444-555555555555", "Approved", { measures: "", message: "" }),
    );
    expect(failure.kind).toBe("not_found");
  });

  it("does not retry a transition that timed out; it re-reads the incident and reports the timeout", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident();
    const siem = client(emu, { timeoutMs: 600 });
    await siem.systemInfo();
    emu.state.hang(1);
    const failure = await siemFailure(
      siem.transition(incident.id, "Approved", { measures: "", message: "" }),
    );
    expect(failure.kind).toBe("timeout");
    expect(requestsTo(emu, TRANSITION_ROUTE)).toBe(1);
    expect(requestsTo(emu, "GET /api/incidentsReadModel/incidents/{id}")).toBe(1);
    expect(emu.state.get(incident.id)?.status).toBe("New");
  });

  it("resolves a transition whose answer was lost when the incident did reach the target", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident();
    const siem = client(emu, { timeoutMs: 1_000 });
    await siem.systemInfo();
    emu.state.hang(1);
    const pending = siem.transition(incident.id, "Closed", { measures: "", message: "" });
    await waitFor(() => requestsTo(emu, TRANSITION_ROUTE) === 1, "the transition request");
    emu.state.setStatus(incident.id, "Closed"); // the SIEM applied it, the answer never came
    await expect(pending).resolves.toBeUndefined();
    expect(requestsTo(emu, TRANSITION_ROUTE)).toBe(1);
  });

  it("re-reads after a 503 and keeps the server error when the status did not change", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident();
    const siem = client(emu);
    await siem.systemInfo();
    emu.state.failWith503();
    const failure = await siemFailure(
      siem.transition(incident.id, "Approved", { measures: "", message: "" }),
    );
    expect(failure.kind).toBe("server");
    expect(failure.status).toBe(503);
    expect(requestsTo(emu, TRANSITION_ROUTE)).toBe(1);
  });
});

describe("faults", () => {
  it("a 503 burst gives a typed, transient error after the retries, then recovers", async () => {
    const emu = await emulator();
    emu.state.addBurst(2);
    const siem = client(emu);
    await siem.systemInfo();
    emu.state.failWith503();
    const failure = await siemFailure(siem.listIncidents({ from: EPOCH, timeType: "creation" }));
    expect(failure.kind).toBe("server");
    expect(failure.transient).toBe(true);
    expect(requestsTo(emu, LIST_ROUTE)).toBe(FAST_RETRY.attempts);
    emu.state.clearFaults();
    expect(await siem.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(2);
  });

  it("malformed JSON gives a malformed error, and a retry gets past a single bad answer", async () => {
    const emu = await emulator();
    emu.state.addBurst(2);
    const once = client(emu, {}, { retry: { attempts: 1 } });
    emu.state.malformedJson(1);
    const failure = await siemFailure(once.listIncidents({ from: EPOCH, timeType: "creation" }));
    expect(failure.kind).toBe("malformed");
    expect(failure.call).toBe("list incidents");
    expect(await once.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(2);

    const retrying = client(emu);
    emu.state.malformedJson(1);
    expect(await retrying.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(2);
  });

  it("a hung connection times out, and the next call works", async () => {
    const emu = await emulator();
    emu.state.addIncident();
    const siem = client(emu, { timeoutMs: 600 }, { retry: { attempts: 1 } });
    await siem.systemInfo();
    emu.state.hang(1);
    const failure = await siemFailure(siem.listIncidents({ from: EPOCH, timeType: "creation" }));
    expect(failure.kind).toBe("timeout");
    expect(failure.message).toContain("MPSIEM_TIMEOUT");
    expect(await siem.listIncidents({ from: EPOCH, timeType: "creation" })).toHaveLength(1);
  });

  it("a hung login times out too", async () => {
    const emu = await emulator();
    const siem = client(emu, { timeoutMs: 600 }, { retry: { attempts: 1 } });
    emu.state.hang(1);
    expect((await siemFailure(siem.systemInfo())).kind).toBe("timeout");
    expect((await siem.systemInfo()).productVersion).toBe("26.1.7351");
  });

  it("a closed port is a network error", async () => {
    const emu = await emulator();
    const config = configFor(emu);
    await emu.close();
    const siem = createSiemClient({ config, retry: { attempts: 1 } });
    openClients.push(siem);
    expect((await siemFailure(siem.systemInfo())).kind).toBe("network");
  });

  it("calls after close() fail with a SiemError", async () => {
    const emu = await emulator();
    const siem = client(emu);
    await siem.systemInfo();
    await siem.close();
    expect((await siemFailure(siem.systemInfo())).kind).toBe("network");
  });
});

describe("TLS", () => {
  let emu: RunningEmulator;
  let folder: string;
  let caFile: string;

  beforeAll(async () => {
    emu = await startEmulator({
      seed: 3,
      tls: true,
      username: USERNAME,
      password: PASSWORD,
      clientSecret: CLIENT_SECRET,
    });
    folder = mkdtempSync(join(tmpdir(), "siem-ca-"));
    caFile = join(folder, "siem-ca.pem");
    writeFileSync(caFile, emu.caCertPem ?? "");
  });

  afterAll(async () => {
    await emu.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("trusts a private CA from MPSIEM_CA_FILE", async () => {
    expect(emu.coreUrl.startsWith("https://")).toBe(true);
    const siem = client(emu, { caFile });
    expect((await siem.systemInfo()).productVersion).toBe("26.1.7351");
  });

  it("refuses the certificate without it, naming both settings", async () => {
    const siem = client(emu);
    const failure = await siemFailure(siem.systemInfo());
    expect(failure.kind).toBe("tls");
    expect(failure.transient).toBe(false);
    expect(failure.message).toContain("MPSIEM_CA_FILE");
    expect(failure.message).toContain("MPSIEM_TLS_VERIFY=false");
  });

  it("works with verification off", async () => {
    const siem = client(emu, { tlsVerify: false });
    expect((await siem.systemInfo()).productVersion).toBe("26.1.7351");
  });

  it("names MPSIEM_CA_FILE when the file is missing or not PEM", () => {
    const missing = join(folder, "absent.pem");
    const notPem = join(folder, "not.pem");
    writeFileSync(notPem, "hello");
    for (const file of [missing, notPem]) {
      let thrown: unknown;
      try {
        createSiemClient({ config: configFor(emu, { caFile: file }) });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SiemError);
      expect((thrown as SiemError).kind).toBe("tls");
      expect((thrown as SiemError).message).toContain("MPSIEM_CA_FILE");
      errorMessages.push((thrown as SiemError).message);
    }
  });
});

describe("secrets", () => {
  it("never puts a password, client secret or token in an error message or a log line", async () => {
    const emu = await emulator({ personalTokens: [PAT] });
    const incident = emu.state.addIncident();
    const wrongPassword = client(emu, { password: `${PASSWORD}-wrong` });
    const wrongSecret = client(emu, { clientSecret: `${CLIENT_SECRET}-wrong` });
    const refusedToken = client(emu, { token: `${PAT}-revoked` });
    const good = client(emu, { timeoutMs: 600 }, { retry: { attempts: 1 } });
    await siemFailure(wrongPassword.systemInfo());
    await siemFailure(wrongSecret.systemInfo());
    await siemFailure(refusedToken.systemInfo());
    await good.systemInfo();
    emu.state.hang(1);
    await siemFailure(good.getIncident(incident.id));
    emu.state.malformedJson(1);
    await siemFailure(good.listIncidents({ from: EPOCH, timeType: "creation" }));
    emu.state.failWith503(undefined, { includeAuth: true });
    emu.state.revokeAllTokens();
    await siemFailure(good.getEvents(incident.id, 3));

    const secrets = [PASSWORD, `${PASSWORD}-wrong`, CLIENT_SECRET, `${CLIENT_SECRET}-wrong`, PAT];
    expect(errorMessages.length).toBeGreaterThan(6);
    expect(logLines.length).toBeGreaterThan(0);
    for (const text of [...errorMessages, ...logLines]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
