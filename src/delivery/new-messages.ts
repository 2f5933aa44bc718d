// A chat's next new message: its first due incident alone (High ones first), or a digest of its
// backlog; sent into the row's topic, with or without sound as the row says, inside the chat's send
// window with its message id recorded at once; and what a failure means for its rows.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Metrics } from "../http/metrics.js";
import { renderIncident } from "../render/index.js";
import type { RenderOptions } from "../render/types.js";
import { FencedError, type PendingDelivery, type Store, type StoredIncident } from "../store/index.js";
import type { ChatFailure } from "./copy-edits.js";
import { chooseNextSend, fitDigest } from "./digest-decision.js";
import type { Pacer } from "./pacer.js";
import type { SendWindows } from "./send-window.js";
import type { Content, SendOutcome, TelegramCalls } from "./telegram-calls.js";
import type { TelegramFailure } from "./telegram-errors.js";
import { incidentView, shownHash } from "./view.js";

/** What the lane does after one send. */
export type SendStep =
  /** Go on with the chat's next row or edit; `sent`: a message went out (the chat is healthy). */
  | { next: "continue"; sent: boolean }
  /** Stop the lane for now: the service is stopping, or the chat moved, is gone or is paused. */
  | { next: "stop" }
  /** A transient failure: the chat waits until `at`. */
  | { next: "retry"; at: number };

export interface NewMessagesDeps {
  store: Store;
  calls: TelegramCalls;
  windows: SendWindows;
  pacer: Pacer;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  renderOptions: RenderOptions;
  tuning: { digestThresholdMs: number };
  /**
   * How many chats have a backlog now (the lanes share the bot's 30 messages a second): a chat's
   * backlog is judged at its share of that rate too, not only at its own pace.
   */
  busyChats: () => number;
  /** The wait before retry number `attempts + 1` after a transient failure. */
  backoff: (attempts: number) => number;
  stopping: () => boolean;
  onChatFailure: (chatId: number, failure: ChatFailure) => Promise<void>;
}

export class NewMessages {
  /** Chats whose backlog is going out as digests: it goes on so until the backlog is sent. */
  private readonly flooding = new Set<number>();

  constructor(private readonly deps: NewMessagesDeps) {}

  /** The chat has nothing pending: its next backlog is judged afresh. */
  backlogSent(chatId: number): void {
    this.flooding.delete(chatId);
  }

  /**
   * Sends the chat's first due row, or a digest of its backlog (`rows`: the chat's pending rows in
   * lane order: rank, then id).
   */
  async sendNext(chatId: number, rows: PendingDelivery[], asOf: number): Promise<SendStep> {
    const drainMs = this.drainMs(chatId, rows);
    const next = chooseNextSend(rows, asOf, drainMs, {
      digestThresholdMs: this.deps.tuning.digestThresholdMs,
      flooding: this.flooding.has(chatId),
    });
    if (next.kind === "single") return this.sendSingle(next.row);
    const step = await this.sendDigest(next.rows);
    if (step.next === "continue" && step.sent) this.flooding.add(chatId);
    return step;
  }

  /**
   * How long the backlog would take one message per incident: at the chat's own pace, or at its share
   * of the bot-wide rate when many chats have a backlog at once, whichever is longer.
   */
  private drainMs(chatId: number, rows: PendingDelivery[]): number {
    const { pacer } = this.deps;
    const ownPace = pacer.estimateDrainMs(chatId, rows[0]!.chatKind, rows.length);
    const share = pacer.limits.perBotPerSec / Math.max(1, this.deps.busyChats());
    return Math.max(ownPace, (rows.length / share) * 1000);
  }

  private async sendSingle(row: PendingDelivery): Promise<SendStep> {
    const { store } = this.deps;
    // Sent as the store has it: intake reads details and events before it queues, or edits them in later.
    const incident = await store.incidents.get(row.incidentId);
    if (incident === undefined) {
      await store.outbox.cancel([row.id], "incident no longer in the store");
      return { next: "continue", sent: false };
    }
    if (this.deps.stopping()) return { next: "stop" };
    const rendered = renderIncident(
      { ...incidentView(incident), silent: row.silent },
      this.deps.renderOptions,
    );
    const outcome = await this.sendAndRecord([row], rendered, "single", incident.version, row.silent);
    if (outcome.ok) {
      this.countSent(row, outcome, "sent", 1);
      this.observeLatency([incident]);
      return { next: "continue", sent: true };
    }
    return this.failed([row], outcome.failure);
  }

  private async sendDigest(rows: PendingDelivery[]): Promise<SendStep> {
    const { store } = this.deps;
    const known = await store.incidents.getMany(rows.map((r) => r.incidentId));
    const missing = rows.filter((r) => !known.has(r.incidentId)).map((r) => r.id);
    if (missing.length > 0) await store.outbox.cancel(missing, "incident no longer in the store");
    const incidents = rows.map((r) => known.get(r.incidentId)).filter((i) => i !== undefined);
    if (incidents.length === 0) return { next: "continue", sent: false };
    const rowByIncident = new Map(rows.map((r) => [r.incidentId, r]));
    // Silent only when every incident it holds is: one that should ring makes the message ring.
    const page = fitDigest(incidents, this.deps.renderOptions, (ids) =>
      ids.every((id) => rowByIncident.get(id)?.silent === true),
    );
    if (page === undefined) return this.sendSingle(rows[0]!);
    const included = page.included.map((id) => rowByIncident.get(id)).filter((r) => r !== undefined);
    const head = included[0]!;
    const versions = new Map(incidents.map((i) => [i.id, i.version]));
    // Each line shows its incident's version now; the message remembers its lines and its text, so that a
    // later change of one of them edits it (copy-edits.ts).
    const outcome = await this.sendAndRecord(included, page, "digest", 0, page.silent, (messageId) =>
      this.deps.store.outbox.markDigestSent({
        chatId: head.chatId,
        messageId,
        rows: included.map((r) => ({
          id: r.id,
          incidentId: r.incidentId,
          version: versions.get(r.incidentId)!,
        })),
        silent: page.silent,
        shownHash: shownHash(page.html),
      }),
    );
    if (outcome.ok) {
      this.countSent(head, outcome, "digest", included.length);
      const byId = new Map(incidents.map((i) => [i.id, i]));
      this.observeLatency(included.map((r) => byId.get(r.incidentId)!));
      this.deps.log.info(
        { chatId: head.chatId, incidents: included.length, messageId: outcome.messageId },
        "sent a digest instead of single messages (backlog too large for the chat's pace)",
      );
      return { next: "continue", sent: true };
    }
    return this.failed(included, outcome.failure);
  }

  /** Sends one message for these rows and records its id, inside the chat's send window. */
  private sendAndRecord(
    rows: PendingDelivery[],
    content: Content,
    via: "single" | "digest",
    version: number,
    silent: boolean,
    record?: (messageId: number) => Promise<void>,
  ): Promise<SendOutcome> {
    const head = rows[0]!;
    return this.deps.windows.run(head.chatId, async () => {
      const sent = await this.deps.calls.send(head.chatId, head.threadId, content, { silent });
      if (sent.ok) {
        const messageId = sent.messageId;
        await this.markSent(
          record
            ? () => record(messageId)
            : () =>
                this.deps.store.outbox.markSent(
                  rows.map((r) => r.id),
                  messageId,
                  via,
                  version,
                ),
        );
      }
      return sent;
    });
  }

  /** Records the message id; a failure here would make the message repeat, so it is retried. */
  private async markSent(write: () => Promise<void>) {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        // Refused because another instance leads now: trying again cannot help (it sends the row again).
        if (attempt >= 5 || error instanceof FencedError) throw error;
        this.deps.log.warn({ err: error, attempt }, "could not record a sent message id; retrying");
        await sleep(50 * attempt);
      }
    }
  }

  private countSent(row: PendingDelivery, outcome: { plain: boolean }, result: "sent" | "digest", n: number) {
    this.deps.metrics.deliveries.inc(
      { result: outcome.plain ? "plain_fallback" : result, chat_kind: row.chatKind },
      n,
    );
  }

  private observeLatency(incidents: StoredIncident[]): void {
    const now = this.deps.now();
    for (const incident of incidents) {
      const created = incident.created.getTime();
      if (Number.isFinite(created) && created > 0 && created <= now) {
        this.deps.metrics.notificationLatency.observe((now - created) / 1000);
      }
    }
  }

  /** Decides what a failed send means for its rows. */
  private async failed(rows: PendingDelivery[], failure: TelegramFailure): Promise<SendStep> {
    const { store, metrics, log, pacer } = this.deps;
    const head = rows[0]!;
    const ids = rows.map((r) => r.id);
    const chatId = head.chatId;
    switch (failure.kind) {
      case "stopped":
        return { next: "stop" };
      case "rate_limited":
        // The transformer has banned the chat in the pacer; make sure even if it is not installed.
        if (pacer.bannedUntil(chatId) === 0) pacer.recordRetryAfter(chatId, failure.retryAfterSec);
        log.info({ chatId, retryAfter: failure.retryAfterSec }, "Telegram asked to slow down; waiting");
        return { next: "continue", sent: false };
      case "migrated":
      case "chat_gone":
      case "cannot_post":
        await this.deps.onChatFailure(chatId, failure);
        return { next: "stop" };
      case "bad_markup":
      case "bad_request":
      case "not_modified":
      case "message_gone":
      case "thread_gone": {
        await store.outbox.cancel(ids, `Telegram refused the message: ${failure.description}`);
        metrics.deliveries.inc({ result: "failed", chat_kind: head.chatKind }, rows.length);
        log.error(
          { chatId, rows: ids, incidents: rows.map((r) => r.incidentId), description: failure.description },
          "Telegram refused a message even as plain text; giving up on it",
        );
        return { next: "continue", sent: false };
      }
      case "transient": {
        const at = this.deps.now() + this.deps.backoff(head.attempts);
        await store.outbox.retryLater(ids, at, failure.description);
        metrics.deliveries.inc({ result: "retry", chat_kind: head.chatKind }, rows.length);
        log.warn(
          { chatId, code: failure.code, description: failure.description, retryInMs: at - this.deps.now() },
          "sending to Telegram failed; will retry",
        );
        return { next: "retry", at };
      }
    }
  }
}
