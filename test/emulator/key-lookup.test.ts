// The list call's `key = "INC-123"` filter (mpsiem-api.md §3.3), as `/inc` uses it: any incident by its
// key, however old, in either quote style and any case; an unknown key is an empty page, not an error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { accessToken, keysOf, list, manualClock } from "./helpers.js";

describe("list: the key filter", () => {
  const clock = manualClock("2024-03-12T07:00:00Z");
  let emu: RunningEmulator;
  let token: string;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 14, now: clock.now });
    emu.state.addIncident({ created: "2019-05-01T10:00:00Z", status: "Closed" }); // INC-1, years old
    for (let i = 0; i < 30; i++)
      emu.state.addIncident({
        created: new Date(Date.parse("2024-03-12T06:00:00Z") + i * 1000).toISOString(),
      });
    token = await accessToken(emu);
  });
  afterAll(() => emu.close());

  it("finds an incident years older than the rest, with an old timeFrom and with none", async () => {
    for (const timeFrom of ["2000-01-01T00:00:00.000Z", undefined]) {
      const result = await list(emu, token, { where: 'key = "INC-1"', timeFrom });
      expect(keysOf(result), String(timeFrom)).toEqual(["INC-1"]);
      expect(result.totalItems).toBe(1);
      expect(result.incidents[0]!.status).toBe("Closed");
    }
  });

  it("keeps applying the time window: a key outside it is not returned", async () => {
    const result = await list(emu, token, { where: 'key = "INC-1"', timeFrom: "2024-01-01T00:00:00.000Z" });
    expect(keysOf(result)).toEqual([]);
  });

  it("matches the key exactly, in any case and either quote, never a prefix", async () => {
    for (const where of ['key = "INC-3"', "key = 'inc-3'", 'KEY="Inc-3"']) {
      expect(keysOf(await list(emu, token, { where })), where).toEqual(["INC-3"]);
    }
    // INC-3 is not a prefix match for INC-30 or INC-31.
    expect(keysOf(await list(emu, token, { where: 'key = "INC-31"' }))).toEqual(["INC-31"]);
  });

  it("answers an unknown key with an empty page and totalItems 0", async () => {
    for (const where of ['key = "INC-999"', 'key = "INC-0"', 'key = "INC-99999999999"']) {
      const result = await list(emu, token, { where });
      expect(result, where).toEqual({ incidents: [], totalItems: 0 });
    }
  });
});
