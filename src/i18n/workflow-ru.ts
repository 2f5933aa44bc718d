// Russian texts for working an incident from the chat (design.md §4). Plain text.

import { inline } from "./shared.js";
import type { BotActionKind, CloseReasonKey, WorkflowMessages } from "./workflow-messages.js";

const REASON: Record<CloseReasonKey, string> = {
  false_positive: "ложное срабатывание",
  duplicate: "дубликат",
  authorised: "тест или разрешённая активность",
  other: "другая причина",
};

const ACTION: Record<BotActionKind, string> = {
  approve: "подтвердил",
  take: "взял в работу",
  resolve: "отметил решённым",
  close: "закрыл",
};

const STATUS: Record<string, string> = {
  New: "Новый",
  Approved: "Подтверждён",
  InProgress: "В работе",
  Resolved: "Решён",
  Closed: "Закрыт",
};
const statusWord = (raw: string) => STATUS[raw] ?? inline(raw, 64);

export const workflowRu: WorkflowMessages = {
  buttons: {
    take: "🛠 В работу",
    resolve: "✔️ Решён",
    closeDuplicate: "📑 Дубликат",
    closeAuthorised: "🧪 Тест / разрешено",
    closeOther: "📝 Другое",
  },
  closeReason: (reason) => REASON[reason],
  confirmClose: "Закрыть инцидент? «Да, закрыть» — ложное срабатывание; или выберите другую причину.",
  answers: {
    taken: (login) => `Инцидент в работе и назначен на ${inline(login, 64)}`,
    takenNotLinked: (id) =>
      `Инцидент в работе, но не назначен: ваш Telegram (${id}) не привязан к учётной записи MP. Попросите администратора: /link ${id} <логин MP>`,
    takenAssignFailed: (reason) => `Инцидент в работе, но назначить не получилось: ${inline(reason, 120)}`,
    resolved: "Инцидент отмечен решённым",
    closed: (reason) => `Инцидент закрыт: ${REASON[reason]}`,
    raced: ({ status, by, time }) =>
      `Не выполнено: инцидент уже «${statusWord(status)}»${by ? ` (${inline(by, 60)}${time ? `, ${time}` : ""})` : time ? ` (${time})` : ""}. Карточка обновлена.`,
  },
  siemComment: {
    takeMeasures: "Инцидент взят в работу через Telegram-бот.",
    takeMessage: (who) => `Инцидент взят в работу пользователем ${who} через Telegram-бот.`,
    resolveMeasures: "Инцидент решён через Telegram-бот.",
    resolveMessage: (who) => `Инцидент отмечен решённым пользователем ${who} через Telegram-бот.`,
    closeMeasures: "Инцидент закрыт через Telegram-бот.",
    closeMessage: (who, reason) =>
      `Инцидент закрыт пользователем ${who} через Telegram-бот. Причина: ${REASON[reason]}.`,
  },
  card: {
    assignee: "Ответственный",
    rules: "Правила корреляции",
    targets: "Цели",
    attackers: "Источники",
    andMore: (n) => `и ещё ${n}`,
    history: "Действия через бота",
    historyLine: ({ time, who, action, reason }) =>
      `${time} ${who}: ${ACTION[action]}${reason ? ` (${REASON[reason]})` : ""}`,
  },
  links: {
    usageLink:
      "Привязка пользователя Telegram к учётной записи MP SIEM (для «В работу» с назначением): /link <id пользователя Telegram> <логин MP>, например /link 123456789 ivanov. Список: /links; отвязать: /unlink <id>.",
    usageUnlink:
      "Отвязать пользователя: /unlink <id пользователя Telegram>, например /unlink 123456789. Список: /links.",
    badTelegramId: (raw) =>
      `«${inline(raw, 40)}» — не id пользователя Telegram: нужно положительное число (его показывает /id). Ничего не изменено.`,
    badLogin: (raw) =>
      `«${inline(raw, 40)}» — не логин MP: до 128 букв, цифр и знаков . _ @ \\ -. Ничего не изменено.`,
    loginNotFound: (login) =>
      `В MP SIEM нет пользователя с логином «${inline(login, 64)}». Проверьте логин (как при входе в MP SIEM). Ничего не изменено.`,
    lookupFailed: (reason) =>
      `Не удалось проверить логин в MP SIEM: ${inline(reason, 200)}. Ничего не изменено, повторите позже.`,
    linked: ({ telegramId, login, replaced }) =>
      `Пользователь ${telegramId} привязан к учётной записи MP «${inline(login, 64)}»${replaced ? ` (вместо «${inline(replaced, 64)}»)` : ""}. «В работу» теперь назначает инцидент на неё.`,
    unlinked: (id, login) => `Пользователь ${id} отвязан от учётной записи MP «${inline(login, 64)}».`,
    notLinked: (id) => `Пользователь ${id} не привязан ни к какой учётной записи MP. Список: /links.`,
    listTitle: "Привязки Telegram → MP SIEM:",
    listEmpty: "Привязок нет. Добавить: /link <id пользователя Telegram> <логин MP>.",
    listLine: ({ telegramId, telegramName, mpLogin, by, at }) =>
      `• ${telegramId}${telegramName ? ` (${inline(telegramName, 64)})` : ""} → ${inline(mpLogin, 64)} — ${inline(by, 64)}, ${at}`,
  },
};
