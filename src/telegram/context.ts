// What every handler of the bot shares: its context type and the services it works with.
import type { Api, Context } from "grammy";
import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import type { Metrics } from "../http/metrics.js";
import type { Messages } from "../i18n/index.js";
import type { IncidentReader } from "../intake/index.js";
import type { SiemClient } from "../siem/types.js";
import type { AuditRecord, Store } from "../store/index.js";
import type { AccessFlavor } from "./access.js";
import type { SerialGate } from "./approval.js";
import type { AdminNotifier } from "./notify.js";
import type { RequestPace } from "./request-pace.js";
import type { BotTexts } from "./texts.js";

export type BotContext = Context & AccessFlavor;

export interface BotServices {
  config: Config;
  store: Store;
  siem: SiemClient;
  /** The one routine that reads an incident from the SIEM and stores it (shared with the poller). */
  reader: IncidentReader;
  logger: Logger;
  metrics: Metrics;
  api: Api;
  notifier: AdminNotifier;
  /** The shared catalogue in BOT_LOCALE, and the bot's own few extra texts. */
  texts: Messages;
  extra: BotTexts;
  onIncidentChanged: (incidentId: string) => void;
  /** Mutes were ended by /unmute: the "N incidents arrived silently" lines are due now. */
  onMutesEnded: () => void;
  debugInfo: () => Promise<Record<string, string | number>>;
  recentLogLines: () => string[];
  startedAt: number;
  now: () => number;
  /** Request checks and reservations run one at a time (approval.ts). */
  requestGate: SerialGate;
  /** The budget of everything requests make the bot send (request-pace.ts). */
  requestPace: RequestPace;
  /** Writes to the audit log; a failure is logged, never thrown (the action itself already happened). */
  audit: (entry: AuditRecord) => Promise<void>;
}

/** The forum topic a message was sent in, so replies land in the same topic. */
export function threadOf(ctx: Context): number | null {
  const msg = ctx.msg;
  if (msg && msg.is_topic_message === true && typeof msg.message_thread_id === "number") {
    return msg.message_thread_id;
  }
  return null;
}
