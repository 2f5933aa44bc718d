// findIncidentByKey against the emulator over HTTP: the list call's key filter, then the details.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { canonicalIncidentKey, createSiemClient } from "../../src/siem/client.js";
import { type SiemClient, SiemError } from "../../src/siem/types.js";

const LIST_ROUTE = "POST /api/v2/incidents";
const DETAILS_ROUTE = "GET /api/incidentsReadModel/incidents/{id}";
const open: Array<{ close(): Promise<unknown> | unknown }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function setUp(): Promise<{ emu: RunningEmulator; siem: SiemClient }> {
  const emu = await startEmulator({ seed: 3 });
  open.push(emu);
  const siem = createSiemClient({
    config: {
      url: emu.coreUrl,
      authUrl: emu.authUrl,
      username: "siem",
      password: "siem",
      clientId: "mpx",
      clientSecret: "emulator-secret",
      tlsVerify: true,
      timeoutMs: 2_000,
    },
    logger: pino({ level: "silent" }),
    retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
  });
  open.push(siem);
  return { emu, siem };
}

const requests = (emu: RunningEmulator, route: string) => emu.state.stats().requests[route] ?? 0;

describe("findIncidentByKey", () => {
  it("finds an incident years older than the rest by its key, in any case, with its details", async () => {
    const { emu, siem } = await setUp();
    const old = emu.state.addIncident({
      created: "2018-02-03T04:05:06Z",
      name: "Ancient_rule",
      status: "Resolved",
    });
    emu.state.addBurst(5);
    for (const key of [old.key, old.key.toLowerCase(), ` ${old.key} `]) {
      const found = await siem.findIncidentByKey(key);
      expect(found?.id, key).toBe(old.id);
      expect(found?.name).toBe("Ancient_rule");
      expect(found?.status).toBe("Resolved");
      expect(found?.created.toISOString()).toBe("2018-02-03T04:05:06.000Z");
    }
    expect(requests(emu, DETAILS_ROUTE)).toBe(3);
  });

  it("answers null for a key the SIEM does not have, after one list call and no details call", async () => {
    const { emu, siem } = await setUp();
    emu.state.addBurst(3);
    expect(await siem.findIncidentByKey("INC-4")).toBeNull();
    expect(requests(emu, LIST_ROUTE)).toBe(1);
    expect(requests(emu, DETAILS_ROUTE)).toBe(0);
  });

  it("refuses anything but INC-<number> without calling the SIEM", async () => {
    const { emu, siem } = await setUp();
    for (const key of ['INC-1" or key != "x', "INC-", "INC-01", "123", "INC-1234567890123", "", "ІNC-1"]) {
      const failure = await siem.findIncidentByKey(key).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure, key).toBeInstanceOf(SiemError);
      expect((failure as SiemError).kind).toBe("http");
    }
    expect(requests(emu, LIST_ROUTE)).toBe(0);
  });

  it("classifies a failing SIEM like every other read: server errors are retried, then transient", async () => {
    const { emu, siem } = await setUp();
    emu.state.addIncident();
    await siem.systemInfo();
    emu.state.failWith503();
    const failure = await siem.findIncidentByKey("INC-1").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SiemError);
    expect((failure as SiemError).kind).toBe("server");
    expect((failure as SiemError).transient).toBe(true);
    expect(requests(emu, LIST_ROUTE)).toBe(2);
    emu.state.clearFaults();
    expect((await siem.findIncidentByKey("INC-1"))?.key).toBe("INC-1");
  });

  it("canonicalIncidentKey accepts INC-<n> in any case and nothing else", () => {
    expect(canonicalIncidentKey("inc-42")).toBe("INC-42");
    for (const bad of ["INC-0", "INC-042", "INC-4 2", "INC-42x", "INC42", "INC-"]) {
      expect(canonicalIncidentKey(bad), bad).toBeNull();
    }
  });
});
