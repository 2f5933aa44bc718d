// Every Telegram call listens to delivery's long-lived cancel signal; thousands of calls a day must
// not leave anything attached to it (AbortSignal.any does on Node 20: nodejs/node#55351).
import { describe, expect, it } from "vitest";
import { CallSignals } from "../../src/delivery/call-signals.js";
import { dependantsOf } from "../helpers/signals.js";

describe("CallSignals", () => {
  it("leaves nothing attached to the long-lived cancel signal after thousands of calls", async () => {
    const calls = new CallSignals(30_000);
    for (let i = 0; i < 5_000; i++) {
      await calls.run(async (signal) => {
        expect(signal.aborted).toBe(false);
      });
    }
    // a failing call lets go too
    await expect(
      calls.run(async () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(dependantsOf(calls.cancelSignal)).toEqual({ listeners: 0, combined: 0 });
  });

  it("cuts a call at its timeout, and every call in flight on cancelAll()", async () => {
    const calls = new CallSignals(100);
    const aborted = (signal: AbortSignal) =>
      new Promise<unknown>((resolve) => signal.addEventListener("abort", () => resolve(signal.reason)));
    const began = Date.now();
    await calls.run(aborted);
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);

    const slow = new CallSignals(60_000);
    const inFlight = [slow.run(aborted), slow.run(aborted)];
    slow.cancelAll(new Error("stopping"));
    const reasons = await Promise.all(inFlight);
    expect(reasons.map((r) => (r as Error).message)).toEqual(["stopping", "stopping"]);
    // after cancelAll, a new call starts cancelled
    expect(await slow.run(async (signal) => signal.aborted)).toBe(true);
  });
});
