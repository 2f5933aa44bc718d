// English texts for working an incident from the chat (design.md §4). Plain text.

import { inline } from "./shared.js";
import type { BotActionKind, CloseReasonKey, WorkflowMessages } from "./workflow-messages.js";

const REASON: Record<CloseReasonKey, string> = {
  false_positive: "false positive",
  duplicate: "duplicate",
  authorised: "test or authorised activity",
  other: "other reason",
};

const ACTION: Record<BotActionKind, string> = {
  approve: "approved",
  take: "took it",
  resolve: "resolved",
  close: "closed",
};

const STATUS: Record<string, string> = {
  New: "New",
  Approved: "Approved",
  InProgress: "In progress",
  Resolved: "Resolved",
  Closed: "Closed",
};
const statusWord = (raw: string) => STATUS[raw] ?? inline(raw, 64);

export const workflowEn: WorkflowMessages = {
  buttons: {
    take: "🛠 Take",
    resolve: "✔️ Resolve",
    closeDuplicate: "📑 Duplicate",
    closeAuthorised: "🧪 Test / authorised",
    closeOther: "📝 Other",
  },
  closeReason: (reason) => REASON[reason],
  confirmClose: "Close the incident? “Yes, close” closes it as a false positive; or pick another reason.",
  answers: {
    taken: (login) => `In progress and assigned to ${inline(login, 64)}`,
    takenNotLinked: (id) =>
      `In progress, not assigned: your Telegram account (${id}) is not linked to an MP account. Ask an admin: /link ${id} <MP login>`,
    takenAssignFailed: (reason) => `In progress, but the assignment failed: ${inline(reason, 120)}`,
    resolved: "Incident resolved",
    closed: (reason) => `Incident closed: ${REASON[reason]}`,
    raced: ({ status, by, time }) =>
      `Not done: the incident is already ${statusWord(status)}${by ? ` (${inline(by, 60)}${time ? `, ${time}` : ""})` : time ? ` (${time})` : ""}. The card is updated.`,
  },
  siemComment: {
    takeMeasures: "Incident taken through the Telegram bot.",
    takeMessage: (who) => `Incident taken by ${who} through the Telegram bot.`,
    resolveMeasures: "Incident resolved through the Telegram bot.",
    resolveMessage: (who) => `Incident resolved by ${who} through the Telegram bot.`,
    closeMeasures: "Incident closed through the Telegram bot.",
    closeMessage: (who, reason) =>
      `Incident closed by ${who} through the Telegram bot. Reason: ${REASON[reason]}.`,
  },
  card: {
    assignee: "Assignee",
    rules: "Correlation rules",
    targets: "Targets",
    attackers: "Attackers",
    andMore: (n) => `and ${n} more`,
    history: "Through the bot",
    historyLine: ({ time, who, action, reason }) =>
      `${time} ${who}: ${ACTION[action]}${reason ? ` (${REASON[reason]})` : ""}`,
  },
  links: {
    usageLink:
      "Link a Telegram user to an MP SIEM account (so Take assigns to it): /link <Telegram user id> <MP login>, e.g. /link 123456789 ivanov. List: /links; remove: /unlink <id>.",
    usageUnlink: "Remove a link: /unlink <Telegram user id>, e.g. /unlink 123456789. List: /links.",
    badTelegramId: (raw) =>
      `“${inline(raw, 40)}” is not a Telegram user id: a positive number is needed (/id shows it). Nothing was changed.`,
    badLogin: (raw) =>
      `“${inline(raw, 40)}” is not an MP login: up to 128 letters, digits and . _ @ \\ -. Nothing was changed.`,
    loginNotFound: (login) =>
      `MP SIEM has no user with the login “${inline(login, 64)}”. Check the login (as used to sign in to MP SIEM). Nothing was changed.`,
    lookupFailed: (reason) =>
      `Could not check the login in MP SIEM: ${inline(reason, 200)}. Nothing was changed; try again later.`,
    linked: ({ telegramId, login, replaced }) =>
      `User ${telegramId} is linked to the MP account “${inline(login, 64)}”${replaced ? ` (was “${inline(replaced, 64)}”)` : ""}. Take now assigns incidents to it.`,
    unlinked: (id, login) => `User ${id} is no longer linked to the MP account “${inline(login, 64)}”.`,
    notLinked: (id) => `User ${id} is not linked to any MP account. List: /links.`,
    listTitle: "Telegram → MP SIEM links:",
    listEmpty: "No links. Add one: /link <Telegram user id> <MP login>.",
    listLine: ({ telegramId, telegramName, mpLogin, by, at }) =>
      `• ${telegramId}${telegramName ? ` (${inline(telegramName, 64)})` : ""} → ${inline(mpLogin, 64)} — ${inline(by, 64)}, ${at}`,
  },
};
