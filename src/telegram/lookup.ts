// `/inc KEY`, `/inc 123` and the tappable `/inc_123` (design.md §4): the incident's full card, with its
// buttons, into the chat (and topic) it was asked in, recorded as a copy that delivery keeps up to date.
// Who may ask is access.ts's decision; a forged or huge argument is refused before any SIEM call; each
// person has a small budget of lookups (each costs SIEM calls and a message).
import { GrammyError } from "grammy";
import { remindersOn, secretValues } from "../config/types.js";
import { incidentView } from "../delivery/view.js";
import { lookupTexts } from "../i18n/index.js";
import type { LookedUp } from "../intake/index.js";
import { redactSecrets } from "../log/logger.js";
import { cleanInline, renderIncident } from "../render/index.js";
import type { IncidentView, RenderedMessage } from "../render/types.js";
import { SiemError } from "../siem/types.js";
import { mayLookUpIncidents } from "./access.js";
import { reply } from "./admin-commands.js";
import type { ParsedCommand } from "./commands.js";
import { type BotContext, type BotServices, threadOf } from "./context.js";
import { MAX_INCIDENT_NUMBER, parseLookupArg } from "./lookup-args.js";
import { actorLabel } from "./names.js";
import { describeError } from "./notify.js";
import { CommandRateLimiter } from "./rate-limit.js";
import { toReplyMarkup } from "./send.js";

/** Lookups per person: each reads the SIEM three times and sends a full card. */
export const DEFAULT_LOOKUP_RATE_LIMIT = { limit: 5, windowMs: 60_000 };

export class LookupCommand {
  private readonly limiter: CommandRateLimiter;

  constructor(
    private readonly s: BotServices,
    budget: { limit: number; windowMs: number } = DEFAULT_LOOKUP_RATE_LIMIT,
  ) {
    this.limiter = new CommandRateLimiter({ ...budget, now: s.now });
  }

  /** Handles one /inc; returns the result for the metrics and the audit log. */
  async handle(ctx: BotContext, cmd: ParsedCommand): Promise<string> {
    const { s } = this;
    const texts = lookupTexts(s.config.bot.locale);
    const audit = (result: string, target: string | null, detail: string | null = null) =>
      s.audit({
        actorId: ctx.from?.id ?? null,
        actorName: ctx.from ? actorLabel(ctx.from) : null,
        chatId: ctx.chat?.id ?? null,
        action: "command.inc",
        target,
        result,
        detail,
      });
    // Access first: a stranger learns nothing, not even whether the argument was a key.
    if (!mayLookUpIncidents(ctx.access)) {
      await reply(s, ctx, texts.notAllowed);
      await audit("not_allowed", null, ctx.access.role);
      return "not_allowed";
    }
    const arg = parseLookupArg(cmd.arg);
    if (!arg.ok) {
      const answer =
        arg.reason === "missing"
          ? texts.usage
          : arg.reason === "too_large"
            ? texts.tooLarge(MAX_INCIDENT_NUMBER)
            : texts.invalid(cmd.arg);
      await reply(s, ctx, answer);
      await audit("invalid", null, JSON.stringify(cmd.arg.slice(0, 40)));
      return "invalid";
    }
    const verdict = this.limiter.check(ctx.from?.id ?? ctx.chat!.id);
    if (verdict !== "ok") {
      if (verdict === "warn") await reply(s, ctx, texts.tooMany);
      await audit("rate_limited", arg.key);
      return "rate_limited";
    }

    let found: LookedUp | undefined;
    try {
      found = await s.reader.lookUp(arg.key);
    } catch (err) {
      const reason = reasonOf(s, err);
      s.logger.warn({ key: arg.key, err: reason }, "could not look an incident up in the SIEM");
      await reply(s, ctx, texts.failed(reason));
      await audit("failed", arg.key, reason);
      return "failed";
    }
    if (found === undefined) {
      await reply(s, ctx, texts.notFound(arg.key));
      await audit("not_found", arg.key);
      return "not_found";
    }
    return this.sendCard(ctx, found, arg.key, audit);
  }

  private async sendCard(
    ctx: BotContext,
    found: LookedUp,
    key: string,
    audit: (result: string, target: string | null, detail?: string | null) => Promise<void>,
  ): Promise<string> {
    const { s } = this;
    const chatId = ctx.chat!.id;
    const threadId = threadOf(ctx);
    const view: IncidentView = found.stored
      ? incidentView(found.incident)
      : {
          incident: found.read.details,
          events: found.read.events.events,
          totalEvents: found.read.events.total,
          lastAction: null,
        };
    const rendered = renderIncident(view, {
      locale: s.config.bot.locale,
      timeZone: s.config.bot.timeZone,
      siemUrl: s.config.siem.url,
      maxEvents: s.config.bot.maxEvents,
      snooze: remindersOn(s.config),
    });
    let messageId: number;
    try {
      messageId = await this.send(chatId, threadId, rendered);
    } catch (err) {
      s.logger.warn({ chatId, key, err: describeError(err) }, "could not send a looked-up incident");
      await audit("send_failed", key, describeError(err).slice(0, 200));
      return "failed";
    }
    const incidentId = found.stored ? found.incident.id : found.read.details.id;
    // A copy like any other from now on. One the poller has yet to store shows "version 0": the poller's
    // version 1 makes delivery bring it up to date, and every change after that.
    await s.store.outbox.addLookupCopy({
      incidentId,
      chatId,
      threadId,
      messageId,
      renderedVersion: found.stored ? found.incident.version : 0,
      askedBy: ctx.from?.id ?? null,
    });
    // The store may have moved on while the card was sent: delivery catches the copy up.
    s.onIncidentChanged(incidentId);
    await audit("ok", key, found.stored ? null : "not stored yet");
    return "ok";
  }

  /** The card in HTML; as plain text when Telegram cannot parse it. Returns the message id. */
  private async send(chatId: number, threadId: number | null, rendered: RenderedMessage): Promise<number> {
    const base = {
      ...(threadId !== null ? { message_thread_id: threadId } : {}),
      link_preview_options: { is_disabled: true },
      ...(rendered.keyboard.length > 0 ? { reply_markup: toReplyMarkup(rendered.keyboard) } : {}),
    };
    try {
      const sent = await this.s.api.sendMessage(chatId, rendered.html, { ...base, parse_mode: "HTML" });
      return sent.message_id;
    } catch (err) {
      if (!(err instanceof GrammyError) || err.error_code !== 400 || !/parse|entit/i.test(err.description)) {
        throw err;
      }
      const sent = await this.s.api.sendMessage(chatId, rendered.plain, base);
      return sent.message_id;
    }
  }
}

/** Why the SIEM could not be asked, for the asker: the kind and the message (cleaned), never a secret. */
function reasonOf(s: BotServices, err: unknown): string {
  const text = err instanceof SiemError ? `${err.kind}: ${err.message}` : describeError(err);
  return cleanInline(redactSecrets(text, secretValues(s.config)));
}
