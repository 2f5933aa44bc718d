// /link <telegram user id> <MP login>, /unlink <telegram user id>, /links (design.md §4): admins tie a
// Telegram user to an MP SIEM account, so that Take assigns incidents to it. The login is checked in MP
// (the users query) before anything is stored; every change is audited. Answers name people, so they go
// to the admin's private chat like the other admin lists (answerPrivately); usage hints are answered in place.
import { formatTime } from "../render/index.js";
import { SiemError } from "../siem/types.js";
import type { UserLink } from "../store/index.js";
import { mayManageLinks } from "./access.js";
import { answerPrivately, reply } from "./admin-commands.js";
import type { ParsedCommand } from "./commands.js";
import type { BotContext, BotServices } from "./context.js";
import { actorLabel, chatRefOfStored } from "./names.js";
import { describeError } from "./notify.js";

export const LINK_COMMANDS = ["link", "unlink", "links"] as const;
export type LinkCommandName = (typeof LINK_COMMANDS)[number];

export function isLinkCommand(name: string): name is LinkCommandName {
  return (LINK_COMMANDS as readonly string[]).includes(name);
}

/** A Telegram user id: positive, whole, within 52 bits (Telegram's bound for ids). */
const TELEGRAM_ID_RE = /^\+?\d{1,16}$/;
/** An MP login as MP shows it: a local name, DOMAIN\user or user@domain. */
const MP_LOGIN_RE = /^[\p{L}\p{N}._@\\-]{1,128}$/u;

export type LinkArgs =
  | { ok: true; telegramId: number; login: string | null }
  | { ok: false; problem: "usage" | "id" | "login"; raw: string };

/** The arguments of /link (`id login`) and /unlink (`id`). Pure; refuses anything else by name. */
export function parseLinkArgs(arg: string, withLogin: boolean): LinkArgs {
  const parts = arg.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== (withLogin ? 2 : 1)) return { ok: false, problem: "usage", raw: arg };
  const [idText, login] = parts as [string, string | undefined];
  const id = TELEGRAM_ID_RE.test(idText) ? Number(idText) : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) return { ok: false, problem: "id", raw: idText };
  if (!withLogin) return { ok: true, telegramId: id, login: null };
  if (!MP_LOGIN_RE.test(login!)) return { ok: false, problem: "login", raw: login! };
  return { ok: true, telegramId: id, login: login! };
}

export async function handleLinkCommand(
  s: BotServices,
  ctx: BotContext,
  cmd: ParsedCommand & { name: LinkCommandName },
): Promise<string> {
  const admin = ctx.from!;
  const l = s.texts.workflow.links;
  // The dispatcher checked already; asked again here so this handler is safe wherever it is called from.
  if (!mayManageLinks(ctx.access)) {
    await reply(s, ctx, s.texts.commands.adminsOnly);
    return "not_allowed";
  }
  const audit = (result: string, target: string | null, detail: string | null) =>
    s.audit({
      actorId: admin.id,
      actorName: actorLabel(admin),
      chatId: ctx.chat?.id ?? null,
      action: `command.${cmd.name}`,
      target,
      result,
      detail,
    });

  if (cmd.name === "links") {
    const links = await s.store.userLinks.list();
    const text =
      links.length === 0 ? l.listEmpty : [l.listTitle, ...links.map((link) => listLine(s, link))].join("\n");
    return answerPrivately(s, ctx, text, false);
  }

  const args = parseLinkArgs(cmd.arg, cmd.name === "link");
  if (!args.ok) {
    const usage = cmd.name === "link" ? l.usageLink : l.usageUnlink;
    await reply(
      s,
      ctx,
      args.problem === "id"
        ? l.badTelegramId(args.raw)
        : args.problem === "login"
          ? l.badLogin(args.raw)
          : usage,
    );
    return "usage";
  }

  if (cmd.name === "unlink") {
    const removed = await s.store.userLinks.unlink(args.telegramId);
    if (!removed) {
      await answerPrivately(s, ctx, l.notLinked(args.telegramId), false);
      return "not_linked";
    }
    await audit("ok", String(args.telegramId), `was ${removed.mpLogin}`);
    await answerPrivately(s, ctx, l.unlinked(args.telegramId, removed.mpLogin), true);
    return "ok";
  }

  // /link: the login must exist in MP now; its UUID is what Take assigns to.
  const login = args.login!;
  let found: Awaited<ReturnType<BotServices["siem"]["findUser"]>>;
  try {
    found = await s.siem.findUser(login);
  } catch (err) {
    const why = err instanceof SiemError ? err.message : describeError(err);
    await audit("failed", String(args.telegramId), `users query: ${why}`);
    await reply(s, ctx, l.lookupFailed(why));
    return "failed";
  }
  if (!found) {
    await audit("refused", String(args.telegramId), `no MP user ${login}`);
    await reply(s, ctx, l.loginNotFound(login));
    return "login_not_found";
  }
  const person = await s.store.chats.get(args.telegramId);
  const telegramName = person ? s.texts.chats.describe(chatRefOfStored(person)) || null : null;
  const replaced = await s.store.userLinks.link({
    telegramId: args.telegramId,
    mpLogin: found.userName,
    mpUserId: found.id,
    telegramName,
    linkedBy: admin.id,
    linkedByName: actorLabel(admin),
  });
  await audit(
    "ok",
    String(args.telegramId),
    `${found.userName} (${found.id})${replaced ? `; was ${replaced.mpLogin}` : ""}`,
  );
  await answerPrivately(
    s,
    ctx,
    l.linked({ telegramId: args.telegramId, login: found.userName, replaced: replaced?.mpLogin ?? null }),
    true,
  );
  return "ok";
}

function listLine(s: BotServices, link: UserLink): string {
  return s.texts.workflow.links.listLine({
    telegramId: link.telegramId,
    telegramName: link.telegramName ?? "",
    mpLogin: link.mpLogin,
    by: link.linkedByName ?? (link.linkedBy === null ? s.texts.empty : String(link.linkedBy)),
    at: formatTime(new Date(link.linkedAt), s.config.bot.timeZone, s.config.bot.locale),
  });
}
