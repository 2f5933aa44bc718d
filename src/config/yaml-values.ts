// Reading values out of the YAML config file's lists (routes:, escalation:). The file is read with the
// failsafe schema, so every scalar arrives as a string.

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A scalar as written; null for a map or a list. */
export function scalar(value: unknown): string | null {
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

/** A string or a list of strings; null when it is neither. Empty when absent. */
export function strings(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  const one = scalar(value);
  if (one !== null) return one === "" ? [] : [one];
  if (Array.isArray(value)) {
    const all = value.map(scalar);
    return all.every((s): s is string => s !== null) ? all.filter((s) => s !== "") : null;
  }
  return null;
}
