// Русские тексты вопросов к боту: /open, /stats, /audit, /report и утренний отчёт смены. Только обычный текст.

import { formatDurationWith, pluralRu } from "./plural.js";
import { inline } from "./shared.js";

/** Figures of /stats as the texts need them (queries/stats.ts gives them; durations in ms). */
export interface StatsView {
  span: "24h" | "7d" | "30d";
  total: number;
  counted: number;
  bySeverity: Array<[label: string, n: number]>;
  byStatus: Array<[label: string, n: number]>;
  measured: number;
  sampled: boolean;
  react: { count: number; medianMs: number | null; p90Ms: number | null };
  resolve: { count: number; medianMs: number | null; p90Ms: number | null };
  viaBot: number;
  onlyInSiem: number;
}

/** Texts of the questions to the bot (design.md §6, issue 16). Plain text. */
export interface QueryMessages {
  /** "5 мин", "3 ч 10 мин", "2 д 4 ч". */
  duration(ms: number): string;
  openUsage: string;
  /** Header: the totals by status (already in words) and the page. `severity` in words, or null. */
  openHeader(v: {
    total: number;
    byStatus: Array<[string, number]>;
    severity: string | null;
    page: number;
    pages: number;
  }): string;
  openEmpty(severity: string | null): string;
  /** "открыт 3 ч назад" → the age part of a line. */
  age(ms: number): string;
  failed(reason: string): string;
  /** A ◀️ ▶️ press on a page that could not be read. */
  pageFailed: string;
  statsUsage: string;
  stats(v: StatsView): string;
  auditUsage: string;
  auditHeader(n: number): string;
  auditEmpty: string;
  auditLine(v: { time: string; who: string; action: string; incident: string; result: string }): string;
  reportUsage: string;
  reportOn(at: string | null): string;
  reportOff: string;
  reportWasOff: string;
  reportHeader(date: string): string;
  /** The still-open High incidents heading; n of them. */
  reportOpenHigh(n: number): string;
  reportNoOpenHigh: string;
}

const dur = (ms: number) => formatDurationWith(ms, { d: " д", h: " ч", m: " мин", s: " с" });
const fig = (ms: number | null) => (ms === null ? "—" : dur(ms));
const SPAN: Record<StatsView["span"], string> = { "24h": "24 часа", "7d": "7 дней", "30d": "30 дней" };
const list = (items: Array<[string, number]>) => items.map(([k, n]) => `${k} ${n}`).join(" · ") || "—";

export const queriesRu: QueryMessages = {
  duration: dur,
  openUsage: "Напишите /open или /open high (medium, low): открытые инциденты, при желании одной важности.",
  openHeader: ({ total, byStatus, severity, page, pages }) =>
    `📂 Открытые инциденты${severity ? ` (${severity})` : ""}: ${total}\n${list(byStatus)}\nСтраница ${page + 1} из ${pages}, сначала новые`,
  openEmpty: (severity) => `Открытых инцидентов${severity ? ` важности «${severity}»` : ""} нет 🎉`,
  age: (ms) => `${dur(ms)} назад`,
  failed: (reason) => `Не удалось спросить SIEM: ${inline(reason, 200)}. Попробуйте позже.`,
  pageFailed: "SIEM не ответил, страница не обновлена. Попробуйте ещё раз.",
  statsUsage: "Напишите /stats, /stats 7d или /stats 30d: сводка за 24 часа, 7 или 30 дней.",
  stats: (v) =>
    [
      `📊 Сводка за ${SPAN[v.span]}`,
      `Инцидентов создано: ${v.total}${v.counted < v.total ? ` (посчитаны новейшие ${v.counted})` : ""} — SIEM, список`,
      `По важности: ${list(v.bySeverity)}`,
      `По статусу: ${list(v.byStatus)}`,
      `Через бота: ${v.viaBot} ${pluralRu(v.viaBot, "инцидент", "инцидента", "инцидентов")} — журнал бота`,
      `Только в интерфейсе SIEM: ${v.onlyInSiem} из ${v.measured} — SIEM, история статусов`,
      `Время реакции (создан → первая смена статуса), ${v.react.count} ${pluralRu(v.react.count, "инцидент", "инцидента", "инцидентов")}: медиана ${fig(v.react.medianMs)}, p90 ${fig(v.react.p90Ms)}`,
      `Время решения (создан → Решён/Закрыт), ${v.resolve.count} ${pluralRu(v.resolve.count, "инцидент", "инцидента", "инцидентов")}: медиана ${fig(v.resolve.medianMs)}, p90 ${fig(v.resolve.p90Ms)}`,
      `Времена — SIEM, история статусов${v.sampled ? `; выборка: ${v.measured} из ${v.total} инцидентов, равномерно по периоду` : ""}.`,
    ].join("\n"),
  auditUsage: "Напишите /audit или /audit 50: последние действия через бота (от 1 до 100).",
  auditHeader: (n) => `🧾 Последние действия через бота: ${n}`,
  auditEmpty: "Через бота ещё ничего не делали.",
  auditLine: ({ time, who, action, incident, result }) =>
    `${time} · ${who} · ${action} · ${incident} · ${result}`,
  reportUsage:
    "Напишите /report on — присылать сюда утренний отчёт смены, /report off — больше не присылать.",
  reportOn: (at) =>
    at
      ? `Готово: отчёт смены будет приходить сюда каждый день в ${at}.`
      : "Готово, чат подписан. Но время отчёта не задано: администратору нужно указать BOT_REPORT_AT (например 09:00).",
  reportOff: "Готово: отчёт смены сюда больше не приходит.",
  reportWasOff: "Отчёт смены сюда и так не приходит.",
  reportHeader: (date) => `🌅 Отчёт смены, ${date}`,
  reportOpenHigh: (n) => `🔴 Открытые инциденты высокой важности: ${n}`,
  reportNoOpenHigh: "Открытых инцидентов высокой важности нет.",
};
