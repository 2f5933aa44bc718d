// Presses that waited at Telegram while the bot was offline. A callback_query carries no time, so a press
// made an hour ago (the bot was down, or Telegram or the network could not be reached) looks like one made
// now — and "Approve" or "Yes, close" should not be carried out blindly so late.
//
// What the bot can know: when its last getUpdates succeeded. Telegram hands out a press at the first
// getUpdates after it was made, so a press in a batch that ends a gap of more than OFFLINE_AFTER_MS since
// the previous successful getUpdates may be that old; one in any other batch is at most one long poll
// (30 s) old. The time is kept in the store (written at most every few seconds, and at stop), so the
// gap across a restart counts too. Presses in such a batch are answered and explained, not carried out.
import type { Transformer } from "grammy";
import type { Update } from "grammy/types";
import type { Logger } from "pino";
import { decodeCallbackData } from "../render/callback-data.js";
import type { Store } from "../store/index.js";
import type { BotContext, BotServices } from "./context.js";
import { actorLabel } from "./names.js";
import { describeError } from "./notify.js";
import { PressAnswer } from "./press-answer.js";
import { sendPlain } from "./send.js";

/** A gap in getUpdates longer than this means the presses it ends may be too old to carry out. */
export const OFFLINE_AFTER_MS = 3 * 60_000;
/** Settings key of the time (ms) of the last successful getUpdates. */
export const LAST_UPDATES_KEY = "telegram.lastUpdatesAt";
const SAVE_EVERY_MS = 5_000;
/** A batch holds at most 100 updates; anything beyond this is not a real batch. */
const MAX_STALE = 1_000;

export interface StalePress {
  /** How long getUpdates had not succeeded before the batch that brought this press. */
  downForMs: number;
  /** The batch it came in (presses in one batch are told about together). */
  batch: number;
}

export class UpdatesGapWatch {
  private lastOkAt: number | null = null;
  private savedAt = Number.NEGATIVE_INFINITY;
  private batch = 0;
  private saving: Promise<void> = Promise.resolve();
  private readonly stale = new Map<number, StalePress>();

  constructor(
    private store: Store,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly offlineAfterMs = OFFLINE_AFTER_MS,
  ) {}

  /**
   * Reads the last getUpdates time of the previous run (or of the previous leader). Never having polled
   * counts as no gap. `store`: the leader's (fenced) view, which the time is saved through from now on.
   */
  async load(store?: Store): Promise<void> {
    if (store) this.store = store;
    try {
      this.lastOkAt = (await this.store.settings.getNumber(LAST_UPDATES_KEY)) ?? null;
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, "could not read the time of the last getUpdates");
    }
  }

  /** On the bot's Api: sees every getUpdates answer (the runner polls through it). */
  readonly transformer: Transformer = async (prev, method, payload, signal) => {
    const result = await prev(method, payload, signal);
    if (method === "getUpdates" && result.ok) this.polled(result.result as Update[]);
    return result;
  };

  private polled(updates: Update[]): void {
    const now = this.now();
    const gap = this.lastOkAt === null ? 0 : now - this.lastOkAt;
    this.lastOkAt = now;
    if (gap > this.offlineAfterMs) {
      this.batch++;
      // Presses of an earlier such batch not asked about (a banned presser's, dropped) are long handled.
      this.stale.clear();
      for (const update of updates) {
        if (update.callback_query === undefined || this.stale.size >= MAX_STALE) continue;
        this.stale.set(update.update_id, { downForMs: gap, batch: this.batch });
      }
      if (updates.length > 0) {
        this.logger.info(
          { offlineMs: gap, updates: updates.length },
          "first updates after the bot was offline",
        );
      }
    }
    if (now - this.savedAt >= SAVE_EVERY_MS) {
      this.savedAt = now;
      this.save(now);
    }
  }

  /**
   * Updates an earlier leader received and never finished, handled only now (after a failover): a press
   * among them older than the offline limit is treated like one that ends a gap.
   */
  noteLate(updates: ReadonlyArray<{ updateId: number; ageMs: number }>): void {
    const old = updates.filter((u) => u.ageMs > this.offlineAfterMs);
    if (old.length === 0) return;
    this.batch++;
    for (const u of old) {
      if (this.stale.size >= MAX_STALE) break;
      this.stale.set(u.updateId, { downForMs: u.ageMs, batch: this.batch });
    }
  }

  /** The press came in the first batch after a gap: how long, and which batch. Asked once per update. */
  takeStale(updateId: number): StalePress | undefined {
    const found = this.stale.get(updateId);
    this.stale.delete(updateId);
    return found;
  }

  /** Writes the last getUpdates time now (at stop), after any write still under way. */
  async flush(): Promise<void> {
    if (this.lastOkAt !== null) this.save(this.lastOkAt);
    await this.saving;
  }

  private save(at: number): void {
    this.saving = this.saving
      .then(() => this.store.settings.set(LAST_UPDATES_KEY, String(at)))
      .catch((err: unknown) =>
        this.logger.warn({ err: describeError(err) }, "could not save the time of the last getUpdates"),
      );
  }
}

/** Chats already told about a batch's presses, per presser: "batch:chat:person". Bounded. */
export type OfflineNotices = Set<string>;
const MAX_NOTICES_REMEMBERED = 1_000;

/**
 * A press from the first batch after the bot was offline: not carried out. It is answered (Telegram may
 * refuse an answer that late) and the chat is told, once per person and batch, that it was not done and
 * why; audited.
 */
export async function handleOfflinePress(
  s: BotServices,
  ctx: BotContext,
  stale: StalePress,
  told: OfflineNotices,
): Promise<void> {
  const query = ctx.callbackQuery!;
  const presser = query.from;
  const message = query.message;
  const data = decodeCallbackData(query.data);
  const downFor = s.texts.formatDuration(stale.downForMs);
  s.metrics.actions.inc({ action: "button", result: "offline" });
  await s.audit({
    actorId: presser.id,
    actorName: actorLabel(presser),
    chatId: message?.chat.id ?? null,
    action: "button.offline",
    target: data?.kind === "incident" ? data.incidentId : data?.kind === "chat" ? String(data.chatId) : null,
    result: "not_done",
    detail: `offline ${Math.round(stale.downForMs / 1000)} s; ${JSON.stringify((query.data ?? "").slice(0, 80))}`,
  });
  await new PressAnswer(ctx, s.extra.working, s.logger).answer(s.texts.actions.offlinePress(downFor));
  if (!message) return; // too old for Telegram to say where it was pressed
  const key = `${stale.batch}:${message.chat.id}:${presser.id}`;
  if (told.has(key)) return;
  if (told.size >= MAX_NOTICES_REMEMBERED) told.clear();
  told.add(key);
  const inTopic = "is_topic_message" in message && message.is_topic_message === true;
  try {
    await sendPlain(
      s.api,
      message.chat.id,
      s.texts.actions.offlinePressNotice({ who: actorLabel(presser), downFor }),
      { threadId: inTopic ? (message.message_thread_id ?? null) : null },
    );
  } catch (err) {
    s.logger.info(
      { chatId: message.chat.id, err: describeError(err) },
      "could not tell a chat about an offline press",
    );
  }
}
