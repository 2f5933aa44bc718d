// Reminders and escalations (design.md §5, issue 15) as a chat's lane sends them: the scheduler
// (src/schedule) writes what a chat is owed; this sends it through the same Telegram calls, send window and
// pacer as the incidents (never around a retry_after), like the mute-end summary (mute-summary.ts).
//
// - A reminder is a reply to the card (reply_parameters), naming the key and how long it has been New.
// - An escalation is the full card with its buttons, a new message with an escalation header; it is kept
//   as a lookup copy, so that it is edited like every other copy.
// - At send time the incident is looked at once more: one that left New (a button, the SIEM UI seen by the
//   poller) or that someone took meanwhile gets nothing.
// - Caps against storms: at most REMINDERS_PER_CHAT_PER_HOUR reminder messages per chat per hour; more
//   than COLLAPSE_ABOVE owed at once go out as one "N incidents without a reaction" message, each with its
//   /inc_N; beyond the hourly cap they are dropped (the incident's next reminder, if any, comes later).
//   Several steps of one incident still waiting in a chat (its lane was held up) go out as its latest one.
// - Each message is claimed before it is sent and never sent twice; a call cut short by a stop keeps its
//   claim (losing a reminder beats showing it twice).
import type { Logger } from "pino";
import type { Locale } from "../config/types.js";
import { reminderTexts } from "../i18n/index.js";
import { escapeHtml, lookupCommandOf, renderIncident } from "../render/index.js";
import type { RenderOptions } from "../render/types.js";
import type { ReminderMessage, Store, StoredIncident } from "../store/index.js";
import type { ChatFailure } from "./copy-edits.js";
import type { SendStep } from "./new-messages.js";
import type { SendWindows } from "./send-window.js";
import type { SendOutcome, TelegramCalls } from "./telegram-calls.js";
import { incidentView } from "./view.js";

/** Reminder messages a chat gets per hour at most (a collapsed one counts once). */
export const REMINDERS_PER_CHAT_PER_HOUR = 10;
/** More reminders than this owed to a chat at once are collapsed into one message. */
export const COLLAPSE_ABOVE = 3;
/** Incidents a collapsed message lists by name; the rest are counted. */
const COLLAPSED_LISTED = 30;
/** Owed messages read per pass. */
const PER_PASS = 100;

export interface ReminderSendsDeps {
  store: Store;
  calls: TelegramCalls;
  windows: SendWindows;
  log: Logger;
  now: () => number;
  locale: Locale;
  renderOptions: RenderOptions;
  backoff: (attempts: number) => number;
  stopping: () => boolean;
  onChatFailure: (chatId: number, failure: ChatFailure) => Promise<void>;
}

export class ReminderSends {
  private readonly attempts = new Map<number, number>();

  constructor(private readonly deps: ReminderSendsDeps) {}

  /** Chats owed reminders or escalations. */
  async due(): Promise<number[]> {
    return [...(await this.deps.store.reminders.pendingChats()).keys()];
  }

  /** One pass over a chat's owed messages; the lane waits for the pacer between sends (`ready`). */
  async sendChat(chatId: number, ready: () => Promise<void>): Promise<SendStep> {
    const { store, log } = this.deps;
    const owed = await store.reminders.pendingForChat(chatId, PER_PASS);
    if (owed.length === 0) return { next: "continue", sent: false };
    const incidents = await store.incidents.getMany([...new Set(owed.map((m) => m.incidentId))]);
    const live: ReminderMessage[] = [];
    const gone: number[] = [];
    for (const message of owed) {
      const incident = incidents.get(message.incidentId);
      if (incident && incident.status === "New" && !incident.extras?.assignee) live.push(message);
      else gone.push(message.id);
    }
    if (gone.length > 0) {
      await store.reminders.settle(await store.reminders.claim(gone), "dropped");
      log.info({ chatId, messages: gone.length }, "reminders dropped: their incidents are no longer New");
    }
    let sent = false;
    for (const escalation of live.filter((m) => m.kind === "escalate")) {
      await ready();
      const step = await this.escalate(escalation, incidents.get(escalation.incidentId)!);
      if (step.next !== "continue") return step;
      sent ||= step.sent;
    }
    // Several steps of one incident waiting together (the chat was held up): only the latest says anything.
    const latest = new Map<string, ReminderMessage>();
    for (const m of live) {
      if (m.kind !== "remind") continue;
      const before = latest.get(m.incidentId);
      if (before === undefined || m.id > before.id) latest.set(m.incidentId, m);
    }
    const superseded = live
      .filter((m) => m.kind === "remind" && latest.get(m.incidentId) !== m)
      .map((m) => m.id);
    if (superseded.length > 0)
      await store.reminders.settle(await store.reminders.claim(superseded), "dropped");
    const reminders = [...latest.values()].sort((a, b) => a.id - b.id);
    if (reminders.length === 0) return { next: "continue", sent };
    const room =
      REMINDERS_PER_CHAT_PER_HOUR -
      (await store.reminders.sentToChatSince(chatId, this.deps.now() - 3_600_000));
    if (room <= 0) {
      await store.reminders.settle(await store.reminders.claim(reminders.map((m) => m.id)), "dropped");
      log.warn(
        { chatId, reminders: reminders.length, perHour: REMINDERS_PER_CHAT_PER_HOUR },
        "the chat had its reminders for this hour; dropping the rest",
      );
      return { next: "continue", sent };
    }
    if (reminders.length <= COLLAPSE_ABOVE && reminders.length <= room) {
      for (const reminder of reminders) {
        await ready();
        const step = await this.remind(reminder, incidents.get(reminder.incidentId)!);
        if (step.next !== "continue") return step;
        sent ||= step.sent;
      }
      return { next: "continue", sent };
    }
    await ready();
    const step = await this.collapse(chatId, reminders, incidents);
    return step.next === "continue" ? { next: "continue", sent: sent || step.sent } : step;
  }

  private async remind(message: ReminderMessage, incident: StoredIncident): Promise<SendStep> {
    const text = reminderTexts(this.deps.locale).reminder(incident.key, message.newForMs);
    return this.sendClaimed([message.id], message.chatId, () =>
      this.deps.calls.send(
        message.chatId,
        message.threadId,
        { html: escapeHtml(text), plain: text },
        message.replyTo !== null ? { replyTo: message.replyTo } : {},
      ),
    );
  }

  private async collapse(
    chatId: number,
    reminders: ReminderMessage[],
    incidents: Map<string, StoredIncident>,
  ): Promise<SendStep> {
    const r = reminderTexts(this.deps.locale);
    const lines = reminders.slice(0, COLLAPSED_LISTED).map((m) => {
      const incident = incidents.get(m.incidentId)!;
      const command = lookupCommandOf(incident.key);
      return `${incident.key}${command ? ` ${command}` : ""} — ${r.duration(m.newForMs)}`;
    });
    const text = r.collapsed(reminders.length, lines, Math.max(0, reminders.length - COLLAPSED_LISTED));
    // The chat's own thread when the reminders disagree on topics (one message cannot go to several).
    const threads = new Set(reminders.map((m) => m.threadId));
    const threadId = threads.size === 1 ? reminders[0]!.threadId : null;
    return this.sendClaimed(
      reminders.map((m) => m.id),
      chatId,
      () => this.deps.calls.send(chatId, threadId, { html: escapeHtml(text), plain: text }),
    );
  }

  private async escalate(message: ReminderMessage, incident: StoredIncident): Promise<SendStep> {
    const card = renderIncident(incidentView(incident), this.deps.renderOptions);
    const header = reminderTexts(this.deps.locale).escalationHeader(message.newForMs);
    const step = await this.sendClaimed(
      [message.id],
      message.chatId,
      () =>
        this.deps.calls.send(message.chatId, message.threadId, {
          html: `<b>${escapeHtml(header)}</b>\n${card.html}`,
          plain: `${header}\n${card.plain}`,
          keyboard: card.keyboard,
        }),
      async (messageId) => {
        // Kept up to date like an /inc card: a status change edits it.
        await this.deps.store.outbox.addLookupCopy({
          incidentId: incident.id,
          chatId: message.chatId,
          threadId: message.threadId,
          messageId,
          renderedVersion: incident.version,
          askedBy: null,
        });
      },
    );
    return step;
  }

  /** Claims the messages, sends them as one Telegram message, and settles them by the outcome. */
  private async sendClaimed(
    ids: number[],
    chatId: number,
    call: () => Promise<SendOutcome>,
    afterSent?: (messageId: number) => Promise<void>,
  ): Promise<SendStep> {
    const { store, log } = this.deps;
    if (this.deps.stopping()) return { next: "stop" };
    const claimed = await store.reminders.claim(ids);
    if (claimed.length === 0) return { next: "continue", sent: false };
    if (this.deps.stopping()) {
      await store.reminders.settle(claimed, "pending");
      return { next: "stop" };
    }
    const outcome = await this.deps.windows.run(chatId, call);
    const key = claimed[0]!;
    if (outcome.ok) {
      this.attempts.delete(key);
      await store.reminders.settle(claimed, "sent", outcome.messageId);
      await afterSent?.(outcome.messageId);
      return { next: "continue", sent: true };
    }
    const failure = outcome.failure;
    switch (failure.kind) {
      case "stopped":
        // Cut short: it may have reached Telegram. The claim stays (never twice).
        return { next: "stop" };
      case "rate_limited":
        await store.reminders.settle(claimed, "pending");
        return { next: "continue", sent: false };
      case "transient": {
        await store.reminders.settle(claimed, "pending");
        const attempts = this.attempts.get(key) ?? 0;
        this.attempts.set(key, attempts + 1);
        log.warn({ chatId, description: failure.description }, "could not send a reminder; will retry");
        return { next: "retry", at: this.deps.now() + this.deps.backoff(attempts) };
      }
      case "cannot_post":
        await store.reminders.settle(claimed, "pending");
        await this.deps.onChatFailure(chatId, failure);
        return { next: "stop" };
      case "migrated":
        // The group became a supergroup: the cards they answer stay in the old one, where the bot can no
        // longer post (and the old id is forgotten, so they would be tried again and again).
        await store.reminders.settle(claimed, "dropped");
        log.warn(
          { chatId, newChatId: failure.newChatId },
          "the chat moved to a supergroup; its reminders are dropped",
        );
        await this.deps.onChatFailure(chatId, failure);
        return { next: "stop" };
      case "chat_gone":
        await store.reminders.settle(claimed, "dropped");
        await this.deps.onChatFailure(chatId, failure);
        return { next: "stop" };
      default:
        await store.reminders.settle(claimed, "dropped");
        log.error(
          { chatId, description: failure.description },
          "Telegram refused a reminder; giving up on it",
        );
        return { next: "continue", sent: false };
    }
  }
}
