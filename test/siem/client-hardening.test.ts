// The client against an emulator that is as unkind as a real MP SIEM: one incident failing on its
// own (500, 403, truncated JSON), both details shapes, JSON null fields, a SIEM clock that differs
// from ours, and the event count as a call of its own. Real HTTP on 127.0.0.1 throughout.

import { afterEach, describe, expect, it } from "vitest";
import type { SiemConfig } from "../../src/config/types.js";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { renderIncident, SEVERITY_MARK } from "../../src/render/index.js";
import { createSiemClient, type SiemClientOptions } from "../../src/siem/client.js";
import { type SiemClient, SiemError } from "../../src/siem/types.js";

const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const openClients: SiemClient[] = [];
const openEmulators: RunningEmulator[] = [];

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
  await Promise.all(openEmulators.splice(0).map((e) => e.close()));
});

async function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const running = await startEmulator({ seed: 11, ...options });
  openEmulators.push(running);
  return running;
}

function client(
  emu: RunningEmulator,
  overrides: Partial<SiemConfig> = {},
  options: Partial<SiemClientOptions> = {},
): SiemClient {
  const created = createSiemClient({
    config: {
      url: emu.coreUrl,
      authUrl: emu.authUrl,
      username: "siem",
      password: "siem",
      clientId: "mpx",
      clientSecret: "emulator-secret",
      tlsVerify: true,
      timeoutMs: 5_000,
      ...overrides,
    },
    retry: FAST_RETRY,
    ...options,
  });
  openClients.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<SiemError> {
  const outcome = await promise.then(
    () => new Error("expected a SiemError, but the call succeeded"),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(SiemError);
  return outcome as SiemError;
}

const requests = (emu: RunningEmulator, route: string) => emu.state.stats().requests[route] ?? 0;
const DETAILS_ROUTE = "GET /api/incidentsReadModel/incidents/{id}";

describe("one incident failing on its own", () => {
  it("403 is `forbidden`: not credentials, not transient, not retried; the other incidents still read", async () => {
    const emu = await emulator();
    const broken = emu.state.addIncident({ eventsCount: 2 });
    const healthy = emu.state.addIncident({ eventsCount: 2 });
    emu.state.failIncident(broken.key, { status: 403 });
    const siem = client(emu);

    const error = await failure(siem.getIncident(broken.id));
    expect(error.kind).toBe("forbidden");
    expect(error.status).toBe(403);
    expect(error.transient).toBe(false);
    expect(error.message).toMatch(/rights/);
    expect(requests(emu, DETAILS_ROUTE)).toBe(1); // no retry
    expect((await failure(siem.getEvents(broken.id, 2))).kind).toBe("forbidden");
    expect((await failure(siem.countEvents(broken.id))).kind).toBe("forbidden");
    const transition = await failure(siem.transition(broken.id, "Approved", { measures: "m", message: "c" }));
    expect(transition.kind).toBe("forbidden");
    expect(emu.state.get(broken.id)?.status).toBe("New");

    expect((await siem.getIncident(healthy.id)).key).toBe(healthy.key);
    expect((await siem.getEvents(healthy.id, 5)).total).toBe(2);
    // One login served everything: 403 never sends the client back to the token endpoint.
    expect(requests(emu, "POST /connect/token")).toBe(1);
  });

  it("403 with an HTML page is `forbidden` as well", async () => {
    const emu = await emulator();
    const broken = emu.state.addIncident();
    emu.state.failIncident(broken.id, { calls: ["details"], status: 403, html: true });
    expect((await failure(client(emu).getIncident(broken.id))).kind).toBe("forbidden");
  });

  it("500 is `server` and transient: retried, and a fault that clears in time is ridden out", async () => {
    const emu = await emulator();
    const broken = emu.state.addIncident();
    emu.state.failIncident(broken.key, { calls: ["details"], status: 500, count: 2 });
    const siem = client(emu);
    expect((await siem.getIncident(broken.id)).id).toBe(broken.id);
    expect(requests(emu, DETAILS_ROUTE)).toBe(3);

    emu.state.failIncident(broken.key, { calls: ["details"], status: 500 });
    const error = await failure(siem.getIncident(broken.id));
    expect(error.kind).toBe("server");
    expect(error.transient).toBe(true);
    expect(error.message).toContain("An error has occurred.");
  });

  it("a truncated JSON body is `malformed` (transient), for details and for the count", async () => {
    const emu = await emulator();
    const broken = emu.state.addIncident({ eventsCount: 4 });
    emu.state.failIncident(broken.key, { calls: ["details", "eventsCount"], malformed: true });
    const siem = client(emu);
    const details = await failure(siem.getIncident(broken.id));
    expect(details.kind).toBe("malformed");
    expect(details.transient).toBe(true);
    expect((await failure(siem.countEvents(broken.id))).kind).toBe("malformed");
    // getEvents still gives the events; only the total falls back to what was read.
    const events = await siem.getEvents(broken.id, 10);
    expect(events.events).toHaveLength(4);
    expect(events.total).toBe(4);
  });
});

describe("countEvents", () => {
  it("is one call to /events/count and follows events that correlation adds later", async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident({ eventsCount: 7 });
    const siem = client(emu);
    expect(await siem.countEvents(incident.id)).toBe(7);
    expect(requests(emu, "GET /api/incidents/{id}/events/count")).toBe(1);
    expect(requests(emu, "GET /api/incidents/{id}/events")).toBe(0);
    emu.state.addEvents(incident.key, { count: 3, touchModified: false });
    expect(await siem.countEvents(incident.id)).toBe(10);
    expect((await failure(siem.countEvents("00000000-0000-4000-8000-000000000000"))).kind).toBe("not_found");
  });
});

describe("the SIEM's clock", () => {
  it("is null before any answer, then the Date header plus the local time passed since", async () => {
    // The SIEM runs three hours and a bit ahead of us.
    let siemMs = Date.parse("2031-07-04T10:20:30.000Z");
    const emu = await emulator({ now: () => new Date(siemMs) });
    let localMs = Date.parse("2031-07-04T07:00:00.000Z");
    const siem = client(emu, {}, { now: () => localMs });
    expect(siem.siemNow()).toBeNull();

    await siem.systemInfo();
    expect(siem.siemNow()).toBe(Date.parse("2031-07-04T10:20:30.000Z"));
    localMs += 1_500;
    expect(siem.siemNow()).toBe(Date.parse("2031-07-04T10:20:31.500Z"));

    // A newer answer resets the base.
    siemMs = Date.parse("2031-07-04T11:00:00.900Z");
    await siem.systemInfo();
    expect(siem.siemNow()).toBe(Date.parse("2031-07-04T11:00:00.000Z")); // the header has whole seconds
  });

  it("is also set by an error answer and by the token endpoint", async () => {
    const emu = await emulator({ now: () => new Date("2020-01-02T03:04:05Z") });
    const siem = client(emu, { password: "wrong" });
    await failure(siem.systemInfo());
    expect(emu.state.stats().requests["POST /connect/token"]).toBe(1);
    expect(siem.siemNow()).not.toBeNull();
    expect(Math.abs((siem.siemNow() as number) - Date.parse("2020-01-02T03:04:05Z"))).toBeLessThan(60_000);
  });
});

describe("version profiles and null fields", () => {
  it("reads the rule names on 26.1 and on 27.6 into correlationRules", async () => {
    for (const version of ["26.1", "27.6"]) {
      const emu = await emulator({ version });
      const incident = emu.state.addIncident({ name: "Password_brute" });
      const details = await client(emu).getIncident(incident.id);
      expect(details.correlationRules, version).toHaveLength(1);
      expect(details.correlationRules[0], version).toMatch(/^[A-Za-z_]+$/);
      expect(details).not.toHaveProperty("assigned");
    }
  });

  it('reads JSON null severity, category and type as "", and the card renders them', async () => {
    const emu = await emulator();
    const incident = emu.state.addIncident({ severity: null, category: null, type: null, eventsCount: 1 });
    const siem = client(emu);
    const [listed] = await siem.listIncidents({ from: new Date(0), timeType: "creation" });
    expect(listed).toMatchObject({ id: incident.id, severity: "", category: "", type: "" });
    const details = await siem.getIncident(incident.id);
    expect(details).toMatchObject({ severity: "", category: "", type: "" });

    for (const locale of ["ru", "en"] as const) {
      const message = renderIncident(
        { incident: details, events: [], totalEvents: 1, lastAction: null },
        { locale, timeZone: "UTC", siemUrl: emu.coreUrl, maxEvents: 3 },
      );
      // The unknown-severity mark, and a dash where the severity and the type would be.
      const lines = message.plain.split("\n");
      expect(lines[0]).toBe(
        `${SEVERITY_MARK.unknown} ${locale === "ru" ? "Инцидент" : "Incident"} ${incident.key}`,
      );
      expect(lines[2]).toMatch(new RegExp(`: ${SEVERITY_MARK.unknown} —$`));
      expect(lines[3]).toMatch(/: —$/);
      expect(message.html).toContain(SEVERITY_MARK.unknown);
    }
  });
});

describe("redaction", () => {
  it("hides a short password only where it stands alone, and a long secret everywhere", async () => {
    const emu = await emulator();
    const siem = client(emu); // password "siem": short
    const alone = await failure(siem.getIncident("siem"));
    expect(alone.kind).toBe("not_found");
    expect(alone.message).toContain("'***'");
    const inWord = await failure(siem.getIncident("mpsiem-7"));
    expect(inWord.message).toContain("mpsiem-7");

    // A long secret (here the client secret) is hidden even inside other text.
    const secret = "emulator-secret";
    const leaky = await failure(siem.getIncident(`x${secret}y`));
    expect(leaky.message).not.toContain(secret);
  });
});
