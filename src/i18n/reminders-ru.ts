// Русские тексты напоминаний и эскалации (design.md §5, issue 15). Только обычный текст.

import { pluralRu } from "./plural.js";
import { inline } from "./shared.js";

/** Texts of reminders, escalation and Snooze. Plain text; escape before using in HTML. */
export interface ReminderMessages {
  /** A duration as a person says it: "30 мин", "2 ч 5 мин", "1 д 3 ч". */
  duration(ms: number): string;
  /** The reply to a card: the key and how long it has been New. */
  reminder(key: string, newForMs: number): string;
  /** One message for many overdue incidents in a chat; `lines` are "INC-12 /inc_12 — 40 мин". */
  collapsed(count: number, lines: string[], more: number): string;
  /** The card's line while it is New: how long since the card went out. */
  cardWaiting(sinceMs: number): string;
  /** The card's line once it was escalated; `to` is the chat's title or id. */
  cardEscalated(to: string): string;
  /** The header of the card sent to the escalation chat. */
  escalationHeader(newForMs: number): string;
  /** The Snooze button. */
  snoozeButton: string;
  /** The answer to a Snooze press. */
  snoozed(untilClock: string): string;
  /** Snooze on an incident that is no longer New (or when nothing is scheduled). */
  nothingToSnooze: string;
}

export const remindersRu: ReminderMessages = {
  duration: (ms) => spokenDuration(ms, ["д", "ч", "мин", "с"]),
  reminder: (key, newForMs) =>
    `⏰ ${inline(key, 40)} без реакции уже ${remindersRu.duration(newForMs)}: статус всё ещё «Новый».`,
  collapsed: (count, lines, more) =>
    `⏰ ${count} ${pluralRu(count, "инцидент", "инцидента", "инцидентов")} без реакции:\n${lines.join("\n")}${
      more > 0 ? `\n…и ещё ${more}` : ""
    }`,
  cardWaiting: (sinceMs) => `⏰ ${remindersRu.duration(sinceMs)} без реакции`,
  cardEscalated: (to) => `🚨 Эскалировано в ${inline(to, 64)}`,
  escalationHeader: (newForMs) => `🚨 Эскалация: без реакции ${remindersRu.duration(newForMs)}`,
  snoozeButton: "Отложить",
  snoozed: (until) => `Напоминания и эскалация отложены до ${until}.`,
  nothingToSnooze: "Откладывать нечего: инцидент уже не новый.",
};

/** "2 ч 5 мин" from ms, the two largest units, rounded down to a minute above one minute. */
export function spokenDuration(ms: number, units: readonly [string, string, string, string]): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return `${total} ${units[3]}`;
  const minutes = Math.floor(total / 60);
  const parts: Array<[number, string]> = [
    [Math.floor(minutes / 1440), units[0]],
    [Math.floor((minutes % 1440) / 60), units[1]],
    [minutes % 60, units[2]],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n} ${u}`)
    .join(" ");
}
