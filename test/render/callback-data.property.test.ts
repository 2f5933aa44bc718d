// Property tests of the buttons' payloads (issue 14): every incident action, old and new, encodes within
// Telegram's 64 bytes and decodes back to itself; any other string — random, forged from a real payload,
// or too long — is refused (null) without throwing.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CallbackData,
  closeReasonOf,
  decodeCallbackData,
  encodeCallbackData,
  type IncidentAction,
  MAX_CALLBACK_BYTES,
} from "../../src/render/callback-data.js";

const NUM_RUNS = 500;

const ACTIONS: IncidentAction[] = [
  "refresh",
  "approve",
  "take",
  "resolve",
  "close",
  "close_yes",
  "close_duplicate",
  "close_authorised",
  "close_other",
  "close_no",
  "snooze",
];

const incidentData = fc.record({
  kind: fc.constant("incident" as const),
  action: fc.constantFrom(...ACTIONS),
  incidentId: fc.uuid().map((id) => id.toLowerCase()),
});
const chatData = fc.record({
  kind: fc.constant("chat" as const),
  decision: fc.constantFrom("allow" as const, "ignore" as const, "block" as const),
  chatId: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
  threadId: fc.option(fc.integer({ min: 0, max: 999_999_999_999 }), { nil: null }),
});
const openData = fc.record({
  kind: fc.constant("open" as const),
  page: fc.integer({ min: 0, max: 999 }),
  severity: fc.constantFrom("High" as const, "Medium" as const, "Low" as const, null),
});
const anyData: fc.Arbitrary<CallbackData> = fc.oneof(incidentData, chatData, openData);

/** Decoding never throws; it gives a CallbackData or null. */
function safeDecode(raw: unknown): CallbackData | null {
  let out: CallbackData | null = null;
  expect(() => {
    out = decodeCallbackData(raw as string);
  }).not.toThrow();
  return out;
}

describe("callback data, property-tested", () => {
  it("every payload fits in 64 bytes and round-trips", () => {
    fc.assert(
      fc.property(anyData, (data) => {
        const raw = encodeCallbackData(data);
        expect(Buffer.byteLength(raw, "utf8")).toBeLessThanOrEqual(MAX_CALLBACK_BYTES);
        expect(decodeCallbackData(raw)).toEqual(data);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("every action has its own code, and the close reasons are exactly the confirmation's buttons", () => {
    const id = "0f8e1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    const codes = ACTIONS.map((action) => encodeCallbackData({ kind: "incident", action, incidentId: id }));
    expect(new Set(codes).size).toBe(ACTIONS.length);
    expect(ACTIONS.filter((a) => closeReasonOf(a) !== null)).toEqual([
      "close_yes",
      "close_duplicate",
      "close_authorised",
      "close_other",
    ]);
    expect(closeReasonOf("close_yes")).toBe("false_positive");
  });

  it("any string is either refused or decodes to data that encodes back to exactly it", () => {
    const strings = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "binary", maxLength: 80 }),
      fc.stringMatching(/^[ic]:[a-z]{0,3}:[0-9a-fA-F:-]{0,40}$/),
      fc.stringMatching(/^o:[0-9]{0,5}:[a-zA-Z]{0,2}$/),
    );
    fc.assert(
      fc.property(strings, (raw) => {
        const decoded = safeDecode(raw);
        if (decoded !== null) expect(encodeCallbackData(decoded).toLowerCase()).toBe(raw.toLowerCase());
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a real payload forged by a change of one character, a cut or an addition is refused or stays well-formed", () => {
    const forged = fc
      .tuple(
        incidentData,
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 4 }),
        fc.constantFrom("set", "cut", "add"),
      )
      .map(([data, at, piece, how]) => {
        const raw = encodeCallbackData(data);
        const i = at % raw.length;
        if (how === "cut") return raw.slice(0, i);
        if (how === "add") return raw.slice(0, i) + piece + raw.slice(i);
        return raw.slice(0, i) + piece[0] + raw.slice(i + 1);
      });
    fc.assert(
      fc.property(forged, (raw) => {
        const decoded = safeDecode(raw);
        if (decoded === null) return;
        // Whatever still parses names a known action and a real UUID, and re-encodes to the same text.
        expect(encodeCallbackData(decoded).toLowerCase()).toBe(raw.toLowerCase());
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("an /open page: 0..999 without leading zeros, a known severity code; anything else is refused", () => {
    expect(safeDecode("o:0:a")).toEqual({ kind: "open", page: 0, severity: null });
    expect(safeDecode("o:12:h")).toEqual({ kind: "open", page: 12, severity: "High" });
    for (const raw of ["o:01:a", "o:1000:a", "o:-1:a", "o:1:x", "o:1:H", "o:1", "o::a", "o:1:a:2"])
      expect(safeDecode(raw)).toBeNull();
  });

  it("non-strings, empty and over-long payloads are refused", () => {
    for (const raw of [undefined, null, "", 42, {}, [], `i:t:${"a".repeat(80)}`])
      expect(safeDecode(raw)).toBeNull();
    fc.assert(
      fc.property(incidentData, fc.string({ minLength: 30, maxLength: 60 }), (data, tail) => {
        const raw = `${encodeCallbackData(data)}${tail}`;
        if (Buffer.byteLength(raw, "utf8") > MAX_CALLBACK_BYTES) expect(safeDecode(raw)).toBeNull();
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
