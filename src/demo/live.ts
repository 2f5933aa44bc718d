// The demo with a real bot: the service runs against the MP SIEM emulator and the real Telegram, so
// a person can try the buttons in their own chat with synthetic incidents before connecting a SIEM.

import { Api, GrammyError, HttpError } from "grammy";
import { HttpsProxyAgent } from "https-proxy-agent";
import { SocksProxyAgent } from "socks-proxy-agent";
import type { Locale } from "../config/types.js";
import { t } from "../i18n/index.js";
import { redactSecrets } from "../log/logger.js";
import type { RealTelegram } from "./settings.js";
import { startWorld } from "./world.js";

const GET_ME_TIMEOUT_MS = 15_000;
/** Background incidents: one about every 20 s, and a burst of 20 after every 10th. */
const RATE_PER_MINUTE = 3;
const BURST_EVERY = 10;
const BURST_SIZE = 20;

export interface LiveOptions {
  telegram: RealTelegram;
  locale: Locale;
  timeZone: string;
  print: (line: string) => void;
  logTo: NodeJS.WritableStream;
  signal: AbortSignal;
}

/** Exit codes: 0 after Ctrl+C, 1 when Telegram cannot be reached, 2 when it refuses the token. */
export async function runLive(opts: LiveOptions): Promise<number> {
  const { telegram, print, signal } = opts;
  const say = (line: string) => print(redactSecrets(line, [telegram.botToken]));

  const botName = await checkBot(telegram, signal).catch((error: unknown) => error as Error);
  if (signal.aborted) return 0;
  if (botName instanceof Error) {
    say(`✗ ${botName.message}`);
    return botName instanceof TokenRefused ? 2 : 1;
  }

  const world = await startWorld({
    telegram,
    locale: opts.locale,
    timeZone: opts.timeZone,
    logTo: opts.logTo,
    ratePerMinute: RATE_PER_MINUTE,
    burstEvery: BURST_EVERY,
    burstSize: BURST_SIZE,
  });
  try {
    const allow = t(opts.locale).buttons.allow;
    say(`mpsiem-telegram demo with your bot @${botName}, against the bundled MP SIEM emulator.`);
    say(
      `MP SIEM emulator: ${world.emulator.coreUrl} (account siem / siem); the service polls it every second.`,
    );
    say("Try it:");
    say(
      `  1. In Telegram, send /start to @${botName}. You are an admin (TELEGRAM_ADMIN_IDS ${telegram.adminIds.join(", ")}), ` +
        `so the request comes to you: press [${allow}].`,
    );
    say(
      `  2. Synthetic incidents arrive about every ${Math.round(60 / RATE_PER_MINUTE)} s ` +
        `(and a burst of ${BURST_SIZE} after every ${BURST_EVERY}th): press the buttons under them.`,
    );
    say("  3. Add the bot to a group and allow it too: every copy of an incident changes together.");
    say(
      "Telegram gives updates to one copy of a bot only: stop any other service using this token. Ctrl+C to stop.",
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return 0;
  } finally {
    await world.close();
  }
}

/** Telegram answered getMe with an error: the token is wrong. */
class TokenRefused extends Error {}

/** The bot's @username, or an error that says what to fix (GrammyError: Telegram refused the token). */
async function checkBot(telegram: RealTelegram, signal: AbortSignal): Promise<string> {
  const proxy = telegram.proxy;
  const agent = proxy
    ? /^socks/i.test(proxy)
      ? new SocksProxyAgent(proxy)
      : new HttpsProxyAgent(proxy)
    : undefined;
  const api = new Api(telegram.botToken, {
    apiRoot: telegram.apiRoot,
    ...(agent ? { baseFetchConfig: { agent } } : {}),
  });
  try {
    // grammY types the signal with the abort-controller package's class; Node's is what it really takes.
    const limited = AbortSignal.any([signal, AbortSignal.timeout(GET_ME_TIMEOUT_MS)]);
    const me = await api.getMe(limited as Parameters<typeof api.getMe>[0]);
    return me.username;
  } catch (error) {
    if (error instanceof GrammyError) {
      throw new TokenRefused(
        `Telegram refused TELEGRAM_BOT_TOKEN (${error.error_code} ${error.description}): copy the token from @BotFather`,
      );
    }
    const cause = error instanceof HttpError ? error.error : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      `cannot reach Telegram at ${telegram.apiRoot} (${reason}): check the network, TELEGRAM_API_ROOT or TELEGRAM_PROXY`,
    );
  }
}
