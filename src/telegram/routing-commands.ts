// Routing and noise control from the chat (design.md §3): /filter<id> [MATCHERS | off | none] (admins) and
// /mute<id> [DURATION [MATCHERS] [-- comment]], /unmute<id> (admins; in a private chat also its own person).
// Who may use them is decided in access.ts; this file checks the arguments, changes the rules through the
// store (every change audited) and answers.
//
// Where a command acts: the chat named by <id>, else the chat where it was typed — and, typed inside a
// forum topic other than the chat's own one, that topic: /filter there makes the topic a destination with
// its own filter (tried in the order topics were added, the chat's own thread last), /mute there mutes that
// topic only. An answer about a chat named by <id> goes to the admin privately (it names the chat); an
// answer about the chat where the command was typed is given there. A bad argument changes nothing and the
// answer names what is wrong.

import { formatDuration, parseDuration } from "../config/duration.js";
import type { MuteView } from "../i18n/index.js";
import { formatTimeNear } from "../render/index.js";
import { FILTER_NONE, formatMatchers, parseMatchers, splitComment } from "../routing/index.js";
import type { Chat, StoredMute } from "../store/index.js";
import { mayMute } from "./access.js";
import { answerPrivately, reply } from "./admin-commands.js";
import { leadingChatId, type ParsedCommand } from "./commands.js";
import { type BotContext, type BotServices, threadOf } from "./context.js";
import { actorLabel, chatRefOfStored } from "./names.js";
import { filterViews } from "./routing-views.js";

/** The longest mute (design.md §3). */
export const MAX_MUTE_MS = 7 * 86_400_000;
/** Mutes running at once in one chat: they are evaluated for every incident, and a person may add them. */
export const MAX_MUTES_PER_CHAT = 20;

interface Target {
  chat: Chat;
  /** The topic the command acts on; null: the chat's own thread (or the whole chat, for a mute). */
  topic: number | null;
  /** The chat described for an answer that names it; null when it is the chat the command was typed in. */
  named: string | null;
}

function describeChat(s: BotServices, chat: Chat | undefined, chatId: number): string {
  return chat ? s.texts.chats.describe(chatRefOfStored(chat)) : String(chatId);
}

/** The chat (and topic) a command acts on, or why not. */
async function resolveTarget(
  s: BotServices,
  ctx: BotContext,
  explicit: number | null,
): Promise<Target | { refusal: string; named: string | null }> {
  const chatId = explicit ?? ctx.chat!.id;
  const chat = await s.store.chats.get(chatId);
  const named = explicit !== null && explicit !== ctx.chat!.id ? describeChat(s, chat, chatId) : null;
  if (chat?.state !== "allowed") return { refusal: s.texts.routing.notReceiving(named), named };
  let topic: number | null = null;
  if (explicit === null) {
    const typedIn = threadOf(ctx);
    // The topic the chat subscribed from is its own thread, not a topic of its own.
    if (typedIn !== null && typedIn !== chat.thread_id) topic = typedIn;
  }
  return { chat, topic, named };
}

/** Answers where it belongs: privately when it names another chat, else in place. */
async function answer(s: BotServices, ctx: BotContext, named: string | null, text: string, changed: boolean) {
  if (named === null) {
    await reply(s, ctx, text);
    return "ok";
  }
  const delivered = await answerPrivately(s, ctx, text, changed);
  return delivered === "ok" ? "ok" : `ok_${delivered}`;
}

async function audit(
  s: BotServices,
  ctx: BotContext,
  action: string,
  target: Target,
  result: string,
  detail: string | null,
): Promise<void> {
  await s.audit({
    actorId: ctx.from?.id ?? null,
    actorName: ctx.from ? actorLabel(ctx.from) : null,
    chatId: ctx.chat?.id ?? null,
    action,
    target: `${target.chat.id}${target.topic !== null ? `/${target.topic}` : ""}`,
    result,
    detail,
  });
}

// ---- /filter ----

export async function handleFilterCommand(
  s: BotServices,
  ctx: BotContext,
  cmd: ParsedCommand,
): Promise<string> {
  const r = s.texts.routing;
  const lead = leadingChatId(cmd.arg);
  if ("invalid" in lead) {
    await reply(s, ctx, `${s.texts.commands.invalidChatId(lead.invalid)}\n\n${r.filterUsage}`);
    return "usage";
  }
  const target = await resolveTarget(s, ctx, lead.chatId);
  if ("refusal" in target) {
    await reply(s, ctx, target.refusal);
    return "not_receiving";
  }
  const { chat, topic, named } = target;
  const rest = lead.rest;
  const destinations = await s.store.routing.destinationsOf(chat.id);
  const managed = destinations.some((d) => d.managedByConfig);

  if (rest === "") {
    return answer(
      s,
      ctx,
      named,
      r.filterShow({ chat: named, managedByConfig: managed, destinations: filterViews(destinations) }),
      false,
    );
  }
  if (rest === "?" || rest.toLowerCase() === "help") {
    await reply(s, ctx, r.filterUsage);
    return "usage";
  }
  if (managed) {
    await reply(s, ctx, r.managedByConfig(named));
    await audit(s, ctx, "routing.filter", target, "managed_by_config", rest);
    return "managed_by_config";
  }
  const word = rest.toLowerCase();
  if (word === "off") {
    const outcome = await s.store.routing.clearFilter(chat.id, topic);
    if (outcome === "managed") {
      await reply(s, ctx, r.managedByConfig(named));
      return "managed_by_config";
    }
    await audit(s, ctx, "routing.filter_off", target, outcome === "cleared" ? "ok" : "nothing_set", null);
    const text =
      outcome === "cleared"
        ? r.filterCleared({ chat: named, topic })
        : r.filterNothingToClear({ chat: named, topic });
    return answer(s, ctx, named, text, outcome === "cleared");
  }
  let filter: string;
  if (word === FILTER_NONE) filter = FILTER_NONE;
  else {
    const parsed = parseMatchers(rest);
    if (!parsed.ok) {
      await reply(
        s,
        ctx,
        r.badMatchers({ matcher: parsed.error.matcher, problem: r.matcherProblem(parsed.error.problem) }),
      );
      await audit(s, ctx, "routing.filter", target, "bad_matchers", rest.slice(0, 500));
      return "bad_matchers";
    }
    if (parsed.matchers.length === 0) {
      await reply(s, ctx, r.filterUsage);
      return "usage";
    }
    filter = formatMatchers(parsed.matchers);
  }
  const outcome = await s.store.routing.setFilter(chat.id, topic, filter, ctx.from?.id ?? null);
  if (outcome === "managed") {
    await reply(s, ctx, r.managedByConfig(named));
    return "managed_by_config";
  }
  await audit(s, ctx, "routing.filter", target, "ok", filter);
  return answer(s, ctx, named, r.filterSet({ chat: named, topic, filter }), true);
}

// ---- /mute, /unmute ----

function muteViews(s: BotServices, mutes: readonly StoredMute[]): MuteView[] {
  const { timeZone, locale } = s.config.bot;
  const now = new Date(s.now());
  return mutes.map((m) => ({
    until: formatTimeNear(new Date(m.endsAt), now, timeZone, locale),
    by: m.createdByName ?? (m.createdBy !== null ? String(m.createdBy) : null),
    matchers: m.matchers,
    topic: m.threadId,
    comment: m.comment,
  }));
}

export async function handleMuteCommand(
  s: BotServices,
  ctx: BotContext,
  cmd: ParsedCommand & { name: "mute" | "unmute" },
): Promise<string> {
  const r = s.texts.routing;
  const lead = leadingChatId(cmd.arg);
  if ("invalid" in lead) {
    await reply(s, ctx, `${s.texts.commands.invalidChatId(lead.invalid)}\n\n${r.muteUsage}`);
    return "usage";
  }
  const targetId = lead.chatId ?? ctx.chat!.id;
  if (!mayMute(ctx.access, targetId)) {
    await reply(s, ctx, r.muteNotAllowed);
    await s.audit({
      actorId: ctx.from?.id ?? null,
      actorName: ctx.from ? actorLabel(ctx.from) : null,
      chatId: ctx.chat?.id ?? null,
      action: `command.${cmd.name}`,
      target: String(targetId),
      result: "not_allowed",
      detail: ctx.access.role,
    });
    return "not_allowed";
  }
  const target = await resolveTarget(s, ctx, lead.chatId);
  if ("refusal" in target) {
    await reply(s, ctx, target.refusal);
    return "not_receiving";
  }
  const { chat, named } = target;
  const now = s.now();

  if (cmd.name === "unmute") {
    const ended = await s.store.routing.endMutes(chat.id, ctx.from?.id ?? null, now);
    await audit(s, ctx, "routing.unmute", target, ended.length > 0 ? "ok" : "none_running", ended.join(","));
    // The "N incidents arrived silently" line follows from the summaries' task, once per mute.
    if (ended.length > 0) s.onMutesEnded();
    return answer(s, ctx, named, r.unmuteDone({ chat: named, count: ended.length }), ended.length > 0);
  }

  const rest = lead.rest;
  if (rest === "") {
    const running = await s.store.routing.activeMutes(chat.id, now);
    const text =
      running.length === 0 ? r.noMutes(named) : r.muteList({ chat: named, mutes: muteViews(s, running) });
    return answer(s, ctx, named, text, false);
  }
  if (rest === "?" || rest.toLowerCase() === "help") {
    await reply(s, ctx, r.muteUsage);
    return "usage";
  }
  const space = rest.search(/\s/);
  const durationText = space === -1 ? rest : rest.slice(0, space);
  const after = space === -1 ? "" : rest.slice(space + 1);
  const ms = /\d/.test(durationText) ? parseDuration(durationText) : null;
  if (ms === null || ms <= 0 || ms > MAX_MUTE_MS) {
    await reply(
      s,
      ctx,
      `${r.badDuration({ raw: durationText, max: formatDuration(MAX_MUTE_MS) })}\n\n${r.muteUsage}`,
    );
    return "bad_duration";
  }
  const { matchers: matcherText, comment } = splitComment(after);
  const parsed = parseMatchers(matcherText);
  if (!parsed.ok) {
    await reply(
      s,
      ctx,
      r.badMatchers({ matcher: parsed.error.matcher, problem: r.matcherProblem(parsed.error.problem) }),
    );
    await audit(s, ctx, "routing.mute", target, "bad_matchers", matcherText.slice(0, 500));
    return "bad_matchers";
  }
  const matchers = formatMatchers(parsed.matchers);
  const endsAt = now + ms;
  const id = await s.store.routing.addMute(
    {
      chatId: chat.id,
      threadId: target.topic,
      matchers,
      startsAt: now,
      endsAt,
      createdBy: ctx.from?.id ?? null,
      createdByName: ctx.from ? actorLabel(ctx.from) : null,
      comment: comment === "" ? null : comment.slice(0, 500),
    },
    MAX_MUTES_PER_CHAT,
    now,
  );
  if (id === null) {
    await reply(s, ctx, r.tooManyMutes(MAX_MUTES_PER_CHAT));
    await audit(s, ctx, "routing.mute", target, "too_many", matchers);
    return "too_many";
  }
  await audit(
    s,
    ctx,
    "routing.mute",
    target,
    "ok",
    `#${id} until ${new Date(endsAt).toISOString()}${matchers ? `: ${matchers}` : ""}${comment ? ` -- ${comment.slice(0, 200)}` : ""}`,
  );
  const { timeZone, locale } = s.config.bot;
  return answer(
    s,
    ctx,
    named,
    r.muteDone({
      chat: named,
      topic: target.topic,
      until: formatTimeNear(new Date(endsAt), new Date(now), timeZone, locale),
      duration: s.texts.formatDuration(ms),
      matchers,
      comment,
    }),
    true,
  );
}
