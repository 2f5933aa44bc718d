// Questions to the bot (design.md §6, issue 16): /open [severity], its ◀️ ▶️ pages, /stats [24h|7d|30d],
// /audit [N] (admins, answered privately) and /report on|off (the daily shift report, src/report/).
// /open, its pages, /stats and /report: the same people as /inc (access.ts mayLookUpIncidents). Each SIEM
// question has a documented request budget (queries/open.ts, queries/stats.ts), and /stats, the dearest,
// a small per-person rate on top of the bot's command limit.
import { GrammyError } from "grammy";
import { secretValues } from "../config/types.js";
import { lookupTexts, queryTexts } from "../i18n/index.js";
import { redactSecrets } from "../log/logger.js";
import { openKeyboard, openPageText, statsText } from "../queries/format.js";
import { parseSeverityArg, readOpenPage } from "../queries/open.js";
import { parseSpanArg, readStats } from "../queries/stats.js";
import type { CallbackData } from "../render/callback-data.js";
import { formatTime } from "../render/index.js";
import { SiemError } from "../siem/types.js";
import { isAdmin, mayLookUpIncidents } from "./access.js";
import { answerPrivately, reply } from "./admin-commands.js";
import type { ParsedCommand } from "./commands.js";
import { type BotContext, type BotServices, threadOf } from "./context.js";
import { actorLabel } from "./names.js";
import { describeError } from "./notify.js";
import { CommandRateLimiter } from "./rate-limit.js";
import { sendPlain, toReplyMarkup } from "./send.js";

/** /stats reads up to 105 SIEM answers: a few a minute per person is plenty. */
export const DEFAULT_STATS_RATE_LIMIT = { limit: 3, windowMs: 60_000 };
export const AUDIT_DEFAULT_LINES = 20;
export const AUDIT_MAX_LINES = 100;

export type QueryCommandName = "open" | "stats" | "audit" | "report";

function reasonOf(s: BotServices, err: unknown): string {
  const text = err instanceof SiemError ? err.message : describeError(err);
  return redactSecrets(text, secretValues(s.config)).slice(0, 200);
}

export class QueryCommands {
  private readonly statsLimiter: CommandRateLimiter;

  constructor(private readonly s: BotServices) {
    this.statsLimiter = new CommandRateLimiter({ ...DEFAULT_STATS_RATE_LIMIT, now: s.now });
  }

  async handle(ctx: BotContext, cmd: ParsedCommand & { name: QueryCommandName }): Promise<string> {
    const { s } = this;
    const audit = (result: string, detail: string | null = null) =>
      s.audit({
        actorId: ctx.from?.id ?? null,
        actorName: ctx.from ? actorLabel(ctx.from) : null,
        chatId: ctx.chat?.id ?? null,
        action: `command.${cmd.name}`,
        target: null,
        result,
        detail,
      });
    if (cmd.name === "audit") {
      if (!isAdmin(ctx.access)) {
        await reply(s, ctx, s.texts.commands.adminsOnly);
        await audit("not_allowed", ctx.access.role);
        return "not_allowed";
      }
      return this.audit(ctx, cmd.arg);
    }
    if (!mayLookUpIncidents(ctx.access)) {
      // The same refusal as /inc: a stranger learns nothing.
      await reply(s, ctx, lookupTexts(s.config.bot.locale).notAllowed);
      await audit("not_allowed", ctx.access.role);
      return "not_allowed";
    }
    if (cmd.name === "open") return this.open(ctx, cmd.arg);
    if (cmd.name === "stats") {
      const verdict = this.statsLimiter.check(ctx.from?.id ?? ctx.chat!.id);
      if (verdict !== "ok") {
        if (verdict === "warn") await reply(s, ctx, s.extra.tooManyCommands);
        return "rate_limited";
      }
      return this.stats(ctx, cmd.arg);
    }
    return this.report(ctx, cmd.arg);
  }

  private async open(ctx: BotContext, arg: string): Promise<string> {
    const { s } = this;
    const q = queryTexts(s.config.bot.locale);
    const severity = parseSeverityArg(arg);
    if (severity === undefined) {
      await reply(s, ctx, q.openUsage);
      return "invalid";
    }
    let page: Awaited<ReturnType<typeof readOpenPage>>;
    try {
      page = await readOpenPage(s.siem, { severity, page: 0 });
    } catch (err) {
      await reply(s, ctx, q.failed(reasonOf(s, err)));
      return "failed";
    }
    const keyboard = openKeyboard(page);
    await sendPlain(s.api, ctx.chat!.id, openPageText(page, s.now(), s.config.bot.locale), {
      threadId: threadOf(ctx),
      ...(keyboard.length > 0 ? { replyMarkup: toReplyMarkup(keyboard) } : {}),
    });
    return "ok";
  }

  /** ◀️ ▶️ under an /open answer: the same message, edited to the asked page. Every press is answered. */
  async press(ctx: BotContext, data: Extract<CallbackData, { kind: "open" }>): Promise<void> {
    const { s } = this;
    const q = queryTexts(s.config.bot.locale);
    const answer = (text?: string) =>
      ctx.answerCallbackQuery(text ? { text } : undefined).catch((err: unknown) => {
        s.logger.debug({ err: describeError(err) }, "could not answer an /open page press");
      });
    if (!mayLookUpIncidents(ctx.access)) {
      await answer(lookupTexts(s.config.bot.locale).notAllowed.slice(0, 190));
      return;
    }
    let page: Awaited<ReturnType<typeof readOpenPage>>;
    try {
      page = await readOpenPage(s.siem, { severity: data.severity, page: data.page });
    } catch (err) {
      s.logger.warn({ err: reasonOf(s, err) }, "could not read an /open page");
      await answer(q.pageFailed);
      return;
    }
    const keyboard = openKeyboard(page);
    try {
      await ctx.editMessageText(openPageText(page, s.now(), s.config.bot.locale), {
        reply_markup: toReplyMarkup(keyboard),
        link_preview_options: { is_disabled: true },
      });
    } catch (err) {
      // The same page pressed again shows the same text: nothing to change, not a failure.
      if (!(err instanceof GrammyError && /not modified/i.test(err.description))) {
        s.logger.warn({ err: describeError(err) }, "could not edit an /open page");
      }
    }
    await answer();
  }

  private async stats(ctx: BotContext, arg: string): Promise<string> {
    const { s } = this;
    const q = queryTexts(s.config.bot.locale);
    const span = parseSpanArg(arg);
    if (span === undefined) {
      await reply(s, ctx, q.statsUsage);
      return "invalid";
    }
    try {
      const stats = await readStats(s.siem, {
        span: span ?? "24h",
        now: s.now(),
        actedOnByBot: (since) => s.store.audit.actedOnSince(since),
      });
      await reply(s, ctx, statsText(stats, s.config.bot.locale));
      return "ok";
    } catch (err) {
      await reply(s, ctx, q.failed(reasonOf(s, err)));
      return "failed";
    }
  }

  private async audit(ctx: BotContext, arg: string): Promise<string> {
    const { s } = this;
    const q = queryTexts(s.config.bot.locale);
    const trimmed = arg.trim();
    const n = trimmed === "" ? AUDIT_DEFAULT_LINES : /^\d{1,3}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!(n >= 1 && n <= AUDIT_MAX_LINES)) {
      await reply(s, ctx, q.auditUsage);
      return "invalid";
    }
    const entries = await s.store.audit.recentActions(n);
    const incidents = await s.store.incidents.getMany(
      entries.map((e) => e.target).filter((id): id is string => id !== null),
    );
    const lines = entries.map((e) =>
      q.auditLine({
        time: formatTime(new Date(Number(e.at)), s.config.bot.timeZone, s.config.bot.locale),
        who: e.actor_name ?? (e.actor_id === null ? "—" : String(e.actor_id)),
        action: e.action.replace(/^incident\./, ""),
        incident: (e.target && incidents.get(e.target)?.key) || e.target || "—",
        result: e.result + (e.detail && e.result !== "ok" ? ` (${e.detail.slice(0, 80)})` : ""),
      }),
    );
    const text =
      entries.length === 0 ? q.auditEmpty : [q.auditHeader(entries.length), "", ...lines].join("\n");
    return answerPrivately(s, ctx, text, false);
  }

  private async report(ctx: BotContext, arg: string): Promise<string> {
    const { s } = this;
    const q = queryTexts(s.config.bot.locale);
    const chatId = ctx.chat!.id;
    const a = arg.trim().toLowerCase();
    if (a === "on" || a === "вкл") {
      await s.store.reports.enable(chatId, threadOf(ctx), ctx.from?.id ?? null);
      await reply(s, ctx, q.reportOn(s.config.bot.reportAt ?? null));
      return "ok";
    }
    if (a === "off" || a === "выкл") {
      const was = await s.store.reports.disable(chatId);
      await reply(s, ctx, was ? q.reportOff : q.reportWasOff);
      return "ok";
    }
    await reply(s, ctx, q.reportUsage);
    return "invalid";
  }
}
