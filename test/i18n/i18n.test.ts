import { describe, expect, it } from "vitest";
import { en, type Messages, pluralRu, ru, t } from "../../src/i18n/index.js";
import {
  ADMIN_COMMANDS,
  LOOKUP_COMMANDS,
  MUTE_COMMANDS,
  PUBLIC_COMMANDS,
  QUERY_COMMANDS,
} from "../../src/telegram/commands.js";

/** Every leaf path of an object: "incident.labels.time", "buttons.refresh"… */
function paths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object") return [prefix];
  return Object.entries(value).flatMap(([k, v]) => paths(v, prefix ? `${prefix}.${k}` : k));
}

const both: [string, Messages][] = [
  ["ru", ru],
  ["en", en],
];

describe("catalogues", () => {
  it("have exactly the same keys (beyond the compile-time check)", () => {
    expect(paths(en).sort()).toEqual(paths(ru).sort());
    expect(paths(ru).length).toBeGreaterThan(80);
  });

  it("t() picks the locale and falls back to Russian", () => {
    expect(t("ru")).toBe(ru);
    expect(t("en")).toBe(en);
    expect(t("de")).toBe(ru);
    expect(t(undefined)).toBe(ru);
  });

  it.each(both)("%s: no text is empty", (_name, m) => {
    for (const path of paths(m)) {
      const value = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], m);
      if (typeof value === "string") expect(value.trim(), path).not.toBe("");
    }
  });

  it.each(both)("%s: no text carries markup (catalogue entries are plain text)", (_name, m) => {
    const samples = [
      ...paths(m).map((p) => p.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], m)),
      m.chats.newChatRequest({
        chat: { id: -100, kind: "group", title: "SOC" },
        by: { id: 1, username: "a" },
      }),
      m.commands.idAnswer({ chatId: 1, threadId: 2, userId: 3 }),
      m.notices.botStarted({ siemUrl: "https://s", chats: 0 }),
    ].filter((v): v is string => typeof v === "string");
    for (const s of samples) expect(s).not.toMatch(/<\/?(b|i|a|code|pre)\b|&(amp|lt|gt);/);
  });
});

describe("Russian plural forms", () => {
  it.each([
    [0, "событий"],
    [1, "событие"],
    [2, "события"],
    [4, "события"],
    [5, "событий"],
    [11, "событий"],
    [12, "событий"],
    [14, "событий"],
    [21, "событие"],
    [22, "события"],
    [25, "событий"],
    [101, "событие"],
    [111, "событий"],
    [1004, "события"],
  ])("%i → %s", (n, form) => {
    expect(pluralRu(n, "событие", "события", "событий")).toBe(form);
    expect(ru.incident.moreEvents(n)).toBe(`…и ещё ${n} ${form}`);
  });

  it("English uses the singular only for one", () => {
    expect(en.incident.moreEvents(1)).toBe("…and 1 more event");
    expect(en.incident.moreEvents(21)).toBe("…and 21 more events");
    expect(en.incident.eventCount(0)).toBe("0 events");
  });

  it("digest headers agree with the number", () => {
    expect([1, 3, 5, 21, 22, 111].map(ru.notices.digestHeader)).toEqual([
      "1 новый инцидент",
      "3 новых инцидента",
      "5 новых инцидентов",
      "21 новый инцидент",
      "22 новых инцидента",
      "111 новых инцидентов",
    ]);
    expect([1, 2].map(en.notices.digestHeader)).toEqual(["1 new incident", "2 new incidents"]);
  });

  it("the mute-end line agrees with the number, the verb too", () => {
    expect([0, 1, 3, 5, 11, 21, 22].map(ru.routing.muteEnded)).toEqual([
      "🔔 Тишина закончилась: за это время инцидентов не было.",
      "🔔 Тишина закончилась: за это время без звука пришёл 1 инцидент.",
      "🔔 Тишина закончилась: за это время без звука пришли 3 инцидента.",
      "🔔 Тишина закончилась: за это время без звука пришло 5 инцидентов.",
      "🔔 Тишина закончилась: за это время без звука пришло 11 инцидентов.",
      "🔔 Тишина закончилась: за это время без звука пришёл 21 инцидент.",
      "🔔 Тишина закончилась: за это время без звука пришли 22 инцидента.",
    ]);
    expect([0, 1, 2].map(en.routing.muteEnded)).toEqual([
      "🔔 The mute is over: no incidents arrived during it.",
      "🔔 The mute is over: 1 incident arrived silently during it.",
      "🔔 The mute is over: 2 incidents arrived silently during it.",
    ]);
  });
});

describe("incident words", () => {
  it("names the statuses, keeping unknown ones verbatim", () => {
    const statuses = ["New", "Approved", "InProgress", "Resolved", "Closed"];
    expect(statuses.map(ru.incident.status)).toEqual(["Новый", "Подтверждён", "В работе", "Решён", "Закрыт"]);
    expect(statuses.map(en.incident.status)).toEqual([
      "New",
      "Approved",
      "In progress",
      "Resolved",
      "Closed",
    ]);
    expect(ru.incident.status("closed")).toBe("Закрыт");
    expect(ru.incident.status("Reopened")).toBe("Reopened");
    expect(en.incident.status("")).toBe("—");
  });

  it("names the severities, keeping unknown ones verbatim", () => {
    expect(["High", "Medium", "Low", "Critical", ""].map(ru.incident.severity)).toEqual([
      "Высокая",
      "Средняя",
      "Низкая",
      "Critical",
      "—",
    ]);
    expect(["high", "Medium", "LOW"].map(en.incident.severity)).toEqual(["High", "Medium", "Low"]);
  });

  it("writes action lines", () => {
    expect(ru.incident.actionLine({ status: "Approved", by: "@ivan", time: "12:03" })).toBe(
      "Подтверждён: @ivan в 12:03",
    );
    expect(ru.incident.actionLine({ status: "Closed", by: "@ivan", time: "12:03" })).toBe(
      "Закрыт: @ivan в 12:03",
    );
    expect(en.incident.actionLine({ status: "Approved", by: "@ivan", time: "12:03" })).toBe(
      "Approved by @ivan at 12:03",
    );
    expect(en.incident.actionLine({ status: "Closed", by: "@ivan", time: "12:03" })).toBe(
      "Closed by @ivan at 12:03",
    );
    expect(en.incident.actionLine({ status: "InProgress", by: "@ivan", time: "12:03" })).toBe(
      "Moved to In progress by @ivan at 12:03",
    );
    expect(ru.incident.changedInSiem("12:03")).toBe("Статус изменён в SIEM в 12:03");
    expect(en.incident.changedInSiem("12:03")).toBe("Status changed in the SIEM at 12:03");
  });
});

describe("Telegram texts", () => {
  it("describes every kind of chat with its name and id", () => {
    expect(ru.chats.describe({ id: -1001, kind: "supergroup", title: "SOC", username: "soc_team" })).toBe(
      "супергруппа «SOC» (@soc_team), id -1001",
    );
    expect(
      ru.chats.describe({ id: 42, kind: "private", firstName: "Иван", lastName: "Петров", username: "ivan" }),
    ).toBe("личный чат Иван Петров (@ivan), id 42");
    expect(en.chats.describe({ id: -5, kind: "group", title: "Night\nshift" })).toBe(
      "group “Night shift”, id -5",
    );
    expect(en.chats.describe({ id: -1002, kind: "channel" })).toBe("channel, id -1002");
    expect(
      ru.chats.describe({ id: -1003, kind: "topic", threadId: 7, title: "SOC", topicTitle: "Alerts" }),
    ).toBe("тема форума «Alerts» в «SOC», id -1003, тема 7");
    expect(
      en.chats.describe({ id: -1003, kind: "topic", threadId: 7, title: "SOC", topicTitle: "Alerts" }),
    ).toBe("forum topic “Alerts” in “SOC”, id -1003, topic 7");
  });

  it("asks the admins about a new chat, naming who added the bot", () => {
    const text = ru.chats.newChatRequest({
      chat: { id: -1001, kind: "group", title: "SOC" },
      by: { id: 42, username: "ivan", firstName: "Иван" },
    });
    expect(text).toBe(
      "Новый чат просит присылать инциденты:\nгруппа «SOC», id -1001\nКто: Иван (@ivan), id 42\nРазрешить отправку инцидентов в этот чат?",
    );
    // In a private chat the person is the chat: not named twice.
    const own = en.chats.newChatRequest({
      chat: { id: 42, kind: "private", username: "ivan" },
      by: { id: 42 },
    });
    expect(own).not.toContain("Who:");
    expect(own).toContain("private chat @ivan, id 42");
  });

  it("records the decision on the request", () => {
    expect(ru.chats.requestDecision({ decision: "allow", by: "@admin", time: "12:03" })).toBe(
      "Разрешено: @admin, 12:03",
    );
    expect(ru.chats.requestDecision({ decision: "block", by: "@admin", time: "12:03" })).toBe(
      "Заблокировано: @admin, 12:03",
    );
    expect(en.chats.requestDecision({ decision: "ignore", by: "@admin", time: "12:03" })).toBe(
      "Ignored: @admin, 12:03",
    );
  });

  it("explains command usage with glued and spaced examples", () => {
    for (const command of ["accept", "deny", "ban", "unban"] as const) {
      for (const m of [ru, en]) {
        const usage = m.commands.usage(command);
        expect(usage).toContain(`/${command}-1001234567890`);
        expect(usage).toContain(`/${command} 123456789`);
      }
    }
  });

  it("lists chats with kind, since when and whether active", () => {
    const chat = { id: -1001, kind: "group" as const, title: "SOC" };
    expect(ru.commands.listLine({ chat, since: "12.03.2024 09:12:00", active: true })).toBe(
      "• группа «SOC», id -1001, с 12.03.2024 09:12:00 — активен",
    );
    expect(en.commands.listLine({ chat, since: "2024-03-12", active: false })).toBe(
      "• group “SOC”, id -1001, since 2024-03-12 — inactive (bot removed or blocked)",
    );
    expect(en.commands.listLine({ chat, since: "2024-03-12" })).toBe(
      "• group “SOC”, id -1001, since 2024-03-12",
    );
  });

  it("help lists the contract commands", () => {
    for (const m of [ru, en]) {
      // Every command an admin may use, so a new one cannot be left out of the help.
      for (const c of [
        ...ADMIN_COMMANDS,
        ...PUBLIC_COMMANDS,
        ...MUTE_COMMANDS,
        ...LOOKUP_COMMANDS,
        ...QUERY_COMMANDS,
      ]) {
        if (c === "start") continue;
        expect(m.commands.helpAdmin).toContain(`/${c}`);
      }
      expect(m.commands.helpUser).toContain("/inc");
      expect(m.commands.helpUser).toContain("/ping");
      for (const c of ["/open", "/stats", "/report"]) expect(m.commands.helpUser).toContain(c);
      expect(m.commands.helpUser).not.toContain("/accept");
    }
  });

  it("answers /id and /ping", () => {
    expect(ru.commands.idAnswer({ chatId: -1001, threadId: 7, userId: 42 })).toBe(
      "Id этого чата: -1001\nId темы: 7\nВаш id: 42",
    );
    expect(en.commands.idAnswer({ chatId: 42 })).toBe("This chat's id: 42");
    expect(ru.commands.pingAnswer(ru.formatDuration(7_500_000))).toContain("2 ч 5 мин");
  });

  it("a bad chat id is quoted, shortened and on one line", () => {
    const text = ru.commands.invalidChatId(`abc\n${"x".repeat(500)}`);
    expect(text.startsWith("«abc xxx")).toBe(true);
    expect(text.length).toBeLessThan(200);
  });
});

describe("action answers", () => {
  it.each(both)("%s: every answer fits answerCallbackQuery's 200 characters", (_name, m) => {
    const answers = [
      m.actions.approved,
      m.actions.closed,
      m.actions.refreshed,
      m.actions.cancelled,
      m.actions.notAllowed,
      m.actions.unknownButton,
      m.actions.busy,
      m.actions.confirmClose,
      m.actions.failed("x".repeat(10_000)),
      m.actions.failed("😀".repeat(10_000)),
      m.actions.alreadyChanged("y".repeat(10_000)),
    ];
    for (const a of answers) expect(a.length).toBeLessThanOrEqual(200);
  });

  it("failed keeps the reason, already-changed names the status in words", () => {
    expect(ru.actions.failed("SIEM answered 500")).toBe("Не получилось: SIEM answered 500");
    expect(ru.actions.alreadyChanged("Closed")).toBe("Инцидент уже изменили: сейчас «Закрыт»");
    expect(en.actions.alreadyChanged("InProgress")).toBe("Someone changed it first: now “In progress”");
  });

  it("writes the SIEM comment with who did it", () => {
    expect(ru.siemComment.approveMessage("@ivan (42)")).toBe(
      "Инцидент подтверждён пользователем @ivan (42) через Telegram-бот.",
    );
    expect(en.siemComment.closeMessage("@ivan (42)")).toBe(
      "Incident closed by @ivan (42) via the Telegram bot.",
    );
  });
});

describe("service notices", () => {
  it("says which SIEM the bot watches at start", () => {
    expect(ru.notices.botStarted({ siemUrl: "https://siem.local", siemVersion: "26.1.7351", chats: 3 })).toBe(
      "Бот запущен и следит за SIEM https://siem.local (версия 26.1.7351). Чатов в рассылке: 3.",
    );
    expect(en.notices.botStarted({ siemUrl: "https://siem.local", chats: 0 })).toContain(
      "No chat receives incidents",
    );
  });

  it("reports an outage and the recovery", () => {
    expect(ru.notices.siemDown({ since: "12:03", reason: "connect ECONNREFUSED" })).toContain(
      "SIEM недоступен с 12:03: connect ECONNREFUSED",
    );
    expect(en.notices.siemRecovered({ downFor: en.formatDuration(300_000), caughtUp: 1 })).toBe(
      "✅ The SIEM is back (down for 5m). Caught up on 1 missed incident.",
    );
    expect(ru.notices.siemRecovered({ downFor: "5 мин", caughtUp: 0 })).toContain(
      "Новых инцидентов за это время не было",
    );
  });

  it("formats durations with the two largest units", () => {
    expect(ru.formatDuration(0)).toBe("0 с");
    expect(ru.formatDuration(45_000)).toBe("45 с");
    expect(ru.formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000)).toBe("3 д 4 ч");
    expect(en.formatDuration(3_660_000)).toBe("1h 1m");
    expect(en.formatDuration(Number.NaN)).toBe("0s");
  });
});
