// `mpsiem-telegram check`: the first thing an operator runs. After the configuration is known to be
// valid (the CLI prints that line), it logs in to the SIEM, asks Telegram who the bot is, and checks
// that every admin can be written to. Each line is ✓ or ✗, and every ✗ says what to fix.

import { Api, GrammyError, HttpError } from "grammy";
import type { Config } from "./config/types.js";
import { createSiemClient } from "./siem/client.js";
import { SiemError, type SiemErrorKind } from "./siem/types.js";
import { proxyFetchConfig } from "./telegram/proxy.js";

export interface CheckReport {
  /** True only when every check passed (the CLI exits 0 then, 1 otherwise). */
  ok: boolean;
  /** One line per check, printed as is; must not contain secrets. */
  lines: string[];
}

const SIEM_FIX: Record<SiemErrorKind, string> = {
  credentials:
    "check MPSIEM_USERNAME and MPSIEM_PASSWORD (or MPSIEM_TOKEN), and MPSIEM_CLIENT_SECRET (see README: where to get it)",
  unauthorized: "the SIEM refused a fresh login: check the account's rights in MP SIEM",
  tls: "trust the SIEM's certificate with MPSIEM_CA_FILE=/path/to/ca.pem (or, less safely, MPSIEM_TLS_VERIFY=false)",
  network: "check MPSIEM_URL / MPSIEM_AUTH_URL, the port (API 443, auth 3334) and the firewall",
  timeout: "the SIEM did not answer in time: check MPSIEM_URL and the network, or raise MPSIEM_TIMEOUT",
  server: "the SIEM answered with a server error: check MP SIEM's health, then try again",
  malformed: "the answer was not what MP SIEM sends: is MPSIEM_URL the Core address?",
  not_found: "the API path was not found: is MPSIEM_URL the Core address?",
  forbidden: "the SIEM account lacks the rights for this: grant it access to incidents in MP SIEM",
  refused: "the SIEM refused the request",
  http: "unexpected answer from the SIEM: is MPSIEM_URL the Core address?",
};

async function checkSiem(config: Config): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  if (!config.siem.tlsVerify) {
    lines.push("! MPSIEM_TLS_VERIFY=false: the SIEM's certificate is not checked (prefer MPSIEM_CA_FILE)");
  }
  let client: ReturnType<typeof createSiemClient> | undefined;
  try {
    client = createSiemClient({ config: config.siem, retry: { attempts: 1 } });
    const info = await client.systemInfo();
    const how = config.siem.token ? "personal access token accepted" : `logged in as ${config.siem.username}`;
    lines.push(
      `✓ SIEM ${config.siem.url}: ${how}, MaxPatrol SIEM ${info.productVersion || "(version not reported)"}`,
    );
    return { ok: true, lines };
  } catch (error) {
    if (error instanceof SiemError) {
      lines.push(`✗ SIEM ${config.siem.url}: ${error.message} — ${SIEM_FIX[error.kind]}`);
    } else {
      lines.push(`✗ SIEM ${config.siem.url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { ok: false, lines };
  } finally {
    await client?.close();
  }
}

function describeTelegramFailure(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code} ${error.description}`;
  if (error instanceof HttpError)
    return `cannot reach the Bot API (${String((error.error as Error)?.message ?? error.error)})`;
  return error instanceof Error ? error.message : String(error);
}

async function checkTelegram(config: Config): Promise<{ ok: boolean; lines: string[] }> {
  const api = new Api(config.telegram.botToken, {
    apiRoot: config.telegram.apiRoot,
    timeoutSeconds: 20,
    ...proxyFetchConfig(config.telegram.proxy),
  });
  const lines: string[] = [];
  let me: Awaited<ReturnType<Api["getMe"]>>;
  try {
    me = await api.getMe();
    lines.push(`✓ Telegram: bot @${me.username} (${me.first_name}, id ${me.id})`);
  } catch (error) {
    const refused = error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
    const fix = refused
      ? "check TELEGRAM_BOT_TOKEN (ask @BotFather for the token)"
      : "check TELEGRAM_API_ROOT, TELEGRAM_PROXY and the network";
    lines.push(`✗ Telegram: ${describeTelegramFailure(error)} — ${fix}`);
    return { ok: false, lines };
  }
  let ok = true;
  for (const adminId of config.telegram.adminIds) {
    try {
      const chat = await api.getChat(adminId);
      const name =
        "first_name" in chat && chat.first_name ? chat.first_name : (chat as { title?: string }).title;
      lines.push(`✓ admin ${adminId}: reachable${name ? ` (${name})` : ""}`);
    } catch (error) {
      ok = false;
      lines.push(
        `✗ admin ${adminId}: ${describeTelegramFailure(error)} — that person must open @${me.username} and press Start, ` +
          "and the id in TELEGRAM_ADMIN_IDS must be their user id (send /id to the bot to see it)",
      );
    }
  }
  return { ok, lines };
}

export async function runChecks(config: Config): Promise<CheckReport> {
  const [siem, telegram] = await Promise.all([checkSiem(config), checkTelegram(config)]);
  return { ok: siem.ok && telegram.ok, lines: [...siem.lines, ...telegram.lines] };
}
