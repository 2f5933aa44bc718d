// English texts of the questions to the bot: /open, /stats, /audit, /report and the shift report. Plain text.

import { formatDurationWith, pluralEn } from "./plural.js";
import type { QueryMessages, StatsView } from "./queries-ru.js";
import { inline } from "./shared.js";

const dur = (ms: number) => formatDurationWith(ms, { d: "d", h: "h", m: "m", s: "s" });
const fig = (ms: number | null) => (ms === null ? "—" : dur(ms));
const SPAN: Record<StatsView["span"], string> = { "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
const list = (items: Array<[string, number]>) => items.map(([k, n]) => `${k} ${n}`).join(" · ") || "—";
const incidents = (n: number) => `${n} ${pluralEn(n, "incident", "incidents")}`;

export const queriesEn: QueryMessages = {
  duration: dur,
  openUsage: "Write /open or /open high (medium, low): the open incidents, of one severity if you like.",
  openHeader: ({ total, byStatus, severity, page, pages }) =>
    `📂 Open incidents${severity ? ` (${severity})` : ""}: ${total}\n${list(byStatus)}\nPage ${page + 1} of ${pages}, newest first`,
  openEmpty: (severity) => `No open${severity ? ` ${severity}` : ""} incidents 🎉`,
  age: (ms) => `${dur(ms)} ago`,
  failed: (reason) => `Could not ask the SIEM: ${inline(reason, 200)}. Try again later.`,
  pageFailed: "The SIEM did not answer; the page was not updated. Try again.",
  statsUsage: "Write /stats, /stats 7d or /stats 30d: a summary of the last 24 hours, 7 or 30 days.",
  stats: (v) =>
    [
      `📊 Summary of the last ${SPAN[v.span]}`,
      `Incidents created: ${v.total}${v.counted < v.total ? ` (the newest ${v.counted} counted)` : ""} — SIEM, list`,
      `By severity: ${list(v.bySeverity)}`,
      `By status: ${list(v.byStatus)}`,
      `Through the bot: ${incidents(v.viaBot)} — the bot's audit log`,
      `Only in the SIEM UI: ${v.onlyInSiem} of ${v.measured} — SIEM, status history`,
      `Time to react (created → first status change), ${incidents(v.react.count)}: median ${fig(v.react.medianMs)}, p90 ${fig(v.react.p90Ms)}`,
      `Time to resolve (created → Resolved/Closed), ${incidents(v.resolve.count)}: median ${fig(v.resolve.medianMs)}, p90 ${fig(v.resolve.p90Ms)}`,
      `Times — SIEM, status history${v.sampled ? `; a sample of ${v.measured} of ${v.total} incidents, evenly over the span` : ""}.`,
    ].join("\n"),
  auditUsage: "Write /audit or /audit 50: the latest actions through the bot (1 to 100).",
  auditHeader: (n) => `🧾 Latest actions through the bot: ${n}`,
  auditEmpty: "Nothing has been done through the bot yet.",
  auditLine: ({ time, who, action, incident, result }) =>
    `${time} · ${who} · ${action} · ${incident} · ${result}`,
  reportUsage: "Write /report on to get the morning shift report here, /report off to stop it.",
  reportOn: (at) =>
    at
      ? `Done: the shift report will come here every day at ${at}.`
      : "Done, this chat is subscribed. But no report time is set: an admin has to set BOT_REPORT_AT (e.g. 09:00).",
  reportOff: "Done: the shift report no longer comes here.",
  reportWasOff: "The shift report does not come here anyway.",
  reportHeader: (date) => `🌅 Shift report, ${date}`,
  reportOpenHigh: (n) => `🔴 Open High incidents: ${n}`,
  reportNoOpenHigh: "No open High incidents.",
};
