// Random and hostile input at the edges where the outside world reaches the service: commands typed
// by anyone on Telegram, button payloads (which a client can forge), and whatever a SIEM — or
// something pretending to be one — answers. None of it may throw out of the parsers or the client,
// and what is accepted must be exactly what is valid. (The renderer has its own properties in
// test/render/render.property.test.ts.)

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallbackData, decodeCallbackData, encodeCallbackData } from "../../src/render/callback-data.js";
import { createSiemClient } from "../../src/siem/client.js";
import { parseSiemTime } from "../../src/siem/time.js";
import { type SiemClient, SiemError } from "../../src/siem/types.js";
import {
  ADMIN_COMMANDS,
  CHAT_ID_COMMANDS,
  MUTE_COMMANDS,
  PUBLIC_COMMANDS,
  parseChatIdArg,
  parseCommand,
} from "../../src/telegram/commands.js";

const BOT = "MpSiemBot";
const COMMANDS = [...ADMIN_COMMANDS, ...PUBLIC_COMMANDS, ...MUTE_COMMANDS];
/** Any text a person can type: printable graphemes, raw code points, control characters. */
const anyText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "binary-ascii", maxLength: 80 }),
);
const RUNS = { numRuns: 300 };

describe("command parser", () => {
  it("never throws on any text, and only ever returns one of the bot's commands", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          anyText.map((s) => `/${s}`),
          fc.tuple(fc.constantFrom(...COMMANDS), anyText).map(([c, s]) => `/${c}${s}`),
          fc.string({ maxLength: 5000 }).map((s) => `/accept ${s}`),
        ),
        (text) => {
          const cmd = parseCommand(text, BOT);
          if (cmd === null) return;
          expect(COMMANDS).toContain(cmd.name);
          expect(typeof cmd.arg).toBe("string");
          expect(text.startsWith("/")).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("@BotName: the bot's own name in any case reads like no name; any other bot's name is not ours", () => {
    const otherName = fc
      .stringMatching(/^[A-Za-z][A-Za-z0-9_]{2,30}$/)
      .filter((name) => name.toLowerCase() !== BOT.toLowerCase());
    const caseOf = (name: string, flips: boolean[]) =>
      [...name].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch.toLowerCase())).join("");
    fc.assert(
      fc.property(
        fc.constantFrom(...COMMANDS),
        fc.option(fc.stringMatching(/^[ -~]{0,20}$/), { nil: undefined }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        otherName,
        (name, rest, flips, other) => {
          const tail = rest === undefined ? "" : ` ${rest}`;
          const plain = parseCommand(`/${name}${tail}`, BOT);
          expect(plain?.name).toBe(name);
          expect(parseCommand(`/${name}@${caseOf(BOT, flips)}${tail}`, BOT)).toEqual(plain);
          expect(parseCommand(`/${name}@${other}${tail}`, BOT)).toBeNull();
        },
      ),
      RUNS,
    );
  });

  it("a chat id parses only when it is a whole non-zero number that fits, and then exactly as written", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.stringMatching(/^\s*[-+]?\d{1,20}\s*$/),
          fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }).map(String),
        ),
        (arg) => {
          const parsed = parseChatIdArg(arg);
          const trimmed = arg.trim();
          if (!parsed.ok) {
            expect(parsed.reason).toBe(trimmed === "" ? "missing" : "invalid");
            return;
          }
          expect(trimmed).toMatch(/^[-+]?\d+$/);
          expect(Number.isSafeInteger(parsed.chatId)).toBe(true);
          expect(parsed.chatId).not.toBe(0);
          expect(BigInt(parsed.chatId)).toBe(BigInt(trimmed.replace(/^\+/, "")));
        },
      ),
      RUNS,
    );
  });

  it("a chat-id command glued or spaced reads the same id; glued junk is never an id", () => {
    const ids = fc.oneof(
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...CHAT_ID_COMMANDS), ids, fc.boolean(), (name, id, glued) => {
        const cmd = parseCommand(glued ? `/${name}${id}@${BOT}` : `/${name}@${BOT} ${id}`, BOT);
        expect(cmd?.name).toBe(name);
        expect(parseChatIdArg(cmd!.arg)).toEqual({ ok: true, chatId: id });
      }),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...CHAT_ID_COMMANDS),
        anyText.filter((s) => s.length > 0 && !/^[-+0-9]/.test(s) && !/\s/.test(s[0]!)),
        (name, junk) => {
          const cmd = parseCommand(`/${name}${junk}`, BOT);
          // "/accepted" is its own command; anything else glued to a chat-id command is not a command.
          if (cmd !== null) expect(cmd.name).not.toBe(name);
        },
      ),
      RUNS,
    );
  });
});

describe("button payloads (callback data)", () => {
  const incident: fc.Arbitrary<CallbackData> = fc.record({
    kind: fc.constant("incident" as const),
    action: fc.constantFrom("refresh", "approve", "close", "close_yes", "close_no"),
    incidentId: fc.uuid(),
  });
  const chat: fc.Arbitrary<CallbackData> = fc.record({
    kind: fc.constant("chat" as const),
    decision: fc.constantFrom("allow", "ignore", "block"),
    chatId: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    threadId: fc.option(fc.integer({ min: 0, max: 999_999_999_999 }), { nil: null }),
  });

  it("every payload the bot makes fits 64 bytes and reads back as itself", () => {
    fc.assert(
      fc.property(fc.oneof(incident, chat), (data) => {
        const raw = encodeCallbackData(data);
        expect(Buffer.byteLength(raw, "utf8")).toBeLessThanOrEqual(64);
        expect(decodeCallbackData(raw)).toEqual(data);
      }),
      RUNS,
    );
  });

  it("any string a client sends never throws; what decodes is well-formed and re-encodes to the same meaning", () => {
    const forged = fc.oneof(
      anyText,
      fc.string({ maxLength: 200 }),
      fc.oneof(incident, chat).map((d) => encodeCallbackData(d)),
      // Valid payloads, damaged: cut, extended, or with a character swapped.
      fc
        .tuple(fc.oneof(incident, chat), fc.nat(), fc.string({ unit: "binary", minLength: 1, maxLength: 3 }))
        .map(([d, at, junk]) => {
          const raw = encodeCallbackData(d);
          const i = at % raw.length;
          return [raw.slice(0, i), raw.slice(0, i) + junk + raw.slice(i + 1), raw + junk][at % 3]!;
        }),
    );
    fc.assert(
      fc.property(forged, (raw) => {
        const data = decodeCallbackData(raw);
        if (data === null) return;
        expect(Buffer.byteLength(raw, "utf8")).toBeLessThanOrEqual(64);
        if (data.kind === "incident") {
          expect(data.incidentId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        } else if (data.kind === "chat") {
          expect(Number.isSafeInteger(data.chatId)).toBe(true);
        } else {
          expect(data.page).toBeGreaterThanOrEqual(0);
          expect(data.page).toBeLessThanOrEqual(999);
        }
        expect(decodeCallbackData(encodeCallbackData(data))).toEqual(data);
      }),
      { numRuns: 1000 },
    );
    expect(decodeCallbackData(null)).toBeNull();
    expect(decodeCallbackData(undefined)).toBeNull();
  });
});

describe("SIEM timestamps", () => {
  it("any string, number or value never throws, and gives either null or a real date", () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.double(), fc.integer(), fc.anything()), (value) => {
        const date = parseSiemTime(value);
        if (date !== null) expect(Number.isFinite(date.getTime())).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("ISO times in every form the SIEM and older tools write read as the right instant", () => {
    const parts = fc.record({
      year: fc.integer({ min: 1000, max: 9999 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      second: fc.integer({ min: 0, max: 59 }),
      fraction: fc.stringMatching(/^\d{0,9}$/),
      zone: fc.oneof(
        fc.constantFrom("", "Z", "z"),
        fc.record({
          sign: fc.constantFrom("+", "-"),
          hours: fc.integer({ min: 0, max: 23 }),
          minutes: fc.integer({ min: 0, max: 59 }),
          colon: fc.boolean(),
        }),
      ),
      separator: fc.constantFrom("T", "t", " "),
    });
    const pad = (n: number, width = 2) => String(n).padStart(width, "0");
    fc.assert(
      fc.property(parts, (p) => {
        const zoneText =
          typeof p.zone === "string"
            ? p.zone
            : `${p.zone.sign}${pad(p.zone.hours)}${p.zone.colon ? ":" : ""}${pad(p.zone.minutes)}`;
        const offsetMin =
          typeof p.zone === "string"
            ? 0
            : (p.zone.sign === "-" ? -1 : 1) * (p.zone.hours * 60 + p.zone.minutes);
        const text =
          `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}${p.separator}${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
          `${p.fraction === "" ? "" : `.${p.fraction}`}${zoneText}`;
        const expected = new Date(0);
        expected.setUTCFullYear(p.year, p.month - 1, p.day);
        // Only milliseconds fit in a Date: digits beyond three are dropped, never rounded.
        expected.setUTCHours(p.hour, p.minute, p.second, Number(p.fraction.slice(0, 3).padEnd(3, "0")));
        expect(parseSiemTime(text)?.getTime(), text).toBe(expected.getTime() - offsetMin * 60_000);
      }),
      { numRuns: 500 },
    );
  });

  it("unix seconds, as a number or a digit string, read as that instant", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), fc.boolean(), (seconds, asText) => {
        expect(parseSiemTime(asText ? String(seconds) : seconds)?.getTime()).toBe(seconds * 1000);
      }),
      RUNS,
    );
  });
});

describe("SIEM answers through the client", () => {
  // A stand-in SIEM that answers whatever the property asks for, to every call.
  let answer: { status: number; body: string } = { status: 200, body: "{}" };
  let server: Server;
  let client: SiemClient;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(answer.body);
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createSiemClient({
      config: {
        url,
        authUrl: url,
        clientId: "mpx",
        token: "property-test-token",
        tlsVerify: true,
        timeoutMs: 2_000,
      },
      retry: { attempts: 1 },
      pageSize: 1000,
    });
  });
  afterAll(async () => {
    await client?.close();
    await new Promise<void>((done) => server?.close(() => done()));
  });

  /** A field as a SIEM might send it: right, missing, null, or of the wrong type. */
  const field = <T>(right: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 3, arbitrary: right },
      { weight: 2, arbitrary: fc.anything() },
      fc.constant(undefined),
    );
  const isoTime = fc
    .date({
      min: new Date("2000-01-01T00:00:00Z"),
      max: new Date("2100-01-01T00:00:00Z"),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().replace("Z", "0000Z"));
  const item = fc.dictionary(fc.string({ maxLength: 8 }), fc.anything(), { maxKeys: 3 }).chain((extra) =>
    fc.record({
      ...Object.fromEntries(Object.keys(extra).map((k) => [k, fc.constant(extra[k])])),
      id: field(fc.oneof(fc.uuid(), fc.integer())),
      key: field(fc.string()),
      name: field(fc.string()),
      category: field(fc.string()),
      type: field(fc.string()),
      status: field(fc.constantFrom("New", "Approved", "InProgress", "Resolved", "Closed")),
      severity: field(fc.constantFrom("High", "Medium", "Low")),
      created: field(fc.oneof(isoTime, fc.integer({ min: 0, max: 4_102_444_800 }))),
      isConfirmed: field(fc.boolean()),
      description: field(fc.string()),
      assigned: field(fc.record({ id: fc.uuid(), firstName: fc.string(), lastName: fc.string() })),
    }),
  );
  type Call = "list" | "details" | "events" | "info";
  /** Mostly the shape the call expects (with fields right, wrong or missing), sometimes any JSON at all. */
  const shaped: Record<Call, fc.Arbitrary<unknown>> = {
    list: fc.record({ incidents: fc.array(item, { maxLength: 12 }), totalItems: field(fc.nat()) }),
    details: item,
    events: fc.array(
      fc.record({ id: field(fc.string()), date: field(isoTime), description: field(fc.string()) }),
    ),
    info: fc.record({ productVersion: field(fc.string()) }),
  };
  const bodyFor = (call: Call) =>
    fc.oneof({ weight: 3, arbitrary: shaped[call] }, { weight: 1, arbitrary: fc.jsonValue() });
  const textFor = (call: Call) =>
    fc.oneof(
      { weight: 6, arbitrary: bodyFor(call).map((b) => JSON.stringify(b) ?? "null") },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
      { weight: 1, arbitrary: bodyFor(call).map((b) => (JSON.stringify(b) ?? "null").slice(0, -1)) },
    );
  const status = fc.oneof(
    { weight: 8, arbitrary: fc.constant(200) },
    fc.constantFrom(201, 204, 301, 400, 403, 404, 500, 502, 503),
  );

  const isDate = (d: unknown) => d instanceof Date && Number.isFinite(d.getTime());

  it("unknown fields, missing fields, wrong types and broken bodies give typed results or a SiemError — nothing else", async () => {
    await fc.assert(
      fc.asyncProperty(
        status,
        fc
          .constantFrom<Call>("list", "details", "events", "info")
          .chain((call) => fc.tuple(fc.constant(call), textFor(call))),
        async (code, [call, text]) => {
          answer = { status: code, body: text };
          let result: unknown;
          try {
            if (call === "list") {
              const list = await client.listIncidents({ from: new Date(0), timeType: "creation" });
              for (const incident of list) {
                expect(typeof incident.id).toBe("string");
                expect(incident.id.length).toBeGreaterThan(0);
                for (const k of ["key", "name", "category", "type", "status", "severity"] as const) {
                  expect(typeof incident[k]).toBe("string");
                }
                expect(isDate(incident.created)).toBe(true);
                expect(typeof incident.isConfirmed).toBe("boolean");
              }
              result = list;
            } else if (call === "details") {
              const details = await client.getIncident("0b6bd1f4-6f5d-4a4b-9a53-7f0ce7c0a6a1");
              expect(typeof details.id).toBe("string");
              expect(typeof details.description).toBe("string");
              expect(isDate(details.created)).toBe(true);
              expect(details.detected === null || isDate(details.detected)).toBe(true);
              result = details;
            } else if (call === "events") {
              const events = await client.getEvents("0b6bd1f4-6f5d-4a4b-9a53-7f0ce7c0a6a1", 5);
              expect(events.events.length).toBeLessThanOrEqual(5);
              expect(events.total).toBeGreaterThanOrEqual(events.events.length);
              for (const e of events.events) {
                expect(typeof e.description).toBe("string");
                expect(e.date === null || isDate(e.date)).toBe(true);
              }
              result = events;
            } else {
              result = await client.systemInfo();
              expect(typeof (result as { productVersion: unknown }).productVersion).toBe("string");
            }
          } catch (error) {
            if (!(error instanceof SiemError)) throw new Error(`not a SiemError: ${String(error)}`);
            return;
          }
          // A success needs a 2xx answer.
          expect(code >= 200 && code < 300, `succeeded on HTTP ${code}`).toBe(true);
          expect(result).toBeDefined();
        },
      ),
      { numRuns: 250 },
    );
  });
});
