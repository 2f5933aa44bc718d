// The mute-end summary (design.md §3, issue 13): when a mute is over — its end time passed, or /unmute
// ended it — the chat (or the forum topic the mute was on) gets one short line saying how many incidents
// arrived silently during it (the outbox rows that carry the mute's id). Mutes of one chat and topic that
// end together make one line.
//
// - The leader's delivery sends it, as the chat's lane, through the same Telegram calls, send window and
//   pacer as the incidents: never around a retry_after, and only once the chat's queue is empty, so the
//   line comes after the incidents it counts.
// - It goes out at most once, across restarts and instances: each line is claimed in the store
//   (mutes.summary_sent_at, one fenced statement) before it is sent, and given back only when it is
//   certain that it did not go out, or when it should wait (a transient failure, the chat paused).
//   A call cut short by a stop may have reached Telegram: its claim is kept (never two lines).
// - A mute that made nothing silent still gets its line ("no incidents arrived"): the chat learns that
//   the sound is back either way.
// - The line itself is silent: it is about no incident, so it has no reason to ring (the mute may end at
//   3 a.m.).
import type { Logger } from "pino";
import type { Locale } from "../config/types.js";
import { t } from "../i18n/index.js";
import { escapeHtml } from "../render/index.js";
import type { DueMuteSummary, Store } from "../store/index.js";
import type { ChatFailure } from "./copy-edits.js";
import type { SendStep } from "./new-messages.js";
import type { SendWindows } from "./send-window.js";
import type { TelegramCalls } from "./telegram-calls.js";

/**
 * A mute's line waits this long after its end: an ingest that decided "muted" just before the end may
 * still be committing its rows, and the line must count them.
 */
export const MUTE_SUMMARY_SETTLE_MS = 2_000;
/** Mutes looked at per pass. */
const DUE_PER_PASS = 50;

/** One line to send: the mutes of one chat and topic that are over. */
export interface SummaryLine {
  chatId: number;
  /** null: the chat's General topic (or its only thread). */
  threadId: number | null;
  muteIds: number[];
}

export interface MuteSummariesDeps {
  store: Store;
  calls: TelegramCalls;
  windows: SendWindows;
  log: Logger;
  now: () => number;
  /** The bot's language (BOT_LOCALE). */
  locale: Locale;
  /** The wait before retry number `attempts + 1` after a transient failure. */
  backoff: (attempts: number) => number;
  stopping: () => boolean;
  /** The chat moved, is gone, or may not be posted to: the same handling as for an incident. */
  onChatFailure: (chatId: number, failure: ChatFailure) => Promise<void>;
}

export class MuteSummaries {
  /** Transient failures per line (by its first mute id), for the backoff. */
  private readonly attempts = new Map<number, number>();

  constructor(private readonly deps: MuteSummariesDeps) {}

  /**
   * The lines due at `now`, by chat. Mutes of a chat that no longer receives at all (denied, banned,
   * unknown) are claimed here and dropped: such a chat sees nothing more.
   */
  async due(now: number): Promise<Map<number, SummaryLine[]>> {
    const { store, log } = this.deps;
    const mutes = await store.routing.dueSummaries(now - MUTE_SUMMARY_SETTLE_MS, DUE_PER_PASS);
    const dropped = mutes.filter((m) => m.chatState !== "allowed");
    if (dropped.length > 0) {
      const ids = await store.routing.claimSummaries(
        dropped.map((m) => m.id),
        now,
      );
      if (ids.length > 0) log.info({ mutes: ids }, "mutes ended in chats that no longer receive: no summary");
    }
    const byChat = new Map<number, SummaryLine[]>();
    for (const mute of mutes) {
      if (mute.chatState !== "allowed") continue;
      const threadId = destinationOf(mute);
      const lines = byChat.get(mute.chatId) ?? [];
      const line = lines.find((l) => l.threadId === threadId);
      if (line) line.muteIds.push(mute.id);
      else lines.push({ chatId: mute.chatId, threadId, muteIds: [mute.id] });
      byChat.set(mute.chatId, lines);
    }
    return byChat;
  }

  /** Claims one line, counts what its mutes made silent, and sends it. */
  async send(line: SummaryLine): Promise<SendStep> {
    const { store, log } = this.deps;
    if (this.deps.stopping()) return { next: "stop" };
    const claimedAt = this.deps.now();
    const claimed = await store.routing.claimSummaries(line.muteIds, claimedAt);
    // Another instance (or an earlier pass) has it.
    if (claimed.length === 0) return { next: "continue", sent: false };
    if (this.deps.stopping()) {
      await store.routing.releaseSummaries(claimed, claimedAt);
      return { next: "stop" };
    }
    const counts = await store.routing.mutedCounts(claimed);
    const silently = [...counts.values()].reduce((a, b) => a + b, 0);
    const text = t(this.deps.locale).routing.muteEnded(silently);
    const outcome = await this.deps.windows.run(line.chatId, () =>
      this.deps.calls.send(
        line.chatId,
        line.threadId,
        { html: escapeHtml(text), plain: text },
        { silent: true },
      ),
    );
    const key = claimed[0]!;
    if (outcome.ok) {
      this.attempts.delete(key);
      log.info(
        { chatId: line.chatId, threadId: line.threadId, mutes: claimed, silently },
        "mute over: told the chat how many incidents arrived silently",
      );
      return { next: "continue", sent: true };
    }
    const failure = outcome.failure;
    switch (failure.kind) {
      case "stopped":
        // Cut short: it may have reached Telegram. Losing this line beats showing it twice.
        return { next: "stop" };
      case "rate_limited":
        // The pacer holds the chat until retry_after has passed; the lane waits there before trying again.
        await store.routing.releaseSummaries(claimed, claimedAt);
        return { next: "continue", sent: false };
      case "transient": {
        await store.routing.releaseSummaries(claimed, claimedAt);
        const attempts = this.attempts.get(key) ?? 0;
        this.attempts.set(key, attempts + 1);
        const at = this.deps.now() + this.deps.backoff(attempts);
        log.warn(
          { chatId: line.chatId, description: failure.description },
          "could not send a mute's summary line; will retry",
        );
        return { next: "retry", at };
      }
      case "cannot_post":
      case "migrated":
        // Kept: a paused chat gets it once it is allowed again; a migrated one under its new id.
        await store.routing.releaseSummaries(claimed, claimedAt);
        await this.deps.onChatFailure(line.chatId, failure);
        return { next: "stop" };
      case "chat_gone":
        // Dropped, like the chat's undelivered incidents.
        await this.deps.onChatFailure(line.chatId, failure);
        return { next: "stop" };
      default:
        log.error(
          { chatId: line.chatId, mutes: claimed, description: failure.description },
          "Telegram refused a mute's summary line; giving up on it",
        );
        return { next: "continue", sent: false };
    }
  }
}

/** A topic mute's line goes to its topic; a whole-chat mute's to the chat's own thread. */
function destinationOf(mute: DueMuteSummary): number | null {
  return mute.threadId ?? mute.chatThreadId;
}
