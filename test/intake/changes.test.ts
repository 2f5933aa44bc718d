// Changes made in the SIEM to incidents already delivered are found by the lastModification check.

import { afterEach, describe, expect, it } from "vitest";
import { CHANGE_CURSOR_KEY } from "../../src/intake/index.js";
import { counterValue, type Harness, MINUTE, startHarness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CHATS = [101, -100202];

describe("changes in the SIEM", () => {
  it("finds a status change made in the SIEM UI and refreshes the store with a SIEM action line", async () => {
    h = await startHarness({ chats: CHATS });
    const incident = h.emu.state.addIncident({ eventsCount: 12 });
    h.emu.state.addIncident();
    await h.intake.pollOnce();
    const before = await h.store.incidents.get(incident.id);
    expect(before?.status).toBe("New");
    const kicksBefore = h.kicks.count;

    const changed = h.emu.state.setStatus(incident.id, "InProgress", "taken by the night shift");
    const result = await h.intake.pollOnce();
    expect(result).toEqual({ added: 0, changed: 1 });

    const after = await h.store.incidents.get(incident.id);
    expect(after?.status).toBe("InProgress");
    expect(after?.lastAction).toEqual({
      status: "InProgress",
      by: "SIEM",
      at: new Date(Date.parse(changed.modified)),
    });
    expect(after?.version).toBeGreaterThan(before?.version ?? Number.POSITIVE_INFINITY);
    // Re-read with its details and first events, so every copy shows what the SIEM has now.
    expect(after?.description).toBe(changed.description);
    expect(after?.events).toHaveLength(5);
    expect(after?.totalEvents).toBe(12);
    expect(h.kicks.count).toBe(kicksBefore + 1);
    expect(await counterValue(h.metrics.incidentChanges)).toBe(1);
    expect(await counterValue(h.metrics.polls, { kind: "lastModification", result: "ok" })).toBe(2);

    // Nothing new: the next poll re-reads nothing and changes nothing.
    h.emu.state.resetStats();
    expect(await h.intake.pollOnce()).toEqual({ added: 0, changed: 0 });
    expect(h.emu.state.stats().totalRequests).toBeLessThanOrEqual(2);
    expect((await h.store.incidents.get(incident.id))?.version).toBe(after?.version);
  });

  it("keeps our own action line when the store already has the status (our button did it)", async () => {
    h = await startHarness({ chats: CHATS });
    const now = Date.now();
    const viaDetails = h.emu.state.addIncident({ created: new Date(now - 20 * MINUTE) });
    const viaSummary = h.emu.state.addIncident({ created: new Date(now - 15 * MINUTE) });
    h.emu.state.addIncident();
    await h.intake.pollOnce();

    // Our Approve button: the transition, then the store refreshed with who pressed it — once from a
    // successful re-read (details with their modification time), once from the summary alone (re-read failed).
    const ours = { status: "Approved", by: "@ivan", at: new Date(now) };
    const comment = { measures: "approved in Telegram", message: "by @ivan" };
    await h.siem.transition(viaDetails.id, "Approved", comment);
    const details = await h.siem.getIncident(viaDetails.id);
    await h.store.incidents.refresh(details, await h.siem.getEvents(viaDetails.id, 5), ours);
    await h.siem.transition(viaSummary.id, "Approved", comment);
    const stored = await h.store.incidents.get(viaSummary.id);
    if (!stored) throw new Error("the incident should be stored");
    await h.store.incidents.refresh(
      {
        id: stored.id,
        key: stored.key,
        name: stored.name,
        category: stored.category,
        type: stored.type,
        severity: stored.severity,
        created: stored.created,
        status: "Approved",
        isConfirmed: true,
      },
      undefined,
      ours,
    );

    await h.intake.pollOnce();
    for (const id of [viaDetails.id, viaSummary.id]) {
      const after = await h.store.incidents.get(id);
      expect(after?.status).toBe("Approved");
      expect(after?.lastAction).toEqual(ours);
    }
    // The one stored from a summary was re-read (it has its description now) but kept our line.
    expect((await h.store.incidents.get(viaSummary.id))?.description).toBe(viaSummary.description);
  });

  it("leaves incidents first seen longer ago than the change window alone", async () => {
    h = await startHarness({ chats: CHATS, bot: { changeWindowMs: 0 } });
    const incident = h.emu.state.addIncident();
    await h.intake.pollOnce();
    await new Promise((resolve) => setTimeout(resolve, 5));
    h.emu.state.setStatus(incident.id, "Closed");
    expect(await h.intake.pollOnce()).toEqual({ added: 0, changed: 0 });
    expect((await h.store.incidents.get(incident.id))?.status).toBe("New");
  });

  it("keeps the change cursor in the store, on SIEM time, and never moves it back", async () => {
    h = await startHarness({ chats: CHATS });
    const first = h.emu.state.addIncident();
    await h.intake.pollOnce();
    const cursor = await h.store.settings.getNumber(CHANGE_CURSOR_KEY);
    expect(cursor).toBe(Date.parse(first.created));

    const changed = h.emu.state.setStatus(first.id, "Resolved");
    await h.intake.pollOnce();
    const moved = await h.store.settings.getNumber(CHANGE_CURSOR_KEY);
    expect(moved).toBe(Date.parse(changed.modified));

    // A late incident (older created) does not move it back.
    h.emu.state.addIncident({ created: new Date(Date.parse(first.created) - 3 * MINUTE) });
    await h.intake.pollOnce();
    expect(await h.store.settings.getNumber(CHANGE_CURSOR_KEY)).toBe(moved);
  });
});
