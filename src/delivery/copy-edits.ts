// Keeps every delivered copy of an incident showing its current version — single messages, the cards /inc
// sent, and digests (each line's status mark) — one edit at a time, in the chat's lane, with a plain-text
// fallback and a backoff for transient failures. Edits coalesce: a copy is edited to the version the store
// has when its turn comes, however many changes came before; a digest holding several changed incidents
// takes one edit, and none when its text would not change.
import type { Logger } from "pino";
import type { Metrics } from "../http/metrics.js";
import { renderDigestEdit, renderIncident } from "../render/index.js";
import type { RenderOptions } from "../render/types.js";
import type { StaleCopy, StaleDigest, Store } from "../store/index.js";
import type { Pacer } from "./pacer.js";
import type { Content, TelegramCalls } from "./telegram-calls.js";
import type { TelegramFailure } from "./telegram-errors.js";
import { incidentView, shownHash, storedSummary } from "./view.js";

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

/** One message to bring up to date: a copy of one incident, or a digest. */
export type StaleEdit = StaleCopy | StaleDigest;

function isDigest(edit: StaleEdit): edit is StaleDigest {
  return "rows" in edit;
}

/** The key of an edit's retry (copies of different kinds may share an id). */
function retryKey(edit: StaleEdit): string {
  return isDigest(edit) ? `digest:${edit.chatId}:${edit.messageId}` : `${edit.via}:${edit.id}`;
}

export class CopyEditor {
  /** Edits that failed transiently: retry key → next try. */
  private readonly retries = new Map<string, { at: number; attempts: number }>();

  constructor(private readonly deps: CopyEditorDeps) {}

  /** The chat's next message to bring up to date (copies first, then digests), skipping those waiting for a retry. */
  async next(chatId: number, now: number): Promise<StaleEdit | undefined> {
    if (this.retries.size > MAX_RETRIES_TRACKED) this.retries.clear();
    const due = (edit: StaleEdit) => (this.retries.get(retryKey(edit))?.at ?? 0) <= now;
    const copies = await this.deps.store.outbox.staleCopiesForChat(chatId, EDITS_PER_LOOK);
    const copy = copies.find(due);
    if (copy) return copy;
    const digests = await this.deps.store.outbox.staleDigestsForChat(chatId, EDITS_PER_LOOK);
    return digests.find(due);
  }

  /** Brings one delivered message up to date. False: stop this lane for now. */
  async edit(edit: StaleEdit): Promise<boolean> {
    return isDigest(edit) ? this.editDigest(edit) : this.editCopy(edit);
  }

  private async editCopy(copy: StaleCopy): Promise<boolean> {
    const { store } = this.deps;
    const incident = await store.incidents.get(copy.incidentId);
    if (incident === undefined) {
      await store.outbox.setRenderedVersion(copy.id, copy.version, copy.via);
      return true;
    }
    // A copy delivered silently keeps its 🔕 in every edit.
    const rendered = renderIncident(
      { ...incidentView(incident), silent: copy.silent },
      this.deps.renderOptions,
    );
    return this.apply(copy, rendered, () =>
      store.outbox.setRenderedVersion(copy.id, incident.version, copy.via),
    );
  }

  /** Re-renders the digest's lines (same incidents, same order) with their statuses now. */
  private async editDigest(digest: StaleDigest): Promise<boolean> {
    const { store, metrics } = this.deps;
    const incidents = await store.incidents.getMany(digest.rows.map((r) => r.incidentId));
    const shown = digest.rows.map((r) => ({
      id: r.id,
      version: incidents.get(r.incidentId)?.version ?? r.version,
    }));
    const items = digest.rows.flatMap((r) => {
      const incident = incidents.get(r.incidentId);
      return incident ? [storedSummary(incident)] : [];
    });
    const page = renderDigestEdit(items, this.deps.renderOptions, { silent: digest.silent });
    const hash = page === undefined ? (digest.shownHash ?? "") : shownHash(page.html);
    const done = () => store.outbox.digestShown(digest.chatId, digest.messageId, shown, hash);
    if (page === undefined || hash === digest.shownHash) {
      // Nothing a line shows changed (the events, say): no call to Telegram.
      await done();
      this.retries.delete(retryKey(digest));
      metrics.edits.inc({ result: "not_modified" });
      return true;
    }
    return this.apply(digest, { ...page, keyboard: [] }, done);
  }

  /** Edits the message to `rendered`, falling back to plain text; `done` records that it shows it. */
  private async apply(
    edit: StaleEdit,
    rendered: Required<Content>,
    done: () => Promise<void>,
  ): Promise<boolean> {
    const { metrics, log } = this.deps;
    const key = retryKey(edit);
    let plain = false;
    for (;;) {
      const failure = await this.deps.calls.edit(edit.chatId, edit.messageId, rendered, plain);
      if (failure === undefined || failure.kind === "not_modified" || failure.kind === "message_gone") {
        await done();
        this.retries.delete(key);
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
            { chatId: edit.chatId, messageId: edit.messageId },
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
          await done();
          this.retries.delete(key);
          metrics.edits.inc({ result: "failed" });
          log.error(
            { chatId: edit.chatId, messageId: edit.messageId, description: failure.description },
            "Telegram refused an edit even as plain text; leaving the message as it is",
          );
          return true;
        case "rate_limited":
          if (this.deps.pacer.bannedUntil(edit.chatId) === 0) {
            this.deps.pacer.recordRetryAfter(edit.chatId, failure.retryAfterSec);
          }
          return true;
        case "migrated":
        case "chat_gone":
        case "cannot_post":
          await this.deps.onChatFailure(edit.chatId, failure);
          return false;
        case "transient": {
          const attempts = (this.retries.get(key)?.attempts ?? 0) + 1;
          const delay = this.deps.backoff(attempts - 1);
          this.retries.set(key, { at: this.deps.now() + delay, attempts });
          metrics.edits.inc({ result: "retry" });
          log.warn(
            { chatId: edit.chatId, description: failure.description, retryInMs: delay },
            "editing a message failed; will retry",
          );
          return true;
        }
      }
    }
  }
}
