// The shape of a locale catalogue: every text the bot says, to chats, to admins and to the SIEM.
//
// RULE: every entry is PLAIN TEXT — no HTML, nothing escaped. Send it without parse_mode, or pass it
// through escapeHtml (src/render) before putting it inside an HTML message. Values that come from
// outside (chat titles, user names, SIEM statuses, error reasons) are inserted verbatim, so the
// plain-text rule is what keeps them harmless.
//
// Times and durations arrive already formatted (render's formatTime / formatClock and the
// catalogue's own formatDuration), so the catalogue itself never touches a clock or a time zone.

import type { Locale } from "../config/types.js";
import type { MatcherProblem } from "../routing/index.js";
import type { WorkflowMessages } from "./workflow-messages.js";

/** What kind of Telegram chat a request or list line is about. A forum topic is a thread of a supergroup. */
export type ChatKind = "private" | "group" | "supergroup" | "channel" | "topic";

/** A chat as the texts describe it. Any of the names may be missing. */
export interface ChatRef {
  id: number;
  kind: ChatKind;
  /** Forum topic id (message_thread_id), when the chat is a topic. */
  threadId?: number | null;
  /** Group, supergroup or channel title. */
  title?: string;
  /** Forum topic name, when known. */
  topicTitle?: string;
  /** Without the "@". */
  username?: string;
  firstName?: string;
  lastName?: string;
}

/** A Telegram user as the texts describe them. */
export interface PersonRef {
  id: number;
  /** Without the "@". */
  username?: string;
  firstName?: string;
  lastName?: string;
}

export type AdminChatCommand = "accept" | "deny" | "ban" | "unban";
export type ChatDecisionKind = "allow" | "ignore" | "block";

/** One line of /accepted or /banned. */
export interface ChatListEntry {
  chat: ChatRef;
  /** When it was allowed or banned, already formatted. */
  since: string;
  /** false when the bot was removed or blocked there (deliveries paused); omitted for /banned. */
  active?: boolean;
  /** Why an inactive chat does not receive (Telegram's words, or how the bot was removed). */
  inactiveReason?: string | null;
  /** What it receives, muted, managed by config (routing.listRouting), shown on the next line; "" none. */
  routing?: string;
}

/** A destination of a chat as /filter and /accepted show it. */
export interface FilterView {
  /** null: the chat's own thread. */
  topic: number | null;
  /** Canonical matchers; "" everything, "none" nothing. */
  filter: string;
  /** Matchers that make delivery silent ("" or absent: none). */
  silent?: string;
  /** Active-hours specs (absent or empty: always). */
  activeHours?: readonly string[];
}

/** A running mute as /mute lists it. */
export interface MuteView {
  /** Already formatted. */
  until: string;
  /** Who set it (a label like "@ivan"), or null when unknown. */
  by: string | null;
  /** Canonical matchers; "" everything. */
  matchers: string;
  /** null: the whole chat. */
  topic: number | null;
  comment?: string | null;
}

/** Routing and noise control (design.md §3): /filter, /mute, /unmute and what /accepted adds. */
export interface RoutingMessages {
  /** Why a matcher was refused (the caller names the matcher). */
  matcherProblem(problem: MatcherProblem): string;
  /** A refused list of matchers: names the offending one and says nothing changed. */
  badMatchers(info: { matcher: string; problem: string }): string;
  /** How /filter is used. */
  filterUsage: string;
  /**
   * /filter without arguments: the destinations in the order they are tried. `chat`: a description when
   * the command named a chat, null for the chat it was typed in.
   */
  filterShow(info: { chat: string | null; managedByConfig: boolean; destinations: FilterView[] }): string;
  filterSet(info: { chat: string | null; topic: number | null; filter: string }): string;
  /** /filter off: the chat's own thread gets everything again, or a topic is no longer a destination. */
  filterCleared(info: { chat: string | null; topic: number | null }): string;
  /** /filter off where nothing was set. */
  filterNothingToClear(info: { chat: string | null; topic: number | null }): string;
  /** The chat's routes come from the config file: Telegram may not change them. */
  managedByConfig(chat: string | null): string;
  /** /filter or /mute for a chat that does not receive incidents. */
  notReceiving(chat: string | null): string;
  /** How /mute is used. */
  muteUsage: string;
  /** Who may mute: admins, and a person in their own private chat. */
  muteNotAllowed: string;
  /** The duration is not one, or longer than the limit (`max` formatted). */
  badDuration(info: { raw: string; max: string }): string;
  muteDone(info: {
    chat: string | null;
    topic: number | null;
    until: string;
    duration: string;
    matchers: string;
    comment: string;
  }): string;
  /** A chat may have at most `max` mutes running. */
  tooManyMutes(max: number): string;
  muteList(info: { chat: string | null; mutes: MuteView[] }): string;
  noMutes(chat: string | null): string;
  /** /unmute ended `count` mutes (0: none was running). */
  unmuteDone(info: { chat: string | null; count: number }): string;
  /** The one line a chat gets when its mute is over: how many incidents arrived silently meanwhile. */
  muteEnded(count: number): string;
  /** /accepted: what a chat receives and whether it is muted, after its line. */
  listRouting(info: {
    managedByConfig: boolean;
    destinations: FilterView[];
    mutedUntil: string | null;
  }): string;
}

/** What /debug shows next to each value (labels only; values are formatted by the caller). */
export interface DebugLabels {
  title: string;
  version: string;
  uptime: string;
  siemUrl: string;
  siemVersion: string;
  siemState: string;
  siemOk: string;
  siemDown: string;
  lastPoll: string;
  watermark: string;
  incidentsSeen: string;
  chatsAllowed: string;
  chatsInactive: string;
  chatsBanned: string;
  outboxPending: string;
  outboxFailed: string;
  lastError: string;
  logTail: string;
  never: string;
  none: string;
}

export interface Messages {
  locale: Locale;
  /** Shown in place of an empty or missing value. */
  empty: string;
  /** "2 ч 5 мин" / "2h 5m": the two largest units; under a minute in seconds. */
  formatDuration(ms: number): string;

  incident: {
    /** First line of an incident message: "Инцидент INC-75". */
    title(key: string): string;
    labels: {
      time: string;
      severity: string;
      type: string;
      name: string;
      status: string;
      description: string;
      events: string;
    };
    /** Text of the link to the incident in the SIEM UI. */
    openInSiem: string;
    /** High/Medium/Low in words; anything else verbatim, empty → `empty`. */
    severity(raw: string): string;
    /** New/Approved/InProgress/Resolved/Closed in words; anything else verbatim, empty → `empty`. */
    status(raw: string): string;
    /** "…и ещё 197 событий" — n events not shown. */
    moreEvents(n: number): string;
    /** "202 события" — the total, next to the events heading. */
    eventCount(n: number): string;
    noEvents: string;
    /** "Подтверждён: @ivan в 12:03" — `status` is the raw target status, `time` already formatted. */
    actionLine(action: { status: string; by: string; time: string }): string;
    /** "Статус изменён в SIEM в 12:03" — a change made in the SIEM UI, not through the bot. */
    changedInSiem(time: string): string;
    /**
     * "🔕 без звука": after the title of a card (and a digest's header) delivered without a
     * notification (a mute, a silent rule, quiet hours).
     */
    silent: string;
  };

  /** Button labels (design.md §2): an emoji, a space, then the contract word. */
  buttons: {
    refresh: string;
    approve: string;
    close: string;
    closeYes: string;
    closeNo: string;
    allow: string;
    ignore: string;
    block: string;
  };

  chats: {
    /** "группа", "тема форума"… */
    kind(kind: ChatKind): string;
    /** "группа «SOC» (@soc_team), id -100123" — kind, name and id, for admins. */
    describe(chat: ChatRef): string;
    /** "Иван Петров (@ivan), id 42". */
    person(person: PersonRef): string;
    /** Sent to every admin with the Allow / Ignore / Block buttons. `by` is who added the bot or pressed /start. */
    newChatRequest(request: { chat: ChatRef; by?: PersonRef }): string;
    /** Appended to the request once an admin decided: "Разрешено: @admin, 12:03". */
    requestDecision(decision: { decision: ChatDecisionKind; by: string; time: string }): string;
    /** To the chat: incidents will come here now. */
    allowed: string;
    /** To the chat: incidents stop (deny). */
    denied: string;
    /** To the chat: blocked by an admin, the bot stops answering. */
    banned: string;
    /** To the chat after /start or being added: the admins were asked. */
    pending: string;
    /** To the chat after /start when it already receives incidents. */
    alreadySubscribed: string;
    /** To the chat after /start while its request still waits for the admins (they are not asked again). */
    alreadyAsked: string;
    /** To the chat: the person who caused this request has too many waiting already; the admins were not asked. */
    tooManyRequests: string;
  };

  commands: {
    /** Refusal for a chat that is not allowed (e.g. /ping from a stranger). */
    notAllowed: string;
    /** Refusal of an admin command to a non-admin. */
    adminsOnly: string;
    /** "Использование: /accept <id чата>…" */
    usage(command: AdminChatCommand): string;
    /** The argument is not a chat id. */
    invalidChatId(raw: string): string;
    /** Admin command results; `chat` is a ready description (chats.describe) or the bare id. */
    acceptDone(chat: string): string;
    denyDone(chat: string): string;
    banDone(chat: string): string;
    unbanDone(chat: string): string;
    /** /deny or /unban on a chat that is not in that list. */
    notInList(chat: string): string;
    acceptedTitle(count: number): string;
    bannedTitle(count: number): string;
    /** "• группа «SOC», id -100123 — с 12.03.2024 09:12:00, активен" */
    listLine(entry: ChatListEntry): string;
    acceptedEmpty: string;
    bannedEmpty: string;
    helpAdmin: string;
    helpUser: string;
    /** /id: the chat id, the topic id if any, and the sender's own id if known. */
    idAnswer(ids: { chatId: number; threadId?: number | null; userId?: number | null }): string;
    /** /ping; `uptime` from formatDuration. */
    pingAnswer(uptime: string): string;
    /** In a group, after an admin command whose answer (lists, /debug) went to the admin's private chat. */
    answeredInPrivate: string;
    /** In a group, after an admin command that changed something; the details went to the admin's private chat. */
    doneAnsweredInPrivate: string;
    /**
     * In a group: the answer is shown only privately, but the bot cannot write to the admin there (they never
     * opened a chat with it, or blocked it). `bot` is its username; `done`: the change was made all the same.
     */
    privateChatNeeded(info: { bot: string; done: boolean }): string;
    /** In a group: the private answer failed for another reason (Telegram unreachable); try again later. */
    privateAnswerFailed(info: { done: boolean }): string;
  };

  /** Answers to button presses (answerCallbackQuery, ≤ 200 characters) and the confirm prompt. */
  actions: {
    approved: string;
    closed: string;
    refreshed: string;
    cancelled: string;
    notAllowed: string;
    /** The SIEM refused or failed; the reason is clipped so the whole answer stays ≤ 200. */
    failed(reason: string): string;
    /** Someone else changed it first; `status` is the raw current status. */
    alreadyChanged(status: string): string;
    unknownButton: string;
    /** Another press on this incident is still running. */
    busy: string;
    /** Shown when Close is pressed, before Yes, close / Cancel. */
    confirmClose: string;
    /** A person pressed buttons faster than the limit; this press was not carried out. */
    tooManyPresses: string;
    /** Answer to a press made while the bot was offline: not carried out. `downFor` from formatDuration. */
    offlinePress(downFor: string): string;
    /** Told in the chat as well (the answer may come too late for Telegram): whose presses were not carried out. */
    offlinePressNotice(info: { who: string; downFor: string }): string;
  };

  /** What the bot writes into the SIEM transition (measures + message). `who` e.g. "@ivan (42)". */
  siemComment: {
    approveMeasures: string;
    approveMessage(who: string): string;
    closeMeasures: string;
    closeMessage(who: string): string;
  };

  /** Notices to admins and chats from the service itself. */
  notices: {
    /**
     * To admins at start: which SIEM it watches, how many chats get incidents; with several instances, the
     * one that took over from another (a failover).
     */
    botStarted(info: {
      siemUrl: string;
      siemVersion?: string | null;
      chats: number;
      tookOver?: { instance: string; from: string };
    }): string;
    /** To admins: the bot was removed from a chat or blocked by a user; deliveries there paused. */
    botRemoved(chat: string): string;
    /** To admins: a group became a supergroup; the record moved with it. */
    chatMigrated(info: { chat: string; fromId: number; toId: number }): string;
    /** To admins: a chat stopped accepting messages (reason from Telegram). */
    chatInactive(info: { chat: string; reason: string }): string;
    /**
     * To admins, once: the bot is still in the chat but may not post there (rights taken away, topic
     * closed…; reason from Telegram). Undelivered incidents are kept; /accept `chatId` delivers them.
     */
    chatPaused(info: { chat: string; chatId: number; reason: string }): string;
    /** To admins, once, after the SIEM has been failing for a while. `since` formatted. */
    siemDown(info: { since: string; reason: string }): string;
    /** To admins when the SIEM answers again. `downFor` from formatDuration. */
    siemRecovered(info: { downFor: string; caughtUp: number }): string;
    /** First line of a digest: "5 новых инцидентов". */
    digestHeader(count: number): string;
  };

  routing: RoutingMessages;
  workflow: WorkflowMessages;

  debug: DebugLabels;
}
