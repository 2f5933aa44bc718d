// IncidentReader.lookUp (what /inc calls), against the emulator over HTTP and a real store: an incident the
// poller went past long ago is stored as seen and queued nowhere; a recent one is left to the poller,
// which then stores and queues it as usual; a known one is re-read; an unknown key is undefined.
import { afterEach, describe, expect, it } from "vitest";
import { IncidentReader } from "../../src/intake/index.js";
import { type Harness, MINUTE, queuedPairs, startHarness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("IncidentReader.lookUp", () => {
  it("stores an old incident as seen without queuing it, leaves a recent one to the poller, re-reads a known one", async () => {
    h = await startHarness();
    const old = h.emu.state.addIncident({
      created: new Date(Date.now() - 400 * 24 * 60 * MINUTE),
      name: "Old_one",
    });
    await h.intake.pollOnce(); // the watermark
    const reader = new IncidentReader({
      siem: h.siem,
      store: h.store,
      maxEvents: 5,
      overlapMs: h.config.bot.overlapMs,
    });

    const found = await reader.lookUp(old.key.toLowerCase());
    expect(found?.stored).toBe(true);
    expect(found?.stored && found.incident.name).toBe("Old_one");
    expect(await queuedPairs(h.store)).toEqual([]);

    // Created just now: the poller has not listed it yet. The lookup must not take it from the poller.
    const recent = h.emu.state.addIncident({ created: new Date(), name: "Recent_one" });
    const early = await reader.lookUp(recent.key);
    expect(early).toMatchObject({ stored: false });
    expect(early?.stored === false && early.read.details.name).toBe("Recent_one");
    expect(await h.store.incidents.get(recent.id)).toBeUndefined();
    await h.intake.pollOnce();
    expect((await queuedPairs(h.store)).filter((p) => p.includes(recent.id))).toHaveLength(2);

    h.emu.state.setStatus(recent.id, "Approved");
    const again = await reader.lookUp(recent.key);
    expect(again?.stored && again.incident.status).toBe("Approved");

    expect(await reader.lookUp("INC-424242")).toBeUndefined();
  });
});
