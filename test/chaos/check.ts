// The end-of-run verdict of a chaos run, computed from what was recorded (pure, so it has its own
// tests): every owed incident delivered exactly once per chat, repeats only where a kill or a lost
// answer explains them, every single-message copy showing the SIEM's current status, no request
// inside a retry_after, and no exit the run did not cause.
//
// The repeat rule follows delivery's send windows, one per chat: a new message is between its request
// and its recorded id in at most one window per chat, so a kill may repeat at most ONE message PER
// CHAT — the last one the killed process sent there — and nothing else.

/** One incident the run created in the SIEM. */
export interface IncidentRecord {
  id: string;
  key: string;
  /** When it appeared in the SIEM (runner clock, ms). */
  appearedAt: number;
}

/** One message the bot sent, as the fake holds it now, with what it was sent with. */
export interface MessageRecord {
  chatId: number;
  messageId: number;
  /** When the fake stored it (runner clock, ms). */
  at: number;
  /** Index of the service process that sent it. */
  instance: number;
  /** Incident ids the message carried when sent. */
  sentIds: string[];
  /** Incident ids it shows now (after edits). */
  currentIds: string[];
  digest: boolean;
  /** The "Status: …" line it shows now (single messages), else null. */
  statusLine: string | null;
  /** The call that created it lost its answer (connection reset after the fake processed it). */
  answerLost: boolean;
}

export type InstanceEnd = "SIGKILL" | "SIGTERM" | "self";

export interface InstanceRecord {
  index: number;
  startedAt: number;
  endedAt: number | null;
  endedBy: InstanceEnd | null;
  exitCode: number | null;
  signal: string | null;
}

/** A recipient as people see it: one chat, or a group before and after it became a supergroup. */
export interface ChatGroup {
  name: string;
  chatIds: number[];
  /** "owed": must show exactly once; "optional": at most once; "never": must not show it. */
  duty(incident: IncidentRecord): "owed" | "optional" | "never";
  /** Chats whose single messages the bot can still edit (their status must be current). */
  editableChatIds: number[];
}

export interface RetryAfterBreach {
  method: string;
  chatId: unknown;
  at: number;
  /** The 429 that opened the window never reached the service (its answer was lost): nobody could honour it. */
  excused: boolean;
}

/** One Bot API call as the fake recorded it, reduced to what the retry_after check needs. */
export interface CallRecord {
  at: number;
  method: string;
  chatId: number | null;
  errorCode: number | null;
  retryAfter: number | null;
  /** The connection was dropped: the service got no answer. */
  answerLost: boolean;
  duringRetryAfter: boolean;
}

/** How long a lost answer may explain a later breach: the longest retry_after Telegram gives is a minute. */
const LOST_ANSWER_REACH_MS = 61_000;

/**
 * The requests the fake caught inside a retry_after window. A breach is excused only when no 429 the
 * service received covers it and an earlier call to the same chat lost its answer — that answer may
 * have been the 429 (a dropped connection after the fake processed the call).
 */
export function retryAfterBreaches(calls: readonly CallRecord[]): RetryAfterBreach[] {
  const breaches: RetryAfterBreach[] = [];
  calls.forEach((call, index) => {
    if (!call.duringRetryAfter) return;
    const earlier = calls.slice(0, index).filter((c) => c.chatId === call.chatId);
    const known = earlier.some(
      (c) => c.errorCode === 429 && !c.answerLost && c.at + (c.retryAfter ?? 1) * 1000 > call.at,
    );
    const lost = earlier.some((c) => c.answerLost && c.at >= call.at - LOST_ANSWER_REACH_MS);
    breaches.push({ method: call.method, chatId: call.chatId, at: call.at, excused: !known && lost });
  });
  return breaches;
}

export interface Observations {
  incidents: IncidentRecord[];
  messages: MessageRecord[];
  instances: InstanceRecord[];
  groups: ChatGroup[];
  /** Incident id → its status in the SIEM now. */
  siemStatus: Map<string, string>;
  /** The status line a single message must show for a SIEM status. */
  expectedStatusLine(status: string): string;
  retryAfterBreaches: RetryAfterBreach[];
}

export interface RepeatRecord {
  group: string;
  incidentKey: string;
  cause: "kill" | "lost answer";
  /** The instance whose kill orphaned the earlier copy (kill causes only). */
  instance: number | null;
  /** The chat of the earlier copy. */
  chatId: number;
  /** The earlier copy, "chatId:messageId" (a digest orphans several incidents with one message). */
  orphan: string;
}

/** What one kill left repeated in one chat: at most one orphaned message (its incidents may be several). */
export interface KillRepeat {
  instance: number;
  chatId: number;
  /** Orphaned messages ("chatId:messageId") whose incidents were sent again after the kill. */
  orphans: string[];
}

export interface Verdict {
  violations: string[];
  /** Owed (incident, chat group) pairs not delivered; also in violations. */
  missing: number;
  /** Single-message copies whose status is not the SIEM's; also in violations. */
  staleStatus: number;
  repeats: RepeatRecord[];
  /** The repeats explained by kills, per killed process and chat (each holds one orphan at most). */
  killRepeats: KillRepeat[];
  /** Incident copies delivered (each incident once per group, repeats not counted). */
  delivered: number;
  singles: number;
  digests: number;
  /** Requests inside a retry_after window whose 429 the service never received (not violations). */
  excusedBreaches: number;
}

const MAX_LISTED = 12;

function listed(items: string[]): string {
  const head = items.slice(0, MAX_LISTED).join(", ");
  return items.length > MAX_LISTED ? `${head}, … (${items.length} in all)` : head;
}

/** The last incident message a process sent to a chat: the only one a kill of it may leave unrecorded. */
function lastSentTo(obs: Observations, instance: number, chatId: number): MessageRecord | undefined {
  return obs.messages
    .filter((m) => m.instance === instance && m.chatId === chatId && m.sentIds.length > 0)
    .reduce<MessageRecord | undefined>(
      (last, m) => (last === undefined || m.at >= last.at ? m : last),
      undefined,
    );
}

/**
 * What may explain an earlier copy of a message being followed by another: its answer was lost, or its
 * process was killed before the later copy was sent. Whether that kill really explains it — the copy
 * was the one message in flight in its chat — is judged per kill and chat (judgeKillRepeats).
 */
function orphanCause(
  earlier: MessageRecord,
  later: MessageRecord,
  obs: Observations,
): { cause: RepeatRecord["cause"]; instance: number | null } | null {
  if (earlier.answerLost) return { cause: "lost answer", instance: null };
  const instance = obs.instances.find((i) => i.index === earlier.instance);
  const killed =
    instance?.endedBy === "SIGKILL" || (instance?.endedBy === "SIGTERM" && instance.exitCode !== 0);
  if (!instance || !killed || later.instance <= earlier.instance) return null;
  return { cause: "kill", instance: earlier.instance };
}

/**
 * One send window per chat: a kill may repeat at most ONE message in each chat, and only the last one
 * the killed process sent there (any earlier one had its id recorded before the next was sent).
 */
function judgeKillRepeats(
  repeats: readonly RepeatRecord[],
  obs: Observations,
  violations: string[],
): KillRepeat[] {
  const byKillAndChat = new Map<string, KillRepeat & { keys: string[] }>();
  for (const r of repeats) {
    if (r.cause !== "kill" || r.instance === null) continue;
    const key = `${r.instance}:${r.chatId}`;
    const entry = byKillAndChat.get(key) ?? { instance: r.instance, chatId: r.chatId, orphans: [], keys: [] };
    if (!entry.orphans.includes(r.orphan)) entry.orphans.push(r.orphan);
    entry.keys.push(r.incidentKey);
    byKillAndChat.set(key, entry);
  }
  const judged: KillRepeat[] = [];
  for (const { keys, ...k } of byKillAndChat.values()) {
    judged.push(k);
    const last = lastSentTo(obs, k.instance, k.chatId);
    const inFlight = last === undefined ? "" : `${last.chatId}:${last.messageId}`;
    if (k.orphans.length > 1) {
      violations.push(
        `the kill of process #${k.instance} repeated ${k.orphans.length} messages in chat ${k.chatId} ` +
          `(${listed(keys)}); at most one per chat per kill, the one in flight`,
      );
    } else if (k.orphans[0] !== inFlight) {
      violations.push(
        `the kill of process #${k.instance} repeated ${listed(keys)} in chat ${k.chatId} from a message ` +
          "that was not the last it sent there (its id was recorded)",
      );
    }
  }
  return judged;
}

export function judge(obs: Observations): Verdict {
  const violations: string[] = [];
  const known = new Map(obs.incidents.map((i) => [i.id, i]));
  const keyOf = (id: string) => known.get(id)?.key ?? id;
  const repeats: RepeatRecord[] = [];
  let missing = 0;
  let staleStatus = 0;
  let delivered = 0;

  // Every message: it shows incidents the SIEM has, and the incident it was sent for.
  const unknownIds = new Set<string>();
  for (const m of obs.messages) {
    for (const id of m.currentIds) if (!known.has(id)) unknownIds.add(id);
    if (!m.digest && m.sentIds.length > 0 && m.sentIds.join() !== m.currentIds.join()) {
      violations.push(
        `message ${m.messageId} in chat ${m.chatId} was sent for ${m.sentIds.map(keyOf).join("+")} ` +
          `but now shows ${m.currentIds.map(keyOf).join("+") || "no incident"} (an edit hit the wrong message)`,
      );
    }
  }
  if (unknownIds.size > 0)
    violations.push(`messages show incidents the SIEM never had: ${listed([...unknownIds])}`);

  const grouped = new Set(obs.groups.flatMap((g) => g.chatIds));
  const strays = obs.messages.filter((m) => !grouped.has(m.chatId) && m.currentIds.length > 0);
  if (strays.length > 0) {
    violations.push(
      `incidents sent to chats that do not receive them: ${listed(strays.map((m) => `${m.currentIds.map(keyOf).join("+")} → ${m.chatId}`))}`,
    );
  }

  for (const group of obs.groups) {
    const inGroup = obs.messages
      .filter((m) => group.chatIds.includes(m.chatId))
      .sort((a, b) => a.at - b.at || a.messageId - b.messageId);
    const copies = new Map<string, MessageRecord[]>();
    for (const m of inGroup) {
      for (const id of m.sentIds) {
        const list = copies.get(id) ?? [];
        list.push(m);
        copies.set(id, list);
      }
    }
    const missed: string[] = [];
    const forbidden: string[] = [];
    const unexplained: string[] = [];
    for (const incident of obs.incidents) {
      const list = copies.get(incident.id) ?? [];
      const duty = group.duty(incident);
      if (list.length > 0) delivered++;
      if (duty === "owed" && list.length === 0) missed.push(incident.key);
      if (duty === "never" && list.length > 0) forbidden.push(incident.key);
      for (let i = 1; i < list.length; i++) {
        const earlier = list[i - 1]!;
        const cause = orphanCause(earlier, list[i]!, obs);
        if (cause === null) unexplained.push(`${incident.key} ×${list.length}`);
        else {
          const orphan = `${earlier.chatId}:${earlier.messageId}`;
          repeats.push({
            group: group.name,
            incidentKey: incident.key,
            ...cause,
            chatId: earlier.chatId,
            orphan,
          });
        }
      }
      // Only the newest copy is the one the bot tracks and edits.
      const newest = list[list.length - 1];
      const siemStatus = obs.siemStatus.get(incident.id);
      if (
        newest !== undefined &&
        !newest.digest &&
        siemStatus !== undefined &&
        group.editableChatIds.includes(newest.chatId)
      ) {
        const expected = obs.expectedStatusLine(siemStatus);
        if (newest.statusLine !== expected) {
          staleStatus++;
          violations.push(
            `${group.name}: ${incident.key} shows "${newest.statusLine ?? "no status"}" but the SIEM says "${expected}"`,
          );
        }
      }
    }
    missing += missed.length;
    if (missed.length > 0)
      violations.push(`${group.name}: ${missed.length} owed incidents never arrived: ${listed(missed)}`);
    if (forbidden.length > 0)
      violations.push(`${group.name}: got incidents it must not: ${listed(forbidden)}`);
    if (unexplained.length > 0) {
      violations.push(`${group.name}: repeats no kill or lost answer explains: ${listed(unexplained)}`);
    }
  }

  const killRepeats = judgeKillRepeats(repeats, obs, violations);

  const breaches = obs.retryAfterBreaches.filter((b) => !b.excused);
  for (const breach of breaches.slice(0, MAX_LISTED)) {
    violations.push(
      `${breach.method} to chat ${String(breach.chatId)} inside a retry_after window at +${breach.at} ms`,
    );
  }
  if (breaches.length > MAX_LISTED) {
    violations.push(`… ${breaches.length - MAX_LISTED} more requests inside a retry_after window`);
  }

  for (const instance of obs.instances) {
    if (instance.endedBy === "self") {
      violations.push(
        `service process #${instance.index} exited by itself (code ${instance.exitCode}, signal ${instance.signal})`,
      );
    }
  }

  const singles = obs.messages.filter((m) => !m.digest && m.sentIds.length > 0).length;
  const digests = obs.messages.filter((m) => m.digest).length;
  const excusedBreaches = obs.retryAfterBreaches.length - breaches.length;
  return {
    violations,
    missing,
    staleStatus,
    repeats,
    killRepeats,
    delivered,
    singles,
    digests,
    excusedBreaches,
  };
}
