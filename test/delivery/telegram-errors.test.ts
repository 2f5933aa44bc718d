import { GrammyError, HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { PacerStoppedError } from "../../src/delivery/pacer.js";
import { classifyTelegramError } from "../../src/delivery/telegram-errors.js";

function apiError(code: number, description: string, parameters: object = {}) {
  return new GrammyError(
    `Call to 'sendMessage' failed! (${code}: ${description})`,
    { ok: false, error_code: code, description, parameters },
    "sendMessage",
    {},
  );
}

describe("classifyTelegramError", () => {
  it("reads each error Telegram-notes lists as what delivery must do", () => {
    const cases: Array<[GrammyError, string]> = [
      [apiError(429, "Too Many Requests: retry after 7", { retry_after: 7 }), "rate_limited"],
      [
        apiError(400, "Bad Request: group chat was upgraded to a supergroup chat", {
          migrate_to_chat_id: -100,
        }),
        "migrated",
      ],
      [apiError(403, "Forbidden: bot was blocked by the user"), "chat_gone"],
      [apiError(403, "Forbidden: bot was kicked from the group chat"), "chat_gone"],
      [apiError(400, "Bad Request: chat not found"), "chat_gone"],
      [apiError(400, "Bad Request: can't parse entities: Unsupported start tag"), "bad_markup"],
      [apiError(400, "Bad Request: message is not modified: specified new message content"), "not_modified"],
      [apiError(400, "Bad Request: message to edit not found"), "message_gone"],
      [apiError(400, "Bad Request: message thread not found"), "thread_gone"],
      [apiError(400, "Bad Request: message is too long"), "bad_request"],
      [apiError(502, "Bad Gateway"), "transient"],
      [apiError(401, "Unauthorized"), "transient"],
    ];
    for (const [error, kind] of cases)
      expect([error.description, classifyTelegramError(error).kind]).toEqual([error.description, kind]);
    expect(classifyTelegramError(cases[0]![0])).toMatchObject({ retryAfterSec: 7 });
    expect(classifyTelegramError(cases[1]![0])).toMatchObject({ newChatId: -100 });
  });

  it("tells a network failure from a cancelled call", () => {
    const reset = new HttpError("Network request for 'sendMessage' failed!", new Error("socket hang up"));
    expect(classifyTelegramError(reset)).toMatchObject({ kind: "transient", code: 0 });
    const stopped = new HttpError("Network request for 'sendMessage' failed!", new PacerStoppedError());
    expect(classifyTelegramError(stopped).kind).toBe("stopped");
    expect(classifyTelegramError(new Error("odd")).kind).toBe("transient");
  });
});

describe("classifyTelegramError: chats the bot may not post to", () => {
  it("tells 'you cannot post here' from a chat that is gone", () => {
    const cannotPost = [
      apiError(400, "Bad Request: TOPIC_CLOSED"),
      apiError(400, "Bad Request: not enough rights to send text messages to the chat"),
      apiError(403, "Forbidden: not enough rights to send text messages to the chat"),
      apiError(400, "Bad Request: CHAT_WRITE_FORBIDDEN"),
      apiError(403, "Forbidden: CHAT_WRITE_FORBIDDEN"),
      apiError(400, "Bad Request: CHAT_RESTRICTED"),
      apiError(400, "Bad Request: have no rights to send a message"),
      apiError(400, "Bad Request: need administrator rights in the channel chat"),
      apiError(400, "Bad Request: PEER_ID_INVALID"),
      apiError(400, "Bad Request: group chat was deactivated"),
    ];
    for (const error of cannotPost) {
      expect([error.description, classifyTelegramError(error).kind]).toEqual([
        error.description,
        "cannot_post",
      ]);
    }
    const gone = [
      apiError(403, "Forbidden: bot was blocked by the user"),
      apiError(403, "Forbidden: bot was kicked from the supergroup chat"),
      apiError(403, "Forbidden: the group chat was deleted"),
      apiError(400, "Bad Request: chat not found"),
    ];
    for (const error of gone) {
      expect([error.description, classifyTelegramError(error).kind]).toEqual([
        error.description,
        "chat_gone",
      ]);
    }
  });
});
