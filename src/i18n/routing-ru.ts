// Русские тексты маршрутизации и тишины (/filter, /mute, /unmute, /accepted). Только обычный текст.

import type { MatcherProblem, RegexProblem } from "../routing/index.js";
import type { FilterView, RoutingMessages } from "./messages.js";
import { pluralRu } from "./plural.js";
import { inline } from "./shared.js";

const what = (filter: string) => (filter === "" ? "всё" : filter === "none" ? "ничего" : filter);
const where = (topic: number | null) => (topic === null ? "основная ветка" : `тема ${topic}`);
const subject = (chat: string | null) => chat ?? "Этот чат";
const about = (chat: string | null) => (chat === null ? "этом чате" : chat);

function destination(d: FilterView, withPlace: boolean): string {
  const parts = [`${withPlace ? `${where(d.topic)}: ` : ""}${what(d.filter)}`];
  if (d.silent) parts.push(`без звука, если ${d.silent}`);
  if (d.activeHours && d.activeHours.length > 0) parts.push(`со звуком только ${d.activeHours.join(", ")}`);
  return parts.join("; ");
}

function destinations(list: FilterView[]): string[] {
  if (list.length === 0) return ["• всё"];
  const single = list.length === 1 && list[0]!.topic === null;
  return list.map((d) => `• ${destination(d, !single)}`);
}

function regexProblem(p: RegexProblem): string {
  switch (p.kind) {
    case "syntax":
      return `это не регулярное выражение (${p.detail})`;
    case "too-long":
      return `регулярное выражение длиннее ${p.max} символов`;
    case "backreference":
      return "обратные ссылки (\\1, \\k<name>) в регулярных выражениях не разрешены";
    case "lookaround":
      return "проверки вперёд и назад ((?=…), (?!…), (?<=…), (?<!…)) не разрешены";
    case "nested-repeat":
      return "повторяемая группа не может сама содержать повторение, как (a+)+: такое выражение может проверяться очень долго";
    case "repeated-alternation":
      return "группу с вариантами нельзя повторять, как (a|ab)*: такое выражение может проверяться очень долго";
    case "too-many-repeats":
      return p.open
        ? `не больше ${p.max} неограниченных повторений (*, +, {n,}) в одном выражении`
        : `не больше ${p.max} повторений (*, +, ?, {n,m}) в одном выражении`;
  }
}

function matcherProblem(p: MatcherProblem): string {
  switch (p.kind) {
    case "not-a-matcher":
      return 'это не условие: пишите ПОЛЕ ОПЕРАТОР ЗНАЧЕНИЕ, например severity>=high или name=~"^Web_.*"';
    case "unknown-field":
      return `неизвестное поле «${inline(p.field, 40)}»: используйте severity, type, category, name, rule`;
    case "no-operator":
      return `после «${inline(p.field, 40)}» нет оператора: используйте =, !=, =~, !~ (и >=, <=, >, < для severity) без пробелов вокруг`;
    case "no-value":
      return 'нет значения после оператора (пустое значение пишется как "")';
    case "unterminated-quote":
      return "у значения в кавычках нет закрывающей кавычки";
    case "text-after-quote":
      return "текст сразу после закрывающей кавычки: разделяйте условия пробелом";
    case "stray-quote":
      return 'кавычка внутри значения без кавычек: возьмите всё значение в кавычки, а кавычку внутри пишите как \\"';
    case "ordering-not-severity":
      return `${p.op} сравнивает только уровни опасности (severity); для ${p.field} используйте =, !=, =~ или !~`;
    case "bad-severity":
      return `«${inline(p.value, 40)}» — не уровень опасности: используйте low, medium, high (в любом регистре) или низкая, средняя, высокая`;
    case "bad-regex":
      return regexProblem(p.problem);
    case "too-many":
      return `не больше ${p.max} условий`;
    case "value-too-long":
      return `значение длиннее ${p.max} символов`;
  }
}

export const routingRu: RoutingMessages = {
  matcherProblem,
  badMatchers: ({ matcher, problem }) => `Условие «${inline(matcher, 80)}»: ${problem}. Ничего не изменено.`,
  filterUsage: [
    "/filter — что получает этот чат",
    "/filter УСЛОВИЯ — только то, что им подходит, например /filter severity>=high type=Network",
    "/filter off — снова всё (в теме форума: тема перестаёт получать инциденты отдельно)",
    "/filter none — ничего в основную ветку (получают только темы)",
    "",
    "Условие — ПОЛЕ ОПЕРАТОР ЗНАЧЕНИЕ без пробелов вокруг оператора. Поля: severity (опасность), type, category, " +
      "name, rule (правило корреляции). Операторы: =, !=, =~, !~ (регулярное выражение на всё значение) и " +
      '>=, <=, >, < для severity (low < medium < high, можно по-русски: низкая, средняя, высокая). Значение с пробелами — в кавычках: name="Port scan". Должны выполняться все условия.',
    "В теме форума /filter делает эту тему отдельным адресатом со своим фильтром; темы проверяются в порядке " +
      "добавления, основная ветка — последней, инцидент получает первая подходящая.",
    "Для другого чата добавьте его id: /filter-1001234567890 severity>=high",
  ].join("\n"),
  filterShow: ({ chat, managedByConfig, destinations: list }) =>
    [
      `${subject(chat)} получает${list.length > 1 ? " (проверяется в этом порядке)" : ""}:`,
      ...destinations(list),
      ...(managedByConfig ? ["Управляется конфигурацией: маршруты заданы в файле настроек."] : []),
    ].join("\n"),
  filterSet: ({ chat, topic, filter }) =>
    topic === null
      ? `${subject(chat)} теперь получает: ${what(filter)}.`
      : `Тема ${topic}${chat ? ` (${chat})` : ""} теперь получает: ${what(filter)}. ` +
        "Темы проверяются в порядке добавления, основная ветка — последней.",
  filterCleared: ({ chat, topic }) =>
    topic === null
      ? `${subject(chat)} снова получает всё.`
      : `Тема ${topic} больше не получает инциденты отдельно: они идут по остальным фильтрам чата.`,
  filterNothingToClear: ({ chat, topic }) =>
    topic === null
      ? `У ${chat ?? "этого чата"} нет фильтра: он получает всё.`
      : `У темы ${topic} нет своего фильтра.`,
  managedByConfig: (chat) =>
    `${subject(chat)} управляется конфигурацией: маршруты заданы в файле настроек (routes:) и из Telegram не меняются.`,
  notReceiving: (chat) => `${subject(chat)} не получает инциденты. Сначала разрешите его: /accept <id>.`,
  muteUsage: [
    "/mute 2h — инциденты приходят сюда 2 часа, но без звука",
    "/mute 30m severity<=medium — без звука только то, что подходит под условия",
    "/mute 1d type=Scan -- плановое сканирование — комментарий после --",
    "/mute — какие режимы тишины действуют здесь; /unmute — отменить все",
    "Длительность: 30m, 2h, 1d, не больше 7d. В теме форума тишина действует только на эту тему.",
  ].join("\n"),
  muteNotAllowed:
    "Включать тишину в чате могут только администраторы бота; в своём личном чате с ботом — и вы сами.",
  badDuration: ({ raw, max }) =>
    `«${inline(raw, 40)}» — не длительность вроде 30m, 2h или 1d (не больше ${max}).`,
  muteDone: ({ chat, topic, until, duration, matchers, comment }) =>
    `🔕 Тишина в ${about(chat)}${topic !== null ? `, тема ${topic},` : ""} до ${until} (${duration})` +
    `${matchers ? ` для: ${matchers}` : ""}. Инциденты по-прежнему приходят, но без звука. /unmute — отменить.` +
    (comment ? ` Комментарий: ${inline(comment, 200)}` : ""),
  tooManyMutes: (max) =>
    `В одном чате может действовать не больше ${max} режимов тишины. Сначала отмените их: /unmute.`,
  muteList: ({ chat, mutes }) =>
    [
      `Режимы тишины в ${about(chat)}:`,
      ...mutes.map(
        (m) =>
          `• до ${m.until}${m.topic !== null ? `, тема ${m.topic}` : ""}: ${m.matchers || "всё"}` +
          `${m.by ? ` — включил ${m.by}` : ""}${m.comment ? ` (${inline(m.comment, 200)})` : ""}`,
      ),
      "/unmute — отменить все.",
    ].join("\n"),
  noMutes: (chat) => `В ${about(chat)} тишина не включена.`,
  unmuteDone: ({ chat, count }) =>
    count === 0
      ? `В ${about(chat)} тишина не включена.`
      : `🔔 Отменено режимов тишины в ${about(chat)}: ${count}. Инциденты снова приходят со звуком.`,
  muteEnded: (count) =>
    count === 0
      ? "🔔 Тишина закончилась: за это время инцидентов не было."
      : `🔔 Тишина закончилась: за это время без звука ${pluralRu(count, "пришёл", "пришли", "пришло")} ${count} ${pluralRu(count, "инцидент", "инцидента", "инцидентов")}.`,
  listRouting: ({ managedByConfig, destinations: list, mutedUntil }) => {
    const parts: string[] = [];
    if (list.length > 0) {
      const single = list.length === 1 && list[0]!.topic === null;
      parts.push(`получает: ${list.map((d) => destination(d, !single)).join(" | ")}`);
    }
    if (mutedUntil) parts.push(`тишина до ${mutedUntil}`);
    if (managedByConfig) parts.push("управляется конфигурацией");
    return parts.length === 0 ? "" : `   ${parts.join("; ")}`;
  },
};
