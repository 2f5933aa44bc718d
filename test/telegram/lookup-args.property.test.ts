// Property tests of the /inc argument: every accepted form gives the canonical key of its number; anything
// else — forged, huge, non-ASCII digits, filter syntax — is refused (never thrown), and an accepted key
// always has the one shape that may go into the SIEM's filter expression.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalIncidentKey } from "../../src/siem/client.js";
import { parseCommand } from "../../src/telegram/commands.js";
import {
  MAX_INCIDENT_NUMBER,
  MAX_LOOKUP_ARG_LENGTH,
  parseLookupArg,
} from "../../src/telegram/lookup-args.js";

const NUM_RUNS = 500;
const BOT = "FakeMpSiemBot";
const number = fc.integer({ min: 1, max: MAX_INCIDENT_NUMBER });
const space = fc.constantFrom("", " ", "  ", "\t");
const incCase = fc.constantFrom("INC", "inc", "Inc", "iNc");

describe("parseLookupArg", () => {
  it("accepts INC-n, inc-n, n and the glued _n, giving INC-n", () => {
    fc.assert(
      fc.property(number, incCase, space, space, (n, inc, before, after) => {
        for (const form of [`${inc}-${n}`, `${n}`, `_${n}`]) {
          const parsed = parseLookupArg(`${before}${form}${after}`);
          expect(parsed, form).toEqual({ ok: true, key: `INC-${n}`, number: n });
          if (parsed.ok) expect(canonicalIncidentKey(parsed.key)).toBe(parsed.key);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("goes through parseCommand in all three forms, with and without the bot's @username", () => {
    fc.assert(
      fc.property(number, fc.boolean(), (n, mention) => {
        const at = mention ? `@${BOT}` : "";
        for (const text of [`/inc${at} INC-${n}`, `/inc${at} ${n}`, `/inc_${n}${at}`]) {
          const cmd = parseCommand(text, BOT);
          expect(cmd?.name, text).toBe("inc");
          expect(parseLookupArg(cmd!.arg), text).toEqual({ ok: true, key: `INC-${n}`, number: n });
        }
        // Addressed to another bot: not ours.
        expect(parseCommand(`/inc_${n}@OtherBot`, BOT)).toBeNull();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("refuses numbers above the maximum and zero, however written", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: BigInt(MAX_INCIDENT_NUMBER) + 1n, max: 10n ** 40n }),
        fc.constantFrom("", "INC-", "_"),
        (big, prefix) => {
          const parsed = parseLookupArg(`${prefix}${big}`);
          expect(parsed.ok).toBe(false);
        },
      ),
      { numRuns: NUM_RUNS },
    );
    for (const zero of ["0", "INC-0", "_0", "000"]) expect(parseLookupArg(zero).ok, zero).toBe(false);
  });

  it("never throws, and accepts only INC-<n> / <n> / _<n> with ASCII digits", () => {
    const tricky = fc.constantFrom(
      '"',
      "'",
      " or ",
      "=",
      "-",
      "_",
      "INC",
      "١",
      "٣",
      "１",
      "\u0000",
      "\n",
      "%",
      "e",
      ".",
      "+",
      "😀",
      "1",
      "9",
    );
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fc.oneof(tricky, fc.string({ maxLength: 2 })), { maxLength: 30 }).map((a) => a.join("")),
    );
    fc.assert(
      fc.property(text, (arg) => {
        const parsed = parseLookupArg(arg);
        if (parsed.ok) {
          expect(arg.trim()).toMatch(/^(?:_|inc-)?\d+$/i);
          expect(parsed.key).toMatch(/^INC-[1-9]\d{0,8}$/);
          expect(canonicalIncidentKey(parsed.key)).toBe(parsed.key);
        } else {
          expect(["missing", "invalid", "too_large"]).toContain(parsed.reason);
        }
      }),
      { numRuns: NUM_RUNS * 4 },
    );
  });

  it("refuses an argument longer than the bound unread, and a second word", () => {
    expect(parseLookupArg(`${" ".repeat(MAX_LOOKUP_ARG_LENGTH)}1`).ok).toBe(false);
    expect(parseLookupArg("9".repeat(5000))).toEqual({ ok: false, reason: "invalid" });
    expect(parseLookupArg("INC-1 INC-2").ok).toBe(false);
    expect(parseLookupArg('INC-1" or key != "').ok).toBe(false);
    expect(parseLookupArg("")).toEqual({ ok: false, reason: "missing" });
    expect(parseCommand("/incident 5", BOT)).toBeNull();
    // A glued argument that is not a number reaches the parser, which refuses it.
    expect(parseLookupArg(parseCommand("/inc_x", BOT)!.arg).ok).toBe(false);
    expect(parseLookupArg(parseCommand("/inc_1e5", BOT)!.arg).ok).toBe(false);
  });
});
