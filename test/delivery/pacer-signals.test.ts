// The pacer's waits take a long-lived signal (delivery's stop) thousands of times a day: each wait
// must let go of it when done, or the signal keeps every wait alive (nodejs/node#55351).
import { describe, expect, it } from "vitest";
import { Pacer, PacerStoppedError } from "../../src/delivery/pacer.js";
import { dependantsOf } from "../helpers/signals.js";

describe("Pacer and long-lived signals", () => {
  it("leaves nothing attached to the caller's signal after thousands of waits", async () => {
    let t = 1_000_000;
    const pacer = new Pacer({
      now: () => t,
      sleep: async (ms, signal) => {
        if (signal.aborted) throw signal.reason;
        t += ms;
      },
    });
    const stop = new AbortController();
    for (let i = 0; i < 5_000; i++) {
      await pacer.ready(i % 50, stop.signal);
      const settle = await pacer.begin(i % 50, stop.signal);
      settle();
    }
    expect(dependantsOf(stop.signal)).toEqual({ listeners: 0, combined: 0 });
  });

  it("still cuts a wait short when the caller's signal aborts, and on stop()", async () => {
    const pacer = new Pacer();
    pacer.recordRetryAfter(7, 60);
    const stop = new AbortController();
    const waiting = pacer.ready(7, stop.signal);
    stop.abort(new Error("caller stopped"));
    await expect(waiting).rejects.toThrow("caller stopped");
    expect(dependantsOf(stop.signal)).toEqual({ listeners: 0, combined: 0 });

    const other = new AbortController();
    const second = pacer.ready(7, other.signal);
    pacer.stop();
    await expect(second).rejects.toBeInstanceOf(PacerStoppedError);
    expect(dependantsOf(other.signal)).toEqual({ listeners: 0, combined: 0 });
  });
});
