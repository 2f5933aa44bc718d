// Every Telegram call listens to delivery's long-lived cancel signal; thousands of calls a day must
// not leave anything attached to it (AbortSignal.any does on Node 20: nodejs/node#55351).
import { describe, expect, it } from "vitest";
import { CallSignals, CallTimeoutError } from "../../src/delivery/call-signals.js";
import { Pacer, pacingTransformer } from "../../src/delivery/pacer.js";
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

  it("times Telegram, not the queue: a call the pacer holds past the timeout still gets its whole timeout", async () => {
    // One call a second for the whole bot: the second call waits about a second in the pacer, five
    // times its 200 ms timeout. Found by the 200-chat routing benchmark, where calls let go near their
    // deadline were cut while Telegram took them, and sent again.
    const pacer = new Pacer({ limits: { perBotPerSec: 1 } });
    const transformer = pacingTransformer(pacer);
    const calls = new CallSignals(200);
    const left: number[] = [];
    // biome-ignore lint/suspicious/noExplicitAny: grammY's ApiCallFn is generic over every method
    const answering: any = async () => {
      left.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { ok: true, result: { message_id: left.length } };
    };
    const send = (chatId: number, prev = answering) =>
      calls.run((signal) =>
        // biome-ignore lint/suspicious/noExplicitAny: the signal is the platform AbortSignal at run time
        transformer(prev, "sendMessage", { chat_id: chatId, text: "x" }, signal as any),
      );
    const began = Date.now();
    const answers = await Promise.all([send(1), send(2)]);
    expect(answers.map((a) => a.ok)).toEqual([true, true]);
    expect(left[1]! - began).toBeGreaterThanOrEqual(800); // it did wait in the pacer, well past 200 ms

    // Telegram itself hanging is still cut, 200 ms after the call left the pacer.
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const hanging: any = (_m: string, _p: unknown, signal: AbortSignal) =>
      new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    await expect(send(3, hanging)).rejects.toBeInstanceOf(CallTimeoutError);
    pacer.stop();
  });
});
