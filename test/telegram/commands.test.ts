import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ADMIN_COMMANDS,
  CHAT_ID_COMMANDS,
  leadingChatId,
  MUTE_COMMANDS,
  PUBLIC_COMMANDS,
  parseChatIdArg,
  parseCommand,
} from "../../src/telegram/commands.js";

const BOT = "FakeMpSiemBot";
const chatIds = fc.oneof(
  fc.integer({ min: 1, max: 9_999_999_999 }),
  fc.integer({ min: -1_009_999_999_999, max: -1 }),
);

describe("parseCommand", () => {
  it("reads every form of a chat-id command: glued, spaced, with @BotName before or after the id", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CHAT_ID_COMMANDS), chatIds, (name, id) => {
        const forms = [
          `/${name}${id}`,
          `/${name} ${id}`,
          `/${name}@${BOT} ${id}`,
          `/${name}${id}@${BOT}`,
          `/${name}   ${id}  `,
        ];
        for (const text of forms) {
          const cmd = parseCommand(text, BOT);
          expect(cmd?.name, text).toBe(name);
          expect(parseChatIdArg(cmd!.arg), text).toEqual({ ok: true, chatId: id });
        }
      }),
    );
  });

  it("keeps commands that share a prefix apart: /accepted is not /accept + 'ed', /banned is not /ban", () => {
    expect(parseCommand("/accepted", BOT)).toEqual({ name: "accepted", arg: "" });
    expect(parseCommand("/banned", BOT)).toEqual({ name: "banned", arg: "" });
    expect(parseCommand("/accept", BOT)).toEqual({ name: "accept", arg: "" });
    expect(parseCommand("/ban-100", BOT)).toEqual({ name: "ban", arg: "-100" });
    expect(parseCommand("/unban5", BOT)).toEqual({ name: "unban", arg: "5" });
  });

  it("routing commands take an optional chat id, glued or after a space, before their arguments", () => {
    expect(parseCommand("/filter-100123 severity>=high", BOT)).toEqual({
      name: "filter",
      arg: "-100123 severity>=high",
    });
    expect(parseCommand("/filter severity>=high", BOT)).toEqual({ name: "filter", arg: "severity>=high" });
    expect(parseCommand("/mute-100123 2h", BOT)).toEqual({ name: "mute", arg: "-100123 2h" });
    expect(parseCommand(`/unmute@${BOT}`, BOT)).toEqual({ name: "unmute", arg: "" });
    expect(parseCommand("/filterx", BOT)).toBeNull();
    expect(leadingChatId("-100123 severity>=high")).toEqual({ chatId: -100123, rest: "severity>=high" });
    expect(leadingChatId("2h type=Scan")).toEqual({ chatId: null, rest: "2h type=Scan" });
    expect(leadingChatId("30m")).toEqual({ chatId: null, rest: "30m" });
    expect(leadingChatId("0 2h")).toEqual({ invalid: "0" });
    expect(leadingChatId("")).toEqual({ chatId: null, rest: "" });
  });

  it("recognises every command by name, any case, with or without the bot's name", () => {
    for (const name of [...ADMIN_COMMANDS, ...PUBLIC_COMMANDS, ...MUTE_COMMANDS]) {
      expect(parseCommand(`/${name}`, BOT)?.name).toBe(name);
      expect(parseCommand(`/${name.toUpperCase()}@${BOT.toLowerCase()}`, BOT)?.name).toBe(name);
    }
  });

  it("ignores commands for another bot, unknown commands, ordinary text and glued non-ids", () => {
    expect(parseCommand(`/start@OtherBot`, BOT)).toBeNull();
    expect(parseCommand(`/accept@OtherBot 123`, BOT)).toBeNull();
    expect(parseCommand(`/start@`, BOT)).toBeNull();
    expect(parseCommand("/acceptx", BOT)).toBeNull();
    expect(parseCommand("/pingpong", BOT)).toBeNull();
    expect(parseCommand("/unknown", BOT)).toBeNull();
    expect(parseCommand("hello /start", BOT)).toBeNull();
    expect(parseCommand("", BOT)).toBeNull();
    expect(parseCommand(undefined, BOT)).toBeNull();
  });

  it("never throws and only ever returns a known command", () => {
    const known = new Set<string>([...ADMIN_COMMANDS, ...PUBLIC_COMMANDS, ...MUTE_COMMANDS]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `/${s}`),
        ),
        (text) => {
          const cmd = parseCommand(text, BOT);
          if (cmd !== null) expect(known.has(cmd.name)).toBe(true);
        },
      ),
    );
  });
});

describe("parseChatIdArg", () => {
  it("accepts every non-zero safe integer, with an optional sign", () => {
    fc.assert(
      fc.property(chatIds, (id) => {
        expect(parseChatIdArg(String(id))).toEqual({ ok: true, chatId: id });
        if (id > 0) expect(parseChatIdArg(`+${id}`)).toEqual({ ok: true, chatId: id });
      }),
    );
  });

  it("says what is wrong: a missing id, or one that is not a whole number", () => {
    expect(parseChatIdArg("")).toEqual({ ok: false, reason: "missing" });
    expect(parseChatIdArg("   ")).toEqual({ ok: false, reason: "missing" });
    for (const bad of ["abc", "0", "-0", "1.5", "12 34", "--5", "1e5", "99999999999999999", "0x10", "-"]) {
      expect(parseChatIdArg(bad), bad).toEqual({ ok: false, reason: "invalid" });
    }
  });
});
