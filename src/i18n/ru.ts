// Russian, the default locale. Every entry is plain text (see messages.ts).

import type { AdminChatCommand, ChatKind, ChatRef, Messages } from "./messages.js";
import { formatDurationWith, pluralRu } from "./plural.js";
import { routingRu } from "./routing-ru.js";
import { chatName, clipPlain, inline, personName } from "./shared.js";
import { workflowRu } from "./workflow-ru.js";

const EMPTY = "—";

const SEVERITY: Record<string, string> = { high: "Высокая", medium: "Средняя", low: "Низкая" };
const STATUS: Record<string, string> = {
  new: "Новый",
  approved: "Подтверждён",
  inprogress: "В работе",
  resolved: "Решён",
  closed: "Закрыт",
};
const KIND: Record<ChatKind, string> = {
  private: "личный чат",
  group: "группа",
  supergroup: "супергруппа",
  channel: "канал",
  topic: "тема форума",
};
const COMMAND_PURPOSE: Record<AdminChatCommand, string> = {
  accept: "добавить чат в рассылку инцидентов",
  deny: "убрать чат из рассылки",
  ban: "заблокировать чат: бот перестанет ему отвечать",
  unban: "снять блокировку с чата",
};

function lookup(table: Record<string, string>, raw: string): string {
  const known = table[raw.trim().toLowerCase()];
  if (known) return known;
  return raw.trim() === "" ? EMPTY : raw;
}

const status = (raw: string) => lookup(STATUS, raw);
const quote = (s: string) => `«${s}»`;

function describe(chat: ChatRef): string {
  const name = chatName(chat, quote, "в");
  const topic = chat.kind === "topic" && chat.threadId != null ? `, тема ${chat.threadId}` : "";
  return `${KIND[chat.kind] ?? chat.kind}${name ? ` ${name}` : ""}, id ${chat.id}${topic}`;
}

function person(p: { id: number; username?: string; firstName?: string; lastName?: string }): string {
  const name = personName(p);
  return name ? `${name}, id ${p.id}` : `id ${p.id}`;
}

const events = (n: number) => `${n} ${pluralRu(n, "событие", "события", "событий")}`;

export const ru: Messages = {
  locale: "ru",
  empty: EMPTY,
  formatDuration: (ms) => formatDurationWith(ms, { d: " д", h: " ч", m: " мин", s: " с" }),

  incident: {
    title: (key) => `Инцидент ${key}`,
    labels: {
      time: "Время",
      severity: "Опасность",
      type: "Тип",
      name: "Название",
      status: "Статус",
      description: "Описание",
      events: "События",
    },
    openInSiem: "Открыть в SIEM",
    severity: (raw) => lookup(SEVERITY, raw),
    status,
    moreEvents: (n) => `…и ещё ${events(n)}`,
    eventCount: events,
    noEvents: "Событий нет",
    actionLine: ({ status: to, by, time }) => `${status(to)}: ${by} в ${time}`,
    changedInSiem: (time) => `Статус изменён в SIEM в ${time}`,
    silent: "🔕 без звука",
  },

  buttons: {
    refresh: "🔄 Обновить",
    approve: "▶️ Подтвердить",
    close: "⏹ Закрыть",
    closeYes: "✅ Да, закрыть",
    closeNo: "↩️ Отмена",
    allow: "✅ Разрешить",
    ignore: "💤 Проигнорировать",
    block: "⛔ Заблокировать",
  },

  chats: {
    kind: (kind) => KIND[kind] ?? kind,
    describe,
    person,
    newChatRequest: ({ chat, by }) =>
      [
        "Новый чат просит присылать инциденты:",
        describe(chat),
        ...(by && by.id !== chat.id ? [`Кто: ${person(by)}`] : []),
        "Разрешить отправку инцидентов в этот чат?",
      ].join("\n"),
    requestDecision: ({ decision, by, time }) =>
      `${{ allow: "Разрешено", ignore: "Проигнорировано", block: "Заблокировано" }[decision]}: ${by}, ${time}`,
    allowed: "✅ Сюда будут приходить инциденты MaxPatrol SIEM.",
    denied: "Инциденты сюда больше не приходят: администратор отключил рассылку.",
    banned: "Этот чат заблокирован администратором бота.",
    pending: "Запрос отправлен администраторам. Инциденты начнут приходить, когда они разрешат.",
    alreadySubscribed: "Этот чат уже получает инциденты.",
    alreadyAsked: "Запрос уже отправлен администраторам и ждёт их решения. Повторять его не нужно.",
    tooManyRequests:
      "Запрос не отправлен: несколько ваших запросов уже ждут решения администраторов. Попробуйте позже.",
  },

  commands: {
    notAllowed: "Этот чат не подключён к рассылке. Отправьте /start, чтобы попросить доступ.",
    adminsOnly: "Эта команда только для администраторов бота.",
    usage: (command) =>
      `/${command} <id чата> — ${COMMAND_PURPOSE[command]}. Например: /${command}-1001234567890 или /${command} 123456789`,
    invalidChatId: (raw) =>
      `«${inline(raw, 64)}» — не id чата. Id — целое число, например 123456789 или -1001234567890.`,
    acceptDone: (chat) => `Чат добавлен в рассылку: ${chat}`,
    denyDone: (chat) => `Чат убран из рассылки: ${chat}`,
    banDone: (chat) => `Чат заблокирован: ${chat}`,
    unbanDone: (chat) => `Чат разблокирован: ${chat}`,
    notInList: (chat) => `Такого чата нет в списке: ${chat}`,
    acceptedTitle: (count) => `Чаты в рассылке (${count}):`,
    bannedTitle: (count) => `Заблокированные чаты (${count}):`,
    listLine: ({ chat, since, active, inactiveReason, routing }) =>
      `• ${describe(chat)}, с ${since}${
        active === undefined
          ? ""
          : active
            ? " — активен"
            : inactiveReason
              ? ` — неактивен, не получает: ${inline(inactiveReason, 200)}`
              : " — неактивен (бот удалён или заблокирован)"
      }${routing ? `\n${routing}` : ""}`,
    acceptedEmpty: "В рассылке нет ни одного чата. Добавьте чат: /accept <id> или кнопка «Разрешить».",
    bannedEmpty: "Заблокированных чатов нет.",
    helpAdmin: [
      "Команды администратора:",
      "/accepted — чаты, куда приходят инциденты",
      "/accept <id> — добавить чат в рассылку",
      "/deny <id> — убрать чат из рассылки",
      "/ban <id> — заблокировать чат",
      "/unban <id> — снять блокировку",
      "/banned — заблокированные чаты",
      "/filter — что получает чат; /filter severity>=high — только это; /filter off — снова всё",
      "/mute 2h [условия] — инциденты приходят без звука; /mute — список; /unmute — снова со звуком",
      "/inc INC-123 (или /inc 123, /inc_123) — карточка инцидента с кнопками, из SIEM",
      "/open [high|medium|low] — открытые инциденты из SIEM, по 10 на странице",
      "/stats [24h|7d|30d] — сводка: сколько, какие, как быстро реагировали",
      "/audit [N] — последние N действий через бота (ответ в личку)",
      "/report on|off — утренний отчёт смены в этот чат (время — BOT_REPORT_AT)",
      "/link <id> <логин MP> — привязать пользователя Telegram к учётной записи MP (для «В работу»)",
      "/unlink <id> — отвязать; /links — все привязки",
      "/debug — состояние бота и последние строки лога",
      "/ping — проверить, что бот на связи",
      "/id — id этого чата",
      "/help — эта справка",
      "",
      "Id можно писать слитно: /accept-1001234567890.",
    ].join("\n"),
    helpUser: [
      "Бот присылает сюда инциденты MaxPatrol SIEM.",
      "Кнопки под инцидентом следуют его статусу: «Подтвердить», «В работу», «Решён», «Закрыть» (с причиной); «Обновить» перечитывает его из SIEM.",
      "",
      "/inc INC-123 (или /inc 123, /inc_123 из сводки) — карточка инцидента с кнопками",
      "/open [high|medium|low] — открытые инциденты; /stats [24h|7d|30d] — сводка",
      "/report on|off — утренний отчёт смены в этот чат",
      "/ping — проверить, что бот на связи",
      "/id — id этого чата",
      "/help — эта справка",
      "В своём личном чате с ботом: /mute 2h — инциденты 2 часа приходят без звука; /unmute — снова со звуком.",
    ].join("\n"),
    idAnswer: ({ chatId, threadId, userId }) =>
      [
        `Id этого чата: ${chatId}`,
        ...(threadId != null ? [`Id темы: ${threadId}`] : []),
        ...(userId != null ? [`Ваш id: ${userId}`] : []),
      ].join("\n"),
    pingAnswer: (uptime) => `Бот на связи. Работает без перезапуска: ${uptime}.`,
    answeredInPrivate: "Ответ отправлен вам в личный чат с ботом.",
    doneAnsweredInPrivate: "Готово. Подробности — в вашем личном чате с ботом.",
    privateChatNeeded: ({ bot, done }) =>
      done
        ? `Готово. Подробности бот показывает только в личном чате, но написать вам туда не может: откройте чат с @${bot} и нажмите «Старт».`
        : `Этот ответ бот показывает только в личном чате, но написать вам туда не может: откройте чат с @${bot}, нажмите «Старт» и повторите команду.`,
    privateAnswerFailed: ({ done }) =>
      done
        ? "Готово, но подробности в личный чат отправить не удалось."
        : "Не удалось отправить ответ в личный чат. Повторите команду позже.",
  },

  actions: {
    approved: "Инцидент подтверждён",
    closed: "Инцидент закрыт",
    refreshed: "Обновлено",
    cancelled: "Закрытие отменено",
    notAllowed: "У вас нет прав менять инциденты",
    failed: (reason) => `Не получилось: ${clipPlain(inline(reason, 400) || EMPTY, 180)}`,
    alreadyChanged: (current) => `Инцидент уже изменили: сейчас «${inline(status(current), 64)}»`,
    unknownButton: "Кнопка устарела. Обновите сообщение или откройте инцидент в SIEM.",
    busy: "Предыдущее действие ещё выполняется, подождите",
    confirmClose: "Закрыть инцидент как ложное срабатывание? Нажмите «Да, закрыть» или «Отмена».",
    tooManyPresses: "Слишком много нажатий подряд: это не выполнено. Подождите несколько секунд.",
    offlinePress: (downFor) =>
      `Бот был недоступен (${downFor}), нажатие не выполнено. Нажмите ещё раз, если действие нужно.`,
    offlinePressNotice: ({ who, downFor }) =>
      `${who}: бот был недоступен (${downFor}), поэтому нажатия кнопок, сделанные за это время, не выполнены. Если действие ещё нужно, нажмите кнопку ещё раз.`,
  },

  siemComment: {
    approveMeasures: "Инцидент подтверждён через Telegram-бот.",
    approveMessage: (who) => `Инцидент подтверждён пользователем ${who} через Telegram-бот.`,
    closeMeasures: "Инцидент закрыт через Telegram-бот.",
    closeMessage: (who) => `Инцидент закрыт пользователем ${who} через Telegram-бот.`,
  },

  notices: {
    botStarted: ({ siemUrl, siemVersion, chats, tookOver }) =>
      (tookOver ? `Экземпляр ${tookOver.instance} принял работу у ${tookOver.from}. ` : "") +
      `Бот запущен и следит за SIEM ${siemUrl}${siemVersion ? ` (версия ${siemVersion})` : ""}. ` +
      (chats > 0
        ? `Чатов в рассылке: ${chats}.`
        : "В рассылке пока нет чатов: отправьте /start в нужном чате или /accept <id>."),
    botRemoved: (chat) => `Бота удалили из чата или заблокировали: ${chat}. Отправка туда приостановлена.`,
    chatMigrated: ({ chat, fromId, toId }) =>
      `Группа стала супергруппой: ${chat}. Id ${fromId} → ${toId}, рассылка перенесена.`,
    chatInactive: ({ chat, reason }) =>
      `Чат перестал принимать сообщения: ${chat}. Причина: ${inline(reason, 300) || EMPTY}. Отправка туда приостановлена.`,
    chatPaused: ({ chat, chatId, reason }) =>
      `Боту запрещено писать в ${chat}: ${inline(reason, 300) || EMPTY}. Отправка туда приостановлена, ` +
      `неотправленные инциденты сохранены. Когда бот снова сможет там писать, отправьте /accept ${chatId}, чтобы доставить их.`,
    siemDown: ({ since, reason }) =>
      `⚠️ SIEM недоступен с ${since}: ${inline(reason, 300) || EMPTY}. Продолжаю попытки и сообщу, когда связь вернётся.`,
    siemRecovered: ({ downFor, caughtUp }) =>
      `✅ SIEM снова доступен (перерыв ${downFor}). ` +
      (caughtUp > 0
        ? `Получено пропущенных инцидентов: ${caughtUp}.`
        : "Новых инцидентов за это время не было."),
    digestHeader: (count) =>
      `${count} ${pluralRu(count, "новый инцидент", "новых инцидента", "новых инцидентов")}`,
  },

  routing: routingRu,
  workflow: workflowRu,

  debug: {
    title: "Состояние бота",
    version: "Версия",
    uptime: "Работает",
    siemUrl: "SIEM",
    siemVersion: "Версия SIEM",
    siemState: "Связь с SIEM",
    siemOk: "в порядке",
    siemDown: "нет связи",
    lastPoll: "Последний опрос",
    watermark: "Инциденты прочитаны до",
    incidentsSeen: "Инцидентов получено",
    chatsAllowed: "Чатов в рассылке",
    chatsInactive: "Неактивных чатов",
    chatsBanned: "Заблокировано чатов",
    outboxPending: "Ждут отправки",
    outboxFailed: "Не удалось отправить",
    lastError: "Последняя ошибка",
    logTail: "Последние строки лога",
    never: "ещё не было",
    none: "нет",
  },
};
