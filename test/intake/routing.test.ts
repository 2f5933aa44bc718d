// The routing decision at intake, against the emulator over HTTP and a real store, with the injected
// clock: filters keep incidents from a chat (others unaffected), topics get what their filters admit,
// and mutes, BOT_SILENT_BELOW, silent matchers and active hours make rows silent without dropping them.

import { afterEach, describe, expect, it } from "vitest";
import type { RowRouting } from "../../src/store/index.js";
import { counterValue, fakeTime, type Harness, MINUTE, startHarness } from "./helpers.js";

const L1 = -100202;
const LEAD = 101;
const NET = -100303;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function rowsFor(harness: Harness, ids: string[]): Promise<Map<string, RowRouting[]>> {
  const rows = await harness.store.routing.rowsOf(ids);
  const out = new Map<string, RowRouting[]>();
  for (const id of ids)
    out.set(
      id,
      rows.filter((r) => r.incidentId === id),
    );
  return out;
}

const chatsOf = (rows: RowRouting[] | undefined) => (rows ?? []).map((r) => r.chatId).sort((a, b) => a - b);

describe("routing at intake", () => {
  it("a chat filtering severity>=high gets only High; the others get everything; /filter off restores it", async () => {
    h = await startHarness({ chats: [LEAD, L1] });
    await h.store.routing.setFilter(LEAD, null, "severity>=high", 9001);
    const high = h.emu.state.addIncident({ severity: "High" });
    const medium = h.emu.state.addIncident({ severity: "Medium" });
    const low = h.emu.state.addIncident({ severity: "Low" });
    await h.intake.pollOnce();
    const rows = await rowsFor(h, [high.id, medium.id, low.id]);
    expect(chatsOf(rows.get(high.id))).toEqual([L1, LEAD]);
    expect(chatsOf(rows.get(medium.id))).toEqual([L1]);
    expect(chatsOf(rows.get(low.id))).toEqual([L1]);

    // Off: everything again, from the next poll; what was queued before stays as it was.
    await h.store.routing.clearFilter(LEAD, null);
    const later = h.emu.state.addIncident({ severity: "Low" });
    await h.intake.pollOnce();
    expect(chatsOf((await rowsFor(h, [later.id])).get(later.id))).toEqual([L1, LEAD]);
    expect(chatsOf((await rowsFor(h, [low.id])).get(low.id))).toEqual([L1]);
  });

  it("topic filters route into the right topic, first match wins, and `none` keeps the rest out", async () => {
    h = await startHarness({ chats: [NET, L1] });
    await h.store.routing.setFilter(NET, 11, "type=Network severity>=high", 9001);
    await h.store.routing.setFilter(NET, 12, 'type=~"Network|Firewall"', 9001);
    await h.store.routing.setFilter(NET, null, "none", 9001);
    const a = h.emu.state.addIncident({ type: "Network", severity: "High" });
    const b = h.emu.state.addIncident({ type: "Network", severity: "Low" });
    const c = h.emu.state.addIncident({ type: "Firewall", severity: "High" });
    const d = h.emu.state.addIncident({ type: "Host", severity: "High" });
    await h.intake.pollOnce();
    const rows = await rowsFor(h, [a.id, b.id, c.id, d.id]);
    const netThread = (id: string) => rows.get(id)?.find((r) => r.chatId === NET)?.threadId;
    expect(netThread(a.id)).toBe(11);
    expect(netThread(b.id)).toBe(12);
    expect(netThread(c.id)).toBe(12);
    expect(chatsOf(rows.get(d.id))).toEqual([L1]);
    // The queued rows carry the topic delivery sends them to.
    const pending = await h.store.outbox.pendingForChat(NET);
    expect(pending.map((p) => p.threadId)).toEqual([11, 12, 12]);
  });

  it("a mute makes that chat's matching rows silent with the mute's id, until it ends; others keep their sound", async () => {
    const time = fakeTime(Date.parse("2024-03-04T12:00:00Z"));
    h = await startHarness({ chats: [LEAD, L1], time });
    const muteId = (await h.store.routing.addMute(
      {
        chatId: L1,
        threadId: null,
        matchers: "severity<=medium",
        startsAt: time.now(),
        endsAt: time.now() + 60 * MINUTE,
        createdBy: 9001,
        createdByName: "@soc_lead",
        comment: null,
      },
      20,
    ))!;
    const low = h.emu.state.addIncident({ severity: "Low" });
    const high = h.emu.state.addIncident({ severity: "High" });
    await h.intake.pollOnce();
    const rows = await rowsFor(h, [low.id, high.id]);
    expect(rows.get(low.id)?.map((r) => [r.chatId, r.silent, r.muteId])).toEqual(
      expect.arrayContaining([
        [L1, true, muteId],
        [LEAD, false, null],
      ]),
    );
    expect(rows.get(high.id)?.every((r) => !r.silent && r.muteId === null)).toBe(true);
    expect(await h.store.routing.mutedCounts([muteId])).toEqual(new Map([[muteId, 1]]));

    // An hour later the mute is over: sound again, with no reload of the rules needed.
    time.advance(61 * MINUTE);
    const after = h.emu.state.addIncident({ severity: "Low" });
    await h.intake.pollOnce();
    expect((await rowsFor(h, [after.id])).get(after.id)?.every((r) => !r.silent)).toBe(true);
  });

  it("BOT_SILENT_BELOW=high makes Low and Medium silent everywhere, High loud", async () => {
    h = await startHarness({ chats: [LEAD, L1], bot: { silentBelow: "high" } });
    const incidents = ["Low", "Medium", "High"].map((severity) => h!.emu.state.addIncident({ severity }));
    await h.intake.pollOnce();
    const rows = await rowsFor(
      h,
      incidents.map((i) => i.id),
    );
    const silentOf = (i: number) => rows.get(incidents[i]!.id)!.map((r) => r.silent);
    expect(silentOf(0)).toEqual([true, true]);
    expect(silentOf(1)).toEqual([true, true]);
    expect(silentOf(2)).toEqual([false, false]);
  });

  it("active hours (in BOT_TIME_ZONE) switch sound off outside them; silent matchers too", async () => {
    // Monday 20:00 in Moscow (UTC+3) is outside 09:00-18:00.
    const time = fakeTime(Date.parse("2024-03-04T17:00:00Z"));
    h = await startHarness({ chats: [LEAD, L1], time, bot: { timeZone: "Europe/Moscow" } });
    await h.store.routing.syncConfigRoutes([
      { chatId: LEAD, threadId: null, filter: "", silent: "", activeHours: ["monday-friday 09:00-18:00"] },
      { chatId: L1, threadId: null, filter: "", silent: "type=Scan", activeHours: [] },
    ]);
    const evening = h.emu.state.addIncident({ severity: "High", type: "Network" });
    await h.intake.pollOnce();
    let rows = await rowsFor(h, [evening.id]);
    expect(rows.get(evening.id)!.map((r) => [r.chatId, r.silent])).toEqual(
      expect.arrayContaining([
        [LEAD, true],
        [L1, false],
      ]),
    );

    // Tuesday 10:00 in Moscow: inside.
    time.advance(14 * 60 * MINUTE);
    const morning = h.emu.state.addIncident({ severity: "High", type: "Network" });
    const scan = h.emu.state.addIncident({ severity: "High", type: "Scan" });
    await h.intake.pollOnce();
    rows = await rowsFor(h, [morning.id, scan.id]);
    expect(rows.get(morning.id)!.every((r) => !r.silent)).toBe(true);
    expect(rows.get(scan.id)!.map((r) => [r.chatId, r.silent])).toEqual(
      expect.arrayContaining([
        [LEAD, false],
        [L1, true],
      ]),
    );
  });

  it("`rule` matches the correlation rule names when the details were read; in a burst it admits", async () => {
    h = await startHarness({ chats: [LEAD, L1] });
    const one = h.emu.state.addIncident({ name: "Custom name", severity: "Low" });
    const rule = (h.emu.state.incidentDetails(one.id) as { correlationRuleNames: string[] })
      .correlationRuleNames[0]!;
    await h.store.routing.setFilter(LEAD, null, `rule!=${JSON.stringify(rule)}`, 9001);
    await h.intake.pollOnce();
    expect(chatsOf((await rowsFor(h, [one.id])).get(one.id))).toEqual([L1]);

    // A burst is queued before its details are read: the rule names are unknown, the filter admits.
    const burst = h.emu.state.addBurst(30, { name: "Custom name" });
    await h.intake.pollOnce();
    const rows = await rowsFor(
      h,
      burst.map((i) => i.id),
    );
    for (const i of burst) expect(chatsOf(rows.get(i.id))).toEqual([L1, LEAD]);
  });

  it("reads the rules once per change, not once per poll or per incident", async () => {
    h = await startHarness({ chats: [LEAD, L1] });
    const routing = h.store.routing;
    let loads = 0;
    const load = routing.load.bind(routing);
    routing.load = (now) => {
      loads++;
      return load(now);
    };
    h.emu.state.addBurst(40);
    await h.intake.pollOnce();
    h.emu.state.addIncident();
    await h.intake.pollOnce();
    expect(loads).toBe(1);
    await routing.setFilter(LEAD, null, "severity>=high", 1);
    h.emu.state.addIncident();
    await h.intake.pollOnce();
    h.emu.state.addIncident();
    await h.intake.pollOnce();
    expect(loads).toBe(2);
  });

  it("/metrics counts routing decisions (incident × chat) and their time within the intake's time", async () => {
    const THIRD = -100404;
    h = await startHarness({ chats: [LEAD, L1, THIRD] });
    await h.store.routing.setFilter(LEAD, null, "severity>=high", 9001);
    h.emu.state.addBurst(40);
    await h.intake.pollOnce();
    // Every fresh incident is decided for each of the three chats receiving now, filtered or not.
    expect(await counterValue(h.metrics.routingDecisions)).toBe(40 * 3);
    const routing = await counterValue(h.metrics.routingSeconds);
    const intake = await counterValue(h.metrics.intakeSeconds);
    expect(routing).toBeGreaterThan(0);
    expect(intake).toBeGreaterThan(routing);
    const text = await h.metrics.text();
    for (const name of [
      "mpsiem_telegram_routing_decisions_total 120",
      "mpsiem_telegram_routing_seconds_total ",
      "mpsiem_telegram_intake_seconds_total ",
    ])
      expect(text).toContain(name);

    // A poll with nothing new takes intake time but decides nothing.
    await h.intake.pollOnce();
    expect(await counterValue(h.metrics.routingDecisions)).toBe(40 * 3);
    expect(await counterValue(h.metrics.intakeSeconds)).toBeGreaterThan(intake);
  });
});
