// The daily shift report (issue 16): at BOT_REPORT_AT in BOT_TIME_ZONE the leader sends `/stats 24h` and
// the still-open High incidents to every chat that opted in with /report on.
//
// - Once per chat and day, across restarts and instances: each chat's report for the day is claimed in
//   the store (report_sends, a fenced insert) before it is sent. A leader that lost its lease cannot
//   claim; a second instance finds the claim taken. A claim is given back only when the send certainly
//   failed for a passing reason (Telegram 429/5xx, the network), so the next look tries again.
// - Late is better than never: a service that was down at the hour sends that day's report when it is
//   back, the same day. A day missed entirely is not sent the next day.
// - Paced like everything else: the Api given here is the leader's, with the shared pacer and the
//   leadership gate installed (app.ts).
// - Only to chats that still may see incidents: an allowed chat, or an admin's private chat.
// - The SIEM is asked only when some chat is due: /stats's budget (≤ 105 calls) plus one /open page (4).
import { type Api, GrammyError, HttpError } from "grammy";
import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import { queryTexts } from "../i18n/index.js";
import { openLine, statsText } from "../queries/format.js";
import { readOpenPage } from "../queries/open.js";
import { readStats } from "../queries/stats.js";
import type { SiemClient } from "../siem/types.js";
import type { Store } from "../store/index.js";

export const REPORT_TICK_MS = 30_000;

export interface ShiftReportDeps {
  config: Config;
  /** The leader's (fenced) store. */
  store: Store;
  siem: SiemClient;
  /** The leader's Telegram client: paced and gated. */
  api: Api;
  logger: Logger;
  now?: () => number;
  tickMs?: number;
}

/** The day (YYYY-MM-DD) and the time (HH:MM) of `ms` in `timeZone`. */
export function localDayAndTime(ms: number, timeZone: string): { day: string; time: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return { day: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

function isPassing(err: unknown): boolean {
  if (err instanceof HttpError) return true;
  return err instanceof GrammyError && (err.error_code === 429 || err.error_code >= 500);
}

export class ShiftReport {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopping = false;

  constructor(private readonly deps: ShiftReportDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (!this.deps.config.bot.reportAt || this.timer !== undefined || this.stopping) return;
    const tick = () => {
      void this.runOnce().finally(() => {
        if (!this.stopping) {
          this.timer = setTimeout(tick, this.deps.tickMs ?? REPORT_TICK_MS);
          this.timer.unref();
        }
      });
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One look: sends the day's report to the chats that are due. Returns how many got it. Never throws. */
  runOnce(): Promise<number> {
    this.running ??= this.look()
      .catch((err: unknown) => {
        this.deps.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          "shift report failed",
        );
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async look(): Promise<number> {
    const { config, store, logger } = this.deps;
    const at = config.bot.reportAt;
    if (!at) return 0;
    const now = this.now();
    const { day, time } = localDayAndTime(now, config.bot.timeZone);
    if (time < at) return 0;
    const claimed = await store.reports.claimedOn(day);
    const due = [];
    for (const chat of await store.reports.chats()) {
      if (claimed.has(chat.chatId)) continue;
      const known = await store.chats.get(chat.chatId);
      if (known?.state === "allowed" || config.telegram.adminIds.includes(chat.chatId)) due.push(chat);
    }
    if (due.length === 0) return 0;
    const text = await this.compose(now, day);
    let sent = 0;
    for (const chat of due) {
      if (this.stopping) break;
      if (!(await store.reports.claim(day, chat.chatId))) continue;
      try {
        await this.deps.api.sendMessage(chat.chatId, text, {
          ...(chat.threadId !== null ? { message_thread_id: chat.threadId } : {}),
          link_preview_options: { is_disabled: true },
          disable_notification: true,
        });
        sent++;
      } catch (err) {
        const passing = isPassing(err);
        if (passing) await store.reports.release(day, chat.chatId);
        logger.warn(
          { chatId: chat.chatId, day, retry: passing, err: err instanceof Error ? err.message : String(err) },
          "could not send the shift report",
        );
      }
    }
    if (sent > 0) logger.info({ day, chats: sent }, "shift report sent");
    return sent;
  }

  private async compose(now: number, day: string): Promise<string> {
    const { config, store, siem } = this.deps;
    const locale = config.bot.locale;
    const q = queryTexts(locale);
    const stats = await readStats(siem, {
      span: "24h",
      now,
      actedOnByBot: (since) => store.audit.actedOnSince(since),
    });
    const high = await readOpenPage(siem, { severity: "High", page: 0 });
    const [y, m, d] = day.split("-");
    const date = locale === "en" ? day : `${d}.${m}.${y}`;
    return [
      q.reportHeader(date),
      "",
      statsText(stats, locale),
      "",
      high.total === 0 ? q.reportNoOpenHigh : q.reportOpenHigh(high.total),
      ...high.incidents.map((i) => openLine(i, now, locale)),
      ...(high.total > high.incidents.length ? ["…  /open high"] : []),
    ].join("\n");
  }
}
