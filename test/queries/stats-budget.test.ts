// /stats's SIEM request budget when the span holds more than it may read: the list stops at its page
// budget (the counts say how many were counted of how many), the histories at theirs (a sample, said so).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { statsText } from "../../src/queries/format.js";
import { evenSample, percentile, readStats } from "../../src/queries/stats.js";
import { createSiemClient } from "../../src/siem/client.js";
import type { SiemClient } from "../../src/siem/types.js";

describe("/stats over a span larger than its budget", () => {
  let emu: RunningEmulator;
  let siem: SiemClient;
  const now = Date.now();

  beforeAll(async () => {
    emu = await startEmulator({ seed: 3 });
    for (let i = 0; i < 1_200; i++) emu.state.addIncident({ created: new Date(now - 3_600_000 + i * 1000) });
    siem = createSiemClient({
      config: {
        url: emu.coreUrl,
        authUrl: emu.authUrl,
        username: "siem",
        password: "siem",
        clientId: "mpx",
        clientSecret: "emulator-secret",
        tlsVerify: true,
        timeoutMs: 5000,
      },
      retry: { attempts: 1 },
    });
  });
  afterAll(async () => {
    await siem.close();
    await emu.close();
  });

  it("reads one list page and five histories, and says it counted 1000 of 1200 and sampled 5", async () => {
    emu.state.resetStats();
    const stats = await readStats(siem, {
      span: "24h",
      now: now + 60_000,
      actedOnByBot: async () => new Set(),
      budget: { listPages: 1, histories: 5 },
    });
    // The login the first call needs is the client's, not the question's.
    const { "POST /connect/token": _login, ...calls } = emu.state.stats().requests;
    expect(calls).toEqual({
      "POST /api/v2/incidents": 1,
      "GET /api/incidentsReadModel/incidents/{id}/transitions": 5,
    });
    expect(stats).toMatchObject({ total: 1200, counted: 1000, measured: 5, sampled: true, siemCalls: 6 });
    const text = statsText(stats, "en");
    expect(text).toContain("Incidents created: 1200 (the newest 1000 counted) — SIEM, list");
    expect(text).toContain("a sample of 5 of 1200 incidents");
  });

  it("percentile is nearest-rank; evenSample spreads its picks over the whole list", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([...Array(10).keys()], 0.9)).toBe(8);
    expect(evenSample([...Array(10).keys()], 4)).toEqual([0, 2, 5, 7]);
    expect(evenSample([1, 2], 4)).toEqual([1, 2]);
  });
});
