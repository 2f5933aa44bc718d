// The payload of every inline button the bot makes, and the one parser for what comes back.
// Telegram allows 1–64 bytes; an incident UUID (36) or a chat id (≤ 21) plus a short prefix fits.
// Anything that does not parse is answered as "unknown" and changes nothing.

export type IncidentAction =
  | "refresh"
  | "approve"
  | "take"
  | "resolve"
  | "close"
  | "close_yes" // close as a false positive (the contract's "Yes, close")
  | "close_duplicate"
  | "close_authorised" // a test or authorised activity
  | "close_other"
  | "close_no"
  | "snooze"; // pause reminders and escalation for an hour (design.md §5); never changes the SIEM

/** Why an incident is closed: each of the confirmation step's buttons but Cancel. */
export type CloseReason = "false_positive" | "duplicate" | "authorised" | "other";

const CLOSE_REASONS: Partial<Record<IncidentAction, CloseReason>> = {
  close_yes: "false_positive",
  close_duplicate: "duplicate",
  close_authorised: "authorised",
  close_other: "other",
};

/** The reason a confirmation button closes with; null for any other action. */
export function closeReasonOf(action: IncidentAction): CloseReason | null {
  return CLOSE_REASONS[action] ?? null;
}
export type ChatDecision = "allow" | "ignore" | "block";

export type CallbackData =
  | { kind: "incident"; action: IncidentAction; incidentId: string }
  | { kind: "chat"; decision: ChatDecision; chatId: number; threadId: number | null }
  /** A ◀️ ▶️ page of /open (0-based page, at most 999), of one severity or all. */
  | { kind: "open"; page: number; severity: OpenPageSeverity };

export type OpenPageSeverity = "High" | "Medium" | "Low" | null;
const OPEN_SEVERITY_CODES: Array<[OpenPageSeverity, string]> = [
  [null, "a"],
  ["High", "h"],
  ["Medium", "m"],
  ["Low", "l"],
];
/** 0..999 without leading zeros, so every accepted payload encodes back to itself. */
const OPEN_PAGE_RE = /^(0|[1-9][0-9]{0,2})$/;

const INCIDENT_CODES: Record<IncidentAction, string> = {
  refresh: "r",
  approve: "a",
  close: "c",
  close_yes: "cy",
  close_no: "cn",
  take: "t",
  resolve: "rs",
  close_duplicate: "cd",
  close_authorised: "ca",
  close_other: "co",
  snooze: "sn",
};
const CHAT_CODES: Record<ChatDecision, string> = { allow: "al", ignore: "ig", block: "bl" };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHAT_ID_RE = /^-?\d{1,20}$/;
const THREAD_ID_RE = /^\d{1,12}$/;

export const MAX_CALLBACK_BYTES = 64;

export function encodeCallbackData(data: CallbackData): string {
  const out =
    data.kind === "open"
      ? `o:${data.page}:${OPEN_SEVERITY_CODES.find(([s]) => s === data.severity)![1]}`
      : data.kind === "incident"
        ? `i:${INCIDENT_CODES[data.action]}:${data.incidentId}`
        : `c:${CHAT_CODES[data.decision]}:${data.chatId}${data.threadId !== null ? `:${data.threadId}` : ""}`;
  if (Buffer.byteLength(out, "utf8") > MAX_CALLBACK_BYTES) throw new Error(`callback data too long: ${out}`);
  return out;
}

export function decodeCallbackData(raw: string | undefined | null): CallbackData | null {
  if (typeof raw !== "string" || raw.length === 0 || Buffer.byteLength(raw, "utf8") > MAX_CALLBACK_BYTES)
    return null;
  const parts = raw.split(":");
  if (parts[0] === "i" && parts.length === 3) {
    const action = (Object.keys(INCIDENT_CODES) as IncidentAction[]).find(
      (a) => INCIDENT_CODES[a] === parts[1],
    );
    const id = parts[2]!;
    if (!action || !UUID_RE.test(id)) return null;
    return { kind: "incident", action, incidentId: id.toLowerCase() };
  }
  if (parts[0] === "o" && parts.length === 3) {
    const severity = OPEN_SEVERITY_CODES.find(([, code]) => code === parts[2]);
    if (!severity || !OPEN_PAGE_RE.test(parts[1]!)) return null;
    return { kind: "open", page: Number(parts[1]), severity: severity[0] };
  }
  if (parts[0] === "c" && (parts.length === 3 || parts.length === 4)) {
    const decision = (Object.keys(CHAT_CODES) as ChatDecision[]).find((d) => CHAT_CODES[d] === parts[1]);
    const chat = parts[2]!;
    const thread = parts[3];
    if (!decision || !CHAT_ID_RE.test(chat)) return null;
    if (thread !== undefined && !THREAD_ID_RE.test(thread)) return null;
    const chatId = Number(chat);
    if (!Number.isSafeInteger(chatId)) return null;
    return { kind: "chat", decision, chatId, threadId: thread === undefined ? null : Number(thread) };
  }
  return null;
}
