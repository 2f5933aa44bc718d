// The short chaos run inside `npm test`: the same engine as `npm run chaos`, a fixed seed, about
// half a minute of incidents, faults in both fakes and kills, filters and mutes changed by the admin,
// buttons pressed by several people (a stranger among them) and /inc lookups, reminders and an escalation
// policy on (Snooze pressed, incidents assigned in the SIEM UI), then every invariant checked.

import { describe, expect, it } from "vitest";
import { ensureBuilt } from "./build.js";
import { formatReport, runChaos } from "./scenario.js";

const SEED = 20_240_611;

describe("chaos (short run)", () => {
  it("loses nothing, repeats only what kills explain, honours retry_after and routing, never exits by itself", async () => {
    await ensureBuilt();
    const progress: string[] = [];
    const report = await runChaos({
      seed: SEED,
      durationMs: 30_000,
      // Long enough for the groups' ~20 calls a minute to serve what the run owes them, reminders and
      // escalations included (they wait behind their chat's copies and edits): 90 s fell short in CI.
      settleTimeoutMs: 150_000,
      log: (line) => progress.push(line),
    });
    const summary = formatReport(report);
    // The run did real work: incidents, kills, deliveries, faults of several kinds.
    expect(report.incidents, summary).toBeGreaterThan(20);
    expect(report.kills.SIGKILL + report.kills.SIGTERM, summary).toBeGreaterThanOrEqual(2);
    // Filters keep some incidents from Alice and the group: each chat is owed what its filter admitted.
    expect(report.verdict.delivered, summary).toBeGreaterThanOrEqual(report.incidents);
    expect(Object.keys(report.faults).length, summary).toBeGreaterThanOrEqual(4);
    // Routing changed during the run and was judged: filters and a mute took effect, BOT_SILENT_BELOW is
    // on (this seed), and messages went both silently and with sound.
    const routing = report.verdict.routing!;
    expect(report.routing.silentBelow, summary).toBe("high");
    // At least three routing commands were carried out, by the service's own audit log. (Counted there, not
    // by replies: a reply waiting behind a retry_after when a graceful stop comes is lost — a known limit,
    // shown in the summary as "unanswered" and judged as maybe in force; at least one reply is seen.)
    expect(report.routing.carriedOut, summary).toBeGreaterThanOrEqual(3);
    expect(routing.confirmed, summary).toBeGreaterThanOrEqual(1);
    expect(routing.filteredOut + routing.filterStraddled, summary).toBeGreaterThan(0);
    expect(routing.silentMessages, summary).toBeGreaterThan(0);
    expect(routing.loudMessages, summary).toBeGreaterThan(0);
    // The workflow ran: people pressed, the stranger among them, the bot made transitions, the admin looked up.
    const workflow = report.workflow.verdict;
    expect(workflow.presses, summary).toBeGreaterThanOrEqual(8);
    expect(workflow.strangerPresses, summary).toBeGreaterThanOrEqual(1);
    expect(
      Object.values(workflow.transitions).reduce((a, b) => a + b, 0),
      summary,
    ).toBeGreaterThanOrEqual(1);
    expect(report.workflow.lookups, summary).toBeGreaterThanOrEqual(1);
    // Reminders and escalations fired (6 s after delivery in this run) and were judged, Snooze was pressed.
    const reminders = report.reminders.verdict;
    expect(reminders.single + reminders.collapsed, summary).toBeGreaterThan(0);
    expect(reminders.escalations, summary).toBeGreaterThan(0);
    expect(reminders.got, summary).toBeGreaterThan(0);
    expect(report.reminders.snoozes, summary).toBeGreaterThan(0);
    expect(report.verdict.violations, `${summary}\n${progress.join("\n")}`).toEqual([]);
  }, 240_000);
});
