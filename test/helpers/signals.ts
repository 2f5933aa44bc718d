// How many things hang on to an AbortSignal: its abort listeners, and the signals combined from it
// with AbortSignal.any (Node keeps those in an internal set; on Node 20 they pile up while the
// source lives, nodejs/node#55351).
import { getEventListeners } from "node:events";

export function dependantsOf(signal: AbortSignal): { listeners: number; combined: number } {
  const symbol = Object.getOwnPropertySymbols(signal).find((s) => s.description === "kDependantSignals");
  const combined = symbol
    ? ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[symbol]?.size ?? 0)
    : 0;
  return { listeners: getEventListeners(signal, "abort").length, combined };
}
