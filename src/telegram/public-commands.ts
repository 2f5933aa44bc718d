// Commands for everyone: /start (ask for incidents), /id (ids for set-up), /ping (is the bot alive),
// and /help for people who are not admins. Access has been resolved (and banned senders dropped) already.
import { isServed } from "./access.js";
import { reply } from "./admin-commands.js";
import { answerRequest, requestApproval } from "./approval.js";
import type { ParsedCommand, PublicCommandName } from "./commands.js";
import { type BotContext, type BotServices, threadOf } from "./context.js";
import { identityOf } from "./names.js";
import { describeError } from "./notify.js";

export async function handlePublicCommand(
  s: BotServices,
  ctx: BotContext,
  cmd: ParsedCommand & { name: PublicCommandName | "help" },
): Promise<string> {
  switch (cmd.name) {
    case "start":
      return start(s, ctx);
    case "id":
      await reply(
        s,
        ctx,
        s.texts.commands.idAnswer({
          chatId: ctx.chat!.id,
          threadId: threadOf(ctx),
          userId: ctx.from?.id ?? null,
        }),
      );
      return "ok";
    case "ping":
      return ping(s, ctx);
    case "help":
      await reply(s, ctx, isServed(ctx.access) ? s.texts.commands.helpUser : s.texts.commands.notAllowed);
      return isServed(ctx.access) ? "ok" : "not_allowed";
  }
}

async function start(s: BotServices, ctx: BotContext): Promise<string> {
  const chat = ctx.chat!;
  const outcome = await requestApproval(s, {
    identity: identityOf(chat),
    threadId: threadOf(ctx),
    by: ctx.from,
  });
  // An admin's /start in a banned chat gets nothing; the rest are told how their request stands.
  await answerRequest(s, outcome, (text) => reply(s, ctx, text));
  return outcome;
}

async function ping(s: BotServices, ctx: BotContext): Promise<string> {
  if (!isServed(ctx.access)) {
    await reply(s, ctx, s.texts.commands.notAllowed);
    return "not_allowed";
  }
  const animation = s.config.telegram.pingAnimation;
  if (animation) {
    try {
      const thread = threadOf(ctx);
      await s.api.sendAnimation(
        ctx.chat!.id,
        animation,
        thread !== null ? { message_thread_id: thread } : {},
      );
      return "ok";
    } catch (err) {
      // A stale file_id or an unreachable URL must not leave /ping unanswered.
      s.logger.warn({ err: describeError(err) }, "could not send the /ping animation; answering with text");
    }
  }
  await reply(s, ctx, s.texts.commands.pingAnswer(s.texts.formatDuration(s.now() - s.startedAt)));
  return "ok";
}
