// The body of `PUT /api/incidents/{id}` (mpsiem-api.md §6.3, §8.7): the full editable incident built
// from the details answer, as S11 builds it. The details give objects where the update takes ids
// ("the format you receive differs from the format you must send", S3), so each part is mapped.

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** An item's `id` (or, failing that, its name); strings pass as they are. */
function idOf(item: unknown): unknown {
  if (typeof item !== "object" || item === null) return item;
  const o = item as Json;
  return o.id ?? o.name ?? null;
}

/** An item's `name` (or its id): addresses and others are sent by name (S3; the emulator takes strings). */
function nameOf(item: unknown): unknown {
  if (typeof item !== "object" || item === null) return item;
  const o = item as Json;
  return o.name ?? o.id ?? null;
}

function parties(value: unknown): Json {
  const v = asObject(value);
  const list = (key: string, pick: (item: unknown) => unknown) =>
    asArray(v[key])
      .map(pick)
      .filter((x) => x !== null && x !== undefined && x !== "");
  return {
    groups: list("groups", idOf),
    assets: list("assets", idOf),
    networks: list("networks", idOf),
    addresses: list("addresses", nameOf),
    others: list("others", nameOf),
  };
}

export function updateBodyOf(details: Json, assigned: string | null): Json {
  return {
    assigned,
    attackers: parties(details.attackers),
    targets: parties(details.targets),
    description: details.description ?? "",
    detected: details.detected ?? null,
    groups: asArray(details.groups)
      .map(idOf)
      .filter((x) => x !== null && x !== undefined),
    influence: details.influence ?? "",
    name: details.name ?? "",
    parameters: details.parameters ?? [],
    severity: details.severity ?? "",
    source: details.source ?? "",
    type: details.type ?? "",
  };
}
