// A failing chaos run is replayed from its seed: the plan must be a pure function of seed and length.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makePlan, REMINDER_KINDS, ROUTING_KINDS, WORKFLOW_KINDS } from "./plan.js";
import { matchersText } from "./rules.js";

/**
 * A digest of what a plan does (its shape, its routing, its workflow and its reminders left out: each is
 * drawn from a stream of its own), to pin plans drawn before shapes, routing, the workflow and reminders existed.
 */
function digest(plan: ReturnType<typeof makePlan>): string {
  const { seed, durationMs, pollIntervalSec, emulatorSeed } = plan;
  const actions = plan.actions.filter(
    (a) =>
      !ROUTING_KINDS.has(a.action.kind) &&
      !WORKFLOW_KINDS.has(a.action.kind) &&
      !REMINDER_KINDS.has(a.action.kind),
  );
  const text = JSON.stringify({ seed, durationMs, pollIntervalSec, emulatorSeed, actions });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

describe("chaos plan", () => {
  it("is the same for the same seed and length, and differs for another seed", () => {
    expect(makePlan(42, 180_000)).toEqual(makePlan(42, 180_000));
    expect(makePlan(43, 180_000).actions).not.toEqual(makePlan(42, 180_000).actions);
  });

  it("spreads every kind of fault, kills of both kinds, a block with its unblock and a migration over a run", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = makePlan(seed, 180_000);
      const kinds = new Set(plan.actions.map((a) => a.action.kind));
      for (const kind of ["incident", "siemStatus", "kill", "block", "unblock", "migrate"]) {
        expect(kinds, `seed ${seed}: ${kind}`).toContain(kind);
      }
      expect(
        [...kinds].filter((k) => k.startsWith("siem") && k !== "siemStatus").length,
      ).toBeGreaterThanOrEqual(2);
      expect([...kinds].filter((k) => k.startsWith("tg")).length).toBeGreaterThanOrEqual(2);
      const signals = plan.actions.flatMap((a) => (a.action.kind === "kill" ? [a.action.signal] : []));
      expect(signals).toContain("SIGKILL");
      expect(signals).toContain("SIGTERM");
      expect(signals.length).toBeGreaterThanOrEqual(5);
      const times = plan.actions.map((a) => a.atMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(Math.max(...times)).toBeLessThan(180_000);
      const at = (kind: string) => plan.actions.find((a) => a.action.kind === kind)!.atMs;
      expect(at("unblock")).toBeGreaterThan(at("block"));
      expect(plan.pollIntervalSec).toBeGreaterThanOrEqual(0.5);
      expect(plan.pollIntervalSec).toBeLessThanOrEqual(1);
    }
  });

  it("keeps one instance on SQLite's plans as they were drawn before several instances existed", () => {
    // Digests of the plans of the short run in `npm test` and of two runs in RESULTS.md, taken before.
    expect(digest(makePlan(20_240_611, 30_000))).toBe("50137ee7a4c9627c");
    expect(digest(makePlan(42, 180_000))).toBe("e70846d34fa10cd8");
    expect(digest(makePlan(1_778_292_027, 180_000))).toBe("83499e3f158d3e4e");
  });

  it("gives two instances on PostgreSQL every fault of leadership, about one every 18 s, and replays it", () => {
    const shape = { instances: 2, db: "postgres" as const };
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = makePlan(seed, 180_000, shape);
      expect(plan).toEqual(makePlan(seed, 180_000, shape));
      const faults = plan.actions.flatMap(({ action: a }) =>
        a.kind === "kill" ? [`${a.target}:${a.signal}`] : a.kind === "pgTerminate" ? [`pg:${a.scope}`] : [],
      );
      expect(faults.length, `seed ${seed}`).toBe(Math.round(177_000 / 18_000));
      for (const kind of ["leader:SIGKILL", "leader:SIGTERM", "pg:lease", "pg:all"]) {
        expect(faults, `seed ${seed}: ${kind}`).toContain(kind);
      }
      expect(
        faults.some((f) => f.startsWith("standby:")),
        `seed ${seed}: standby`,
      ).toBe(true);
      // Everything else is the plan one instance gets.
      const single = makePlan(seed, 180_000);
      const others = (p: typeof plan) =>
        p.actions.filter((a) => a.action.kind !== "kill" && a.action.kind !== "pgTerminate");
      expect(others(plan)).toEqual(others(single));
    }
  });

  it("changes filters and mutes of Alice and the group at random, reproducibly, every operator over a few seeds", () => {
    const ops = new Set<string>();
    const fields = new Set<string>();
    const silentBelow = new Set<string | null>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const plan = makePlan(seed, 180_000);
      expect(makePlan(seed, 180_000)).toEqual(plan);
      silentBelow.add(plan.silentBelow);
      const routing = plan.actions.filter((a) => ROUTING_KINDS.has(a.action.kind));
      // About one every 6 s, at least 2 s apart.
      expect(routing.length, `seed ${seed}`).toBeGreaterThanOrEqual(15);
      expect(routing.length, `seed ${seed}`).toBeLessThanOrEqual(40);
      for (let i = 1; i < routing.length; i++) {
        expect(routing[i]!.atMs - routing[i - 1]!.atMs).toBeGreaterThanOrEqual(1_999);
      }
      const kinds = routing.map(({ action: a }) =>
        a.kind === "filter" ? (a.matchers === null ? "off" : "filter") : a.kind,
      );
      for (const kind of ["filter", "mute"]) expect(kinds, `seed ${seed}`).toContain(kind);
      const chats = new Set(routing.map(({ action: a }) => ("chat" in a ? a.chat : null)));
      expect(chats).toEqual(new Set(["alice", "group"]));
      for (const { action: a } of routing) {
        if (a.kind === "mute") {
          expect(a.seconds).toBeGreaterThanOrEqual(20);
          expect(a.seconds).toBeLessThanOrEqual(60);
        }
        const matchers = a.kind === "filter" ? (a.matchers ?? []) : a.kind === "mute" ? a.matchers : [];
        for (const m of matchers) {
          ops.add(m.op);
          fields.add(m.field);
          // Typed as one token each: no space outside quotes.
          expect(matchersText([m]).replace(/"[^"]*"/g, "")).not.toMatch(/\s/);
        }
      }
    }
    expect([...ops].sort()).toEqual(["!=", "!~", "<", "<=", "=", "=~", ">", ">="]);
    expect([...fields].sort()).toEqual(["category", "name", "severity", "type"]);
    expect(silentBelow.has(null)).toBe(true);
    expect(silentBelow.size).toBeGreaterThanOrEqual(2);
  });

  it("presses buttons from every presser, fresh and stale, with every Close reason and Cancel, looks up and links once", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const plan = makePlan(seed, 180_000);
      expect(makePlan(seed, 180_000)).toEqual(plan);
      const presses = plan.actions.flatMap(({ action: a }) => (a.kind === "press" ? [a] : []));
      // About one every 2.5 s.
      expect(presses.length, `seed ${seed}`).toBeGreaterThanOrEqual(50);
      expect(presses.length, `seed ${seed}`).toBeLessThanOrEqual(100);
      expect(new Set(presses.map((p) => p.presser))).toEqual(new Set(["admin", "alice", "bob", "carol"]));
      expect(new Set(presses.map((p) => p.fresh))).toEqual(new Set([true, false]));
      expect(new Set(presses.map((p) => p.reason)).size).toBe(5);
      const lookups = plan.actions.filter((a) => a.action.kind === "lookup");
      expect(lookups.length, `seed ${seed}`).toBeGreaterThanOrEqual(8);
      expect(new Set(lookups.map((a) => a.action.kind === "lookup" && a.action.fromDigest))).toEqual(
        new Set([true, false]),
      );
      const links = plan.actions.filter((a) => a.action.kind === "link");
      expect(links.length).toBe(1);
      expect(links[0]!.atMs).toBeLessThan(60_000);
    }
    // A half-minute run presses too.
    const short = makePlan(20_240_611, 30_000);
    expect(short.actions.filter((a) => a.action.kind === "press").length).toBeGreaterThanOrEqual(5);
    expect(short.actions.filter((a) => a.action.kind === "link").length).toBe(1);
  });
  it("turns reminders on with delays that fire within the run, escalates by env or by a file policy, snoozes and assigns", () => {
    const vias = new Set<string>();
    const severities = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const plan = makePlan(seed, 180_000);
      expect(makePlan(seed, 180_000).reminders).toEqual(plan.reminders);
      const r = plan.reminders;
      for (const sec of [r.remindAfterSec, r.remindEverySec]) {
        expect(sec, `seed ${seed}`).toBeGreaterThanOrEqual(14);
        expect(sec, `seed ${seed}`).toBeLessThanOrEqual(30);
      }
      expect([2, 3]).toContain(r.remindMax);
      expect(r.escalation.afterSec).toBeGreaterThan(r.remindAfterSec);
      if (r.escalation.via === "env") expect(r.escalation.minSeverity).toBe(r.minSeverity);
      vias.add(r.escalation.via);
      severities.add(r.minSeverity);
      const snoozes = plan.actions.filter((a) => a.action.kind === "snooze");
      const assigns = plan.actions.flatMap(({ action: a }) => (a.kind === "siemAssign" ? [a] : []));
      expect(snoozes.length, `seed ${seed}`).toBeGreaterThanOrEqual(4);
      expect(assigns.length, `seed ${seed}`).toBeGreaterThanOrEqual(4);
      expect(assigns.length, `seed ${seed}`).toBeLessThanOrEqual(20);
    }
    expect(vias).toEqual(new Set(["env", "file"]));
    expect(severities.size).toBeGreaterThanOrEqual(2);
    // A half-minute run reminds (6 s, the shortest), snoozes and assigns too.
    const short = makePlan(20_240_611, 30_000);
    expect(short.reminders.remindAfterSec).toBe(6);
    expect(short.actions.filter((a) => a.action.kind === "snooze").length).toBeGreaterThanOrEqual(2);
    expect(short.actions.filter((a) => a.action.kind === "siemAssign").length).toBeGreaterThanOrEqual(2);
  });
});
