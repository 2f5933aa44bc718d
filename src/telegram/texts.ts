// The few texts the bot needs that the shared catalogue (src/i18n) does not have yet. Plain text, like the catalogue.
import type { Locale } from "../config/types.js";
import type { CommandName } from "./commands.js";

export interface BotTexts {
  /** One warning to a person who sends commands faster than the limit; the rest are ignored. */
  tooManyCommands: string;
  /** Early answer to a press while the SIEM is slow; the message edit shows the result. */
  working: string;
  /** Descriptions in the command menus (setMyCommands), 3–256 characters each. */
  commandMenu: Record<CommandName, string>;
}

const ru: BotTexts = {
  tooManyCommands:
    "Слишком много команд подряд. Подождите несколько секунд: пока лишние команды игнорируются.",
  working: "Выполняется… Сообщение обновится, когда SIEM ответит.",
  commandMenu: {
    start: "Подписать этот чат на инциденты",
    id: "Показать id чата и ваш id",
    ping: "Проверить, что бот работает",
    accepted: "Чаты, получающие инциденты",
    accept: "Разрешить чат: /accept <id>",
    deny: "Отключить чат: /deny <id>",
    ban: "Заблокировать чат: /ban <id>",
    unban: "Разблокировать чат: /unban <id>",
    banned: "Заблокированные чаты",
    filter: "Что получает чат: /filter [условия|off]",
    mute: "Тишина: /mute 2h [условия]",
    unmute: "Отменить тишину",
    debug: "Состояние бота и последние строки лога",
    help: "Справка по командам",
    link: "Привязать к учётной записи MP: /link <id> <логин>",
    unlink: "Отвязать от MP: /unlink <id>",
    links: "Привязки Telegram → MP SIEM",
    inc: "Показать инцидент: /inc INC-123",
    open: "Открытые инциденты: /open [high|medium|low]",
    stats: "Сводка: /stats [24h|7d|30d]",
    audit: "Последние действия через бота: /audit [N]",
    report: "Утренний отчёт смены сюда: /report on|off",
  },
};

const en: BotTexts = {
  tooManyCommands: "Too many commands in a row. Wait a few seconds: extra commands are ignored until then.",
  working: "Working on it… The message will update when the SIEM answers.",
  commandMenu: {
    start: "Subscribe this chat to incidents",
    id: "Show this chat's id and yours",
    ping: "Check that the bot is alive",
    accepted: "Chats that receive incidents",
    accept: "Allow a chat: /accept <id>",
    deny: "Stop a chat: /deny <id>",
    ban: "Block a chat: /ban <id>",
    unban: "Unblock a chat: /unban <id>",
    banned: "Blocked chats",
    filter: "What a chat receives: /filter [matchers|off]",
    mute: "Silence for a while: /mute 2h [matchers]",
    unmute: "End the silence",
    debug: "Bot state and the last log lines",
    help: "Command help",
    link: "Link to an MP account: /link <id> <login>",
    unlink: "Unlink from MP: /unlink <id>",
    links: "Telegram → MP SIEM links",
    inc: "Show an incident: /inc INC-123",
    open: "Open incidents: /open [high|medium|low]",
    stats: "Summary: /stats [24h|7d|30d]",
    audit: "Latest actions through the bot: /audit [N]",
    report: "The morning shift report here: /report on|off",
  },
};

export function botTexts(locale: Locale): BotTexts {
  return locale === "en" ? en : ru;
}
