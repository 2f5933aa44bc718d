// Where Telegram updates come in, so that none is lost or handled twice across instances and failovers.
//
// Long polling (the leader only): each getUpdates batch is recorded in the store, claimed for the
// leader's epoch, and the offset moved past it, in one fenced transaction, before any of it is handled;
// the next getUpdates (with that offset) is what lets Telegram forget the batch. So an update Telegram
// has forgotten is always in the store, and a new leader first handles what its predecessor received
// and never finished (a replay), then polls on from the stored offset. An update seen again is not
// handled again (dedup by update_id).
//
// Webhook (TELEGRAM_WEBHOOK_URL): any instance may receive a post; the one whose insert of the update_id
// succeeds handles it, the others answer 200 and drop it. A claim whose instance died before handling it
// is taken over by Telegram's retry or by the leader's sweep once it is STALE_CLAIM_MS old.
import type { UpdateSupplier } from "@grammyjs/runner";
import { type Api, GrammyError, type MiddlewareFn } from "grammy";
import type { Update } from "grammy/types";
import type { Logger } from "pino";
import type { Metrics } from "../http/metrics.js";
import { FencedError, type Store } from "../store/index.js";
import type { BotContext } from "./context.js";
import type { UpdatesGapWatch } from "./downtime.js";
import { describeError } from "./notify.js";
import { pause } from "./pause.js";

/** A claimed update not handled after this long was abandoned (its instance died): another may take it. */
export const STALE_CLAIM_MS = 60_000;
/** Handled updates are kept this long (a webhook retry comes within minutes), unhandled ones no longer than Telegram keeps them. */
const KEEP_UPDATES_MS = 24 * 3_600_000;
const REPLAY_BATCH = 100;

export type UpdateVia = "polling" | "webhook" | "replay";

/** The store could not say whether this instance should handle a webhook update: Telegram should retry. */
export class UpdateClaimError extends Error {
  override readonly name = "UpdateClaimError";
  constructor(
    readonly updateId: number,
    cause: unknown,
  ) {
    super(`could not record Telegram update ${updateId}: ${describeError(cause)}`);
  }
}

export interface UpdateInboxDeps {
  store: Store;
  /** This instance's name: who claimed an update. */
  instance: string;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  updatesGap: UpdatesGapWatch;
}

/** The leader's term, as the inbox needs it: the fenced store and the epoch its claims carry. */
export interface InboxTerm {
  store: Store;
  epoch: number;
}

export class UpdateInbox {
  /** Updates claimed for this process by polling or a replay, not handled yet. */
  private readonly claimedHere = new Map<number, UpdateVia>();

  constructor(private readonly deps: UpdateInboxDeps) {}

  get instance(): string {
    return this.deps.instance;
  }

  /**
   * First in the bot's chain: an update that did not come through this process's polling is a webhook
   * post and is handled only by the instance that claims it; every handled update is marked so.
   */
  readonly middleware: MiddlewareFn<BotContext> = async (ctx, next) => {
    const { store, instance, metrics, now } = this.deps;
    const id = ctx.update.update_id;
    let via = this.claimedHere.get(id);
    this.claimedHere.delete(id);
    if (via === undefined) {
      via = "webhook";
      let mine: boolean;
      try {
        mine = await store.updates.claim(
          { updateId: id, body: JSON.stringify(ctx.update) },
          instance,
          now() - STALE_CLAIM_MS,
        );
      } catch (error) {
        throw new UpdateClaimError(id, error);
      }
      if (!mine) {
        metrics.updates.inc({ via, result: "duplicate" });
        this.deps.logger.debug({ updateId: id }, "update handled by another instance already; dropped");
        return;
      }
    }
    try {
      await next();
    } finally {
      metrics.updates.inc({ via, result: "handled" });
      await store.updates
        .markHandled(id, instance)
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { err: describeError(error), updateId: id },
            "could not mark an update handled",
          ),
        );
    }
  };

  /**
   * Updates claimed in an earlier epoch (a leader that died after receiving them) or abandoned webhook
   * claims: claimed for this term and returned, oldest first. Presses among them are as old as they are.
   */
  async reclaim(term: InboxTerm): Promise<{ updates: Update[]; more: boolean }> {
    const { instance, now, updatesGap, logger } = this.deps;
    const rows = await term.store.updates.reclaimUnhandled(
      instance,
      term.epoch,
      now() - STALE_CLAIM_MS,
      REPLAY_BATCH,
    );
    const updates: Update[] = [];
    const late: Array<{ updateId: number; ageMs: number }> = [];
    for (const row of rows) {
      let update: Update;
      try {
        update = JSON.parse(row.body) as Update;
      } catch {
        await term.store.updates.markHandled(row.updateId, instance);
        continue;
      }
      this.claimedHere.set(row.updateId, "replay");
      late.push({ updateId: row.updateId, ageMs: now() - row.receivedAt });
      updates.push(update);
    }
    if (updates.length > 0) {
      updatesGap.noteLate(late);
      logger.info(
        { updates: updates.length },
        "handling updates an earlier leader received but did not finish",
      );
    }
    return { updates, more: rows.length >= REPLAY_BATCH };
  }

  /** Drops old rows (the leader, now and then). */
  async prune(store: Store): Promise<void> {
    const now = this.deps.now();
    try {
      await store.updates.prune(now - KEEP_UPDATES_MS, now - KEEP_UPDATES_MS);
    } catch (error) {
      this.deps.logger.warn({ err: describeError(error) }, "could not prune old Telegram updates");
    }
  }

  /**
   * The long-polling supplier for @grammyjs/runner: first the replay, then getUpdates from the stored
   * offset. A batch is handed on only after it is recorded; until then the offset does not move, so a
   * failure to record it means Telegram sends it again. Never throws except when stopped.
   */
  pollingSupplier(term: InboxTerm, api: Api, allowedUpdates: readonly string[]): UpdateSupplier<Update> {
    const { instance, logger, metrics } = this.deps;
    let offset: number | null = null;
    let replaying = true;
    return {
      supply: async (batchSize, runnerSignal) => {
        // The runner types its signal with a shim; at run time it is the platform's AbortSignal.
        const signal = runnerSignal as unknown as AbortSignal;
        while (!signal.aborted) {
          try {
            if (replaying) {
              const replay = await this.reclaim(term);
              replaying = replay.more;
              if (replay.updates.length > 0) return replay.updates;
            }
            offset ??= await term.store.updates.offset();
          } catch (error) {
            logger.warn(
              { err: describeError(error) },
              "could not read the Telegram updates kept in the store",
            );
            await pause(1_000, signal);
            continue;
          }
          let updates: Update[];
          try {
            updates = await api.getUpdates(
              {
                offset,
                limit: Math.max(1, Math.min(100, batchSize)),
                timeout: 30,
                allowed_updates: [...allowedUpdates] as never,
              },
              signal as Parameters<Api["getUpdates"]>[1],
            );
          } catch (error) {
            if (signal.aborted) break;
            // A 409 means another poller or a webhook: a configuration problem worth a line each time.
            if (error instanceof GrammyError && error.error_code === 409) {
              logger.error(
                { err: error.description },
                "Telegram refused getUpdates: another poller or a webhook is active",
              );
            }
            // PollBackoff waits before the next getUpdates; this only keeps a refusal before it from spinning.
            await pause(100, signal);
            continue;
          }
          if (updates.length === 0) continue;
          let claimed: Set<number>;
          try {
            claimed = await term.store.updates.receive(
              updates.map((u) => ({ updateId: u.update_id, body: JSON.stringify(u) })),
              instance,
              term.epoch,
            );
          } catch (error) {
            if (error instanceof FencedError) {
              logger.warn("another instance leads now: not handling the updates just received");
            } else {
              logger.warn({ err: describeError(error) }, "could not record Telegram updates; asking again");
            }
            await pause(1_000, signal);
            continue;
          }
          offset = Math.max(...updates.map((u) => u.update_id)) + 1;
          const mine = updates.filter((u) => claimed.has(u.update_id));
          const seen = updates.length - mine.length;
          if (seen > 0) metrics.updates.inc({ via: "polling", result: "duplicate" }, seen);
          for (const u of mine) this.claimedHere.set(u.update_id, "polling");
          if (mine.length > 0) return mine;
        }
        throw signal.reason ?? new Error("polling stopped");
      },
    };
  }

  /** Forgets claims of updates never handed to the bot (polling stopped with them queued). */
  forgetUnhandled(): void {
    this.claimedHere.clear();
  }
}
