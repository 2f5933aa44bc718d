// English. Every entry is plain text (see messages.ts); typed as Messages so its keys match ru.ts.

import type { AdminChatCommand, ChatKind, ChatRef, Messages } from "./messages.js";
import { formatDurationWith, pluralEn } from "./plural.js";
import { routingEn } from "./routing-en.js";
import { chatName, clipPlain, inline, personName } from "./shared.js";
import { workflowEn } from "./workflow-en.js";

const EMPTY = "—";

const SEVERITY: Record<string, string> = { high: "High", medium: "Medium", low: "Low" };
const STATUS: Record<string, string> = {
  new: "New",
  approved: "Approved",
  inprogress: "In progress",
  resolved: "Resolved",
  closed: "Closed",
};
/** Statuses that read as "<Status> by @ivan"; the rest read "Moved to <status> by @ivan". */
const PARTICIPLE_STATUSES = new Set(["approved", "resolved", "closed"]);
const KIND: Record<ChatKind, string> = {
  private: "private chat",
  group: "group",
  supergroup: "supergroup",
  channel: "channel",
  topic: "forum topic",
};
const COMMAND_PURPOSE: Record<AdminChatCommand, string> = {
  accept: "send incidents to the chat",
  deny: "stop sending incidents to the chat",
  ban: "block the chat: the bot stops answering it",
  unban: "lift the block",
};

function lookup(table: Record<string, string>, raw: string): string {
  const known = table[raw.trim().toLowerCase()];
  if (known) return known;
  return raw.trim() === "" ? EMPTY : raw;
}

const status = (raw: string) => lookup(STATUS, raw);
const quote = (s: string) => `“${s}”`;

function describe(chat: ChatRef): string {
  const name = chatName(chat, quote, "in");
  const topic = chat.kind === "topic" && chat.threadId != null ? `, topic ${chat.threadId}` : "";
  return `${KIND[chat.kind] ?? chat.kind}${name ? ` ${name}` : ""}, id ${chat.id}${topic}`;
}

function person(p: { id: number; username?: string; firstName?: string; lastName?: string }): string {
  const name = personName(p);
  return name ? `${name}, id ${p.id}` : `id ${p.id}`;
}

const events = (n: number) => `${n} ${pluralEn(n, "event", "events")}`;

export const en: Messages = {
  locale: "en",
  empty: EMPTY,
  formatDuration: (ms) => formatDurationWith(ms, { d: "d", h: "h", m: "m", s: "s" }),

  incident: {
    title: (key) => `Incident ${key}`,
    labels: {
      time: "Time",
      severity: "Severity",
      type: "Type",
      name: "Name",
      status: "Status",
      description: "Description",
      events: "Events",
    },
    openInSiem: "Open in the SIEM",
    severity: (raw) => lookup(SEVERITY, raw),
    status,
    moreEvents: (n) => `…and ${n} more ${pluralEn(n, "event", "events")}`,
    eventCount: events,
    noEvents: "No events",
    actionLine: ({ status: to, by, time }) =>
      PARTICIPLE_STATUSES.has(to.trim().toLowerCase())
        ? `${status(to)} by ${by} at ${time}`
        : `Moved to ${status(to)} by ${by} at ${time}`,
    changedInSiem: (time) => `Status changed in the SIEM at ${time}`,
    silent: "🔕 silent",
  },

  buttons: {
    refresh: "🔄 Refresh",
    approve: "▶️ Approve",
    close: "⏹ Close",
    closeYes: "✅ Yes, close",
    closeNo: "↩️ Cancel",
    allow: "✅ Allow",
    ignore: "💤 Ignore",
    block: "⛔ Block",
  },

  chats: {
    kind: (kind) => KIND[kind] ?? kind,
    describe,
    person,
    newChatRequest: ({ chat, by }) =>
      [
        "A new chat asks for incidents:",
        describe(chat),
        ...(by && by.id !== chat.id ? [`Who: ${person(by)}`] : []),
        "Send incidents to this chat?",
      ].join("\n"),
    requestDecision: ({ decision, by, time }) =>
      `${{ allow: "Allowed", ignore: "Ignored", block: "Blocked" }[decision]}: ${by}, ${time}`,
    allowed: "✅ MaxPatrol SIEM incidents will be sent here.",
    denied: "Incidents are no longer sent here: an admin turned them off.",
    banned: "This chat has been blocked by the bot's admin.",
    pending: "The admins have been asked. Incidents will start arriving once they allow it.",
    alreadySubscribed: "This chat already receives incidents.",
    alreadyAsked: "The admins have already been asked and have not decided yet. No need to ask again.",
    tooManyRequests:
      "Not sent: several of your requests are already waiting for the admins. Try again later.",
  },

  commands: {
    notAllowed: "This chat does not receive incidents. Send /start to ask for access.",
    adminsOnly: "This command is for the bot's admins only.",
    usage: (command) =>
      `/${command} <chat id> — ${COMMAND_PURPOSE[command]}. For example: /${command}-1001234567890 or /${command} 123456789`,
    invalidChatId: (raw) =>
      `“${inline(raw, 64)}” is not a chat id. An id is a whole number, e.g. 123456789 or -1001234567890.`,
    acceptDone: (chat) => `Incidents will be sent to ${chat}`,
    denyDone: (chat) => `Incidents are no longer sent to ${chat}`,
    banDone: (chat) => `Blocked: ${chat}`,
    unbanDone: (chat) => `Unblocked: ${chat}`,
    notInList: (chat) => `Not in the list: ${chat}`,
    acceptedTitle: (count) => `Chats receiving incidents (${count}):`,
    bannedTitle: (count) => `Blocked chats (${count}):`,
    listLine: ({ chat, since, active, inactiveReason, routing }) =>
      `• ${describe(chat)}, since ${since}${
        active === undefined
          ? ""
          : active
            ? " — active"
            : inactiveReason
              ? ` — inactive, not receiving: ${inline(inactiveReason, 200)}`
              : " — inactive (bot removed or blocked)"
      }${routing ? `\n${routing}` : ""}`,
    acceptedEmpty: "No chat receives incidents yet. Add one with /accept <id> or the Allow button.",
    bannedEmpty: "No blocked chats.",
    helpAdmin: [
      "Admin commands:",
      "/accepted — chats that receive incidents",
      "/accept <id> — send incidents to a chat",
      "/deny <id> — stop sending incidents to a chat",
      "/ban <id> — block a chat",
      "/unban <id> — lift a block",
      "/banned — blocked chats",
      "/filter — what a chat receives; /filter severity>=high — only that; /filter off — everything again",
      "/mute 2h [matchers] — incidents arrive without sound for a while; /mute — list; /unmute — sound again",
      "/inc INC-123 (or /inc 123, /inc_123) — an incident's card with its buttons, from the SIEM",
      "/open [high|medium|low] — open incidents from the SIEM, 10 a page",
      "/stats [24h|7d|30d] — summary: how many, which, how fast the team reacted",
      "/audit [N] — the latest N actions through the bot (answered privately)",
      "/report on|off — the morning shift report in this chat (time: BOT_REPORT_AT)",
      "/link <id> <MP login> — link a Telegram user to an MP account (for Take)",
      "/unlink <id> — remove a link; /links — all links",
      "/debug — bot state and the last log lines",
      "/ping — check that the bot is alive",
      "/id — this chat's id",
      "/help — this help",
      "",
      "The id may be glued to the command: /accept-1001234567890.",
    ].join("\n"),
    helpUser: [
      "The bot sends MaxPatrol SIEM incidents here.",
      "Buttons under an incident follow its status: Approve, Take, Resolve, Close (with a reason); Refresh re-reads it from the SIEM.",
      "",
      "/inc INC-123 (or /inc 123, /inc_123 from a digest) — an incident's card with its buttons",
      "/open [high|medium|low] — open incidents; /stats [24h|7d|30d] — a summary",
      "/report on|off — the morning shift report in this chat",
      "/ping — check that the bot is alive",
      "/id — this chat's id",
      "/help — this help",
      "In your own private chat with the bot: /mute 2h — incidents arrive without sound for 2 hours; /unmute — sound again.",
    ].join("\n"),
    idAnswer: ({ chatId, threadId, userId }) =>
      [
        `This chat's id: ${chatId}`,
        ...(threadId != null ? [`Topic id: ${threadId}`] : []),
        ...(userId != null ? [`Your id: ${userId}`] : []),
      ].join("\n"),
    pingAnswer: (uptime) => `The bot is alive. Up for ${uptime}.`,
    answeredInPrivate: "The answer is in your private chat with the bot.",
    doneAnsweredInPrivate: "Done. The details are in your private chat with the bot.",
    privateChatNeeded: ({ bot, done }) =>
      done
        ? `Done. The bot shows the details only in a private chat, but it cannot write to you there: open a chat with @${bot} and press Start.`
        : `The bot shows this answer only in a private chat, but it cannot write to you there: open a chat with @${bot}, press Start and send the command again.`,
    privateAnswerFailed: ({ done }) =>
      done
        ? "Done, but the details could not be sent to your private chat."
        : "The answer could not be sent to your private chat. Send the command again later.",
  },

  actions: {
    approved: "Incident approved",
    closed: "Incident closed",
    refreshed: "Refreshed",
    cancelled: "Close cancelled",
    notAllowed: "You are not allowed to change incidents",
    failed: (reason) => `Failed: ${clipPlain(inline(reason, 400) || EMPTY, 180)}`,
    alreadyChanged: (current) => `Someone changed it first: now “${inline(status(current), 64)}”`,
    unknownButton: "This button has expired. Refresh the message or open the incident in the SIEM.",
    busy: "The previous action is still running, please wait",
    confirmClose: "Close the incident as a false positive? Press “Yes, close” or “Cancel”.",
    tooManyPresses: "Too many presses in a row: this one was not carried out. Wait a few seconds.",
    offlinePress: (downFor) =>
      `The bot was offline (${downFor}); this press was not carried out. Press again if it is still needed.`,
    offlinePressNotice: ({ who, downFor }) =>
      `${who}: the bot was offline (${downFor}), so button presses made meanwhile were not carried out. Press the button again if the action is still needed.`,
  },

  siemComment: {
    approveMeasures: "Incident approved via the Telegram bot.",
    approveMessage: (who) => `Incident approved by ${who} via the Telegram bot.`,
    closeMeasures: "Incident closed via the Telegram bot.",
    closeMessage: (who) => `Incident closed by ${who} via the Telegram bot.`,
  },

  notices: {
    botStarted: ({ siemUrl, siemVersion, chats, tookOver }) =>
      (tookOver ? `Instance ${tookOver.instance} took over from ${tookOver.from}. ` : "") +
      `The bot has started and watches the SIEM at ${siemUrl}${siemVersion ? ` (version ${siemVersion})` : ""}. ` +
      (chats > 0
        ? `Chats receiving incidents: ${chats}.`
        : "No chat receives incidents yet: send /start in a chat or use /accept <id>."),
    botRemoved: (chat) => `The bot was removed from or blocked in ${chat}. Sending there is paused.`,
    chatMigrated: ({ chat, fromId, toId }) =>
      `A group became a supergroup: ${chat}. Id ${fromId} → ${toId}; incidents now go to the new id.`,
    chatInactive: ({ chat, reason }) =>
      `A chat stopped accepting messages: ${chat}. Reason: ${inline(reason, 300) || EMPTY}. Sending there is paused.`,
    chatPaused: ({ chat, chatId, reason }) =>
      `The bot may not post in ${chat}: ${inline(reason, 300) || EMPTY}. Sending there is paused; ` +
      `undelivered incidents are kept. Once the bot may post there again, send /accept ${chatId} to deliver them.`,
    siemDown: ({ since, reason }) =>
      `⚠️ The SIEM has been unreachable since ${since}: ${inline(reason, 300) || EMPTY}. Still trying; you will hear when it is back.`,
    siemRecovered: ({ downFor, caughtUp }) =>
      `✅ The SIEM is back (down for ${downFor}). ` +
      (caughtUp > 0
        ? `Caught up on ${caughtUp} missed ${pluralEn(caughtUp, "incident", "incidents")}.`
        : "No new incidents in the meantime."),
    digestHeader: (count) => `${count} new ${pluralEn(count, "incident", "incidents")}`,
  },

  routing: routingEn,
  workflow: workflowEn,

  debug: {
    title: "Bot state",
    version: "Version",
    uptime: "Up for",
    siemUrl: "SIEM",
    siemVersion: "SIEM version",
    siemState: "SIEM connection",
    siemOk: "OK",
    siemDown: "unreachable",
    lastPoll: "Last poll",
    watermark: "Incidents read up to",
    incidentsSeen: "Incidents received",
    chatsAllowed: "Chats receiving incidents",
    chatsInactive: "Inactive chats",
    chatsBanned: "Blocked chats",
    outboxPending: "Waiting to be sent",
    outboxFailed: "Failed to send",
    lastError: "Last error",
    logTail: "Last log lines",
    never: "not yet",
    none: "none",
  },
};
