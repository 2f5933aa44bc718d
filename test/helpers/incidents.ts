import type { IncidentSummary } from "../../src/siem/types.js";

/** A list item as the SIEM client returns it: incident n, with a stable UUID, created at `createdMs`. */
export function incidentSummary(
  n: number,
  createdMs = 1_700_000_000_000 + n,
  severity = "High",
): IncidentSummary {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    key: `INC-${n}`,
    name: `Rule_${n}`,
    category: "Undefined",
    type: "Undefined",
    status: "New",
    severity,
    created: new Date(createdMs),
    isConfirmed: false,
  };
}
