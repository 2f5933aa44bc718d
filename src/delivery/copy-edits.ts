// Keeps every delivered single-message copy of an incident showing its current version: one edit at a
// time, in the chat's lane, with a plain-text fallback and a backoff for transient failures.
import type { Logger } from "pino";
import type { Metrics } from "../http/metrics.js";
import { renderIncident } from "../render/index.js";
import type { RenderOptions } from "../render/types.js";
import type { StaleCopy, Store } from "../store/index.js";
import type { Pacer } from "./pacer.js";
import type { TelegramCalls } from "./telegram-calls.js";
import type { TelegramFailure } from "./telegram-errors.js";
import { incidentView } from "./view.js";

/** Failures that concern the whole chat (moved, gone, may not post): the lane hands them over. */
export type ChatFailure = Extract<TelegramFailure, { kind: "migrated" | "chat_gone" | "cannot_post" }>;

export interface CopyEditorDeps {
  store: Store;
  calls: TelegramCalls;
  pacer: Pacer;
  metrics: Metrics;
  log: Logger;
  now: () => number;
  renderOptions: RenderOptions;
  /** The wait before retry number `attempts + 1` after a transient failure. */
  backoff: (attempts: number) => number;
  /** The chat was moved, is gone, or may not be posted to. */
  onChatFailure: (chatId: number, failure: ChatFailure) => Promise<void>;
}

const EDITS_PER_LOOK = 20;
/** Copies stop being stale without an edit too (chat gone, incident edited again): forget old retries. */
const MAX_RETRIES_TRACKED = 10_000;

export class CopyEditor {
  /** Edits that failed transiently: copy id → next try. */
  private readonly retries = new Map<number, { at: number; attempts: number }>();

  constructor(private readonly deps: CopyEditorDeps) {}

  /** The chat's next copy to bring up to date, skipping those waiting for a retry. */
  async next(chatId: number, now: number): Promise<StaleCopy | undefined> {
    if (this.retries.size > MAX_RETRIES_TRACKED) this.retries.clear();
    const copies = await this.deps.store.outbox.staleCopiesForChat(chatId, EDITS_PER_LOOK);
    return copies.find((c) => (this.retries.get(c.id)?.at ?? 0) <= now);
  }

  /** Brings one delivered copy up to the incident's current version. False: stop this lane for now. */
  async edit(copy: StaleCopy): Promise<boolean> {
    const { store, metrics, log } = this.deps;
    const incident = await store.incidents.get(copy.incidentId);
    if (incident === undefined) {
      await store.outbox.setRenderedVersion(copy.id, copy.version);
      return true;
    }
    // A copy delivered silently keeps its 🔕 in every edit.
    const rendered = renderIncident(
      { ...incidentView(incident), silent: copy.silent },
      this.deps.renderOptions,
    );
    let plain = false;
    for (;;) {
      const failure = await this.deps.calls.edit(copy.chatId, copy.messageId, rendered, plain);
      if (failure === undefined || failure.kind === "not_modified" || failure.kind === "message_gone") {
        await store.outbox.setRenderedVersion(copy.id, incident.version);
        this.retries.delete(copy.id);
        const result =
          failure === undefined
            ? plain
              ? "plain_fallback"
              : "edited"
            : failure.kind === "not_modified"
              ? "not_modified"
              : "gone";
        metrics.edits.inc({ result });
        if (failure?.kind === "message_gone") {
          log.info(
            { chatId: copy.chatId, messageId: copy.messageId },
            "message deleted in Telegram; no more edits",
          );
        }
        return true;
      }
      switch (failure.kind) {
        case "stopped":
          return false;
        case "bad_markup":
        case "bad_request":
        case "thread_gone":
          if (!plain) {
            plain = true;
            continue;
          }
          await store.outbox.setRenderedVersion(copy.id, incident.version);
          this.retries.delete(copy.id);
          metrics.edits.inc({ result: "failed" });
          log.error(
            { chatId: copy.chatId, messageId: copy.messageId, description: failure.description },
            "Telegram refused an edit even as plain text; leaving the message as it is",
          );
          return true;
        case "rate_limited":
          if (this.deps.pacer.bannedUntil(copy.chatId) === 0) {
            this.deps.pacer.recordRetryAfter(copy.chatId, failure.retryAfterSec);
          }
          return true;
        case "migrated":
        case "chat_gone":
        case "cannot_post":
          await this.deps.onChatFailure(copy.chatId, failure);
          return false;
        case "transient": {
          const attempts = (this.retries.get(copy.id)?.attempts ?? 0) + 1;
          const delay = this.deps.backoff(attempts - 1);
          this.retries.set(copy.id, { at: this.deps.now() + delay, attempts });
          metrics.edits.inc({ result: "retry" });
          log.warn(
            { chatId: copy.chatId, description: failure.description, retryInMs: delay },
            "editing a message failed; will retry",
          );
          return true;
        }
      }
    }
  }
}
