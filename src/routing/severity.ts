// Severity words as people type them (any case, English or Russian) and the order Low < Medium < High.
// Pure: no imports, so config/ may use it to validate BOT_SILENT_BELOW and the routes in the file.

export type SeverityLevel = "low" | "medium" | "high";

/** Low < Medium < High; anything else (an empty or unknown severity) has no rank. */
export const SEVERITY_RANK: Readonly<Record<SeverityLevel, number>> = { low: 1, medium: 2, high: 3 };

const WORDS: ReadonlyMap<string, SeverityLevel> = new Map<string, SeverityLevel>([
  ["low", "low"],
  ["medium", "medium"],
  ["high", "high"],
  // Russian: the words the Russian catalogue shows (Низкая / Средняя / Высокая) and the other genders
  // people write ("низкий уровень", "высокое").
  ["низкая", "low"],
  ["низкий", "low"],
  ["низкое", "low"],
  ["средняя", "medium"],
  ["средний", "medium"],
  ["среднее", "medium"],
  ["высокая", "high"],
  ["высокий", "high"],
  ["высокое", "high"],
]);

/** The severity a word names ("High", "высокая", "MEDIUM"), or null. */
export function severityOfWord(word: string): SeverityLevel | null {
  return WORDS.get(word.trim().toLowerCase()) ?? null;
}

/** The rank of an incident's severity as the SIEM sent it ("High"…), or null when it is none of the three. */
export function severityRank(raw: string): number | null {
  const level = WORDS.get(raw.trim().toLowerCase());
  return level === undefined ? null : SEVERITY_RANK[level];
}

/** Every word accepted, for error messages. */
export const SEVERITY_WORDS_HINT = "low, medium, high (any case; also низкая, средняя, высокая)";
