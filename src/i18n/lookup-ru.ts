// Русские тексты поиска инцидента по ключу (/inc). Только обычный текст.

import { inline } from "./shared.js";

/** Texts of /inc (design.md §4). Plain text; nothing in them comes from an incident unless named. */
export interface LookupMessages {
  /** /inc without an argument. */
  usage: string;
  /** The argument is not a key or a number; `arg` is what was typed (clipped). */
  invalid(arg: string): string;
  /** A number above the sane maximum. */
  tooLarge(max: number): string;
  /** The SIEM has no incident with this key. */
  notFound(key: string): string;
  /** The asker may not see incidents: says nothing about any incident. */
  notAllowed: string;
  /** The SIEM could not be asked; `reason` is cleaned of secrets already. */
  failed(reason: string): string;
  /** Lookups faster than the per-person budget. */
  tooMany: string;
}

export const lookupRu: LookupMessages = {
  usage: "Какой инцидент показать? Напишите /inc INC-123 или /inc 123 (или нажмите /inc_123 в дайджесте).",
  invalid: (arg) =>
    `«${inline(arg, 40)}» — не ключ инцидента. Напишите /inc INC-123 или /inc 123: только цифры номера.`,
  tooLarge: (max) => `Такого номера инцидента не бывает: номер не больше ${max}.`,
  notFound: (key) => `Инцидента ${key} в SIEM нет.`,
  notAllowed:
    "Инциденты показываются только в подключённых чатах и людям, которым разрешил администратор. Отправьте /start, чтобы попросить доступ.",
  failed: (reason) => `Не удалось найти инцидент в SIEM: ${inline(reason, 200)}. Попробуйте позже.`,
  tooMany: "Слишком много запросов инцидентов подряд. Подождите минуту.",
};
