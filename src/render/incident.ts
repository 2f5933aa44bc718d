// Incident → Telegram message (HTML and a plain fallback), always within Telegram's 4096 limit.
//
// Everything from the SIEM is cleaned (no lone surrogates, no control characters), clipped between
// code points and escaped, so no value can break the markup or the size. When the message is too
// long, it shrinks in a fixed order: each event's text, then events from the end, then the
// incident description, then the name. The header lines and the link always stay.

import { reminderTexts, t } from "../i18n/index.js";
import { decodeCallbackData } from "./callback-data.js";
import { incidentKeyboard } from "./keyboards.js";
import {
  cleanBlock,
  cleanInline,
  cleanText,
  clipText,
  escapeHtml,
  TELEGRAM_TEXT_LIMIT,
  visibleLength,
} from "./text.js";
import { formatTime, formatTimeNear, NO_TIME } from "./time.js";
import type { IncidentView, RenderedMessage, RenderOptions } from "./types.js";

/** Colour marks by severity (as the original bot showed them); `unknown` for anything else. */
export const SEVERITY_MARK: Record<string, string> = {
  High: "🔴",
  Medium: "🟠",
  Low: "🟡",
  unknown: "⚪",
};

export function severityMark(severity: string): string {
  const raw = typeof severity === "string" ? severity.trim().toLowerCase() : "";
  const known = Object.keys(SEVERITY_MARK).find((k) => k !== "unknown" && k.toLowerCase() === raw);
  return SEVERITY_MARK[known ?? "unknown"]!;
}

/** The actor ActionLine.by holds when the change was made in the SIEM UI, not through the bot. */
export const SIEM_ACTOR = "SIEM";

// Caps on one-line header fields: real values are far shorter; the caps bound the header so the
// 4096 limit can always be met by shrinking only the parts listed above.
const KEY_MAX = 64;
const TYPE_MAX = 200;
const LABEL_MAX = 64; // a status or severity shown verbatim
const ACTOR_MAX = 128;
const ACTION_LINE_MAX = 300;
const ID_MAX_CODE_POINTS = 128;
// The workflow's lines (issue 14): few and clipped, so they add at most about 2,000 characters.
const PARTY_SHOWN = 3;
const PARTY_NAME_MAX = 64;
const RULES_SHOWN = 3;
const RULE_NAME_MAX = 100;
const HISTORY_SHOWN = 5;
const HISTORY_LINE_MAX = 200;
const BOT_ACTIONS = new Set(["approve", "take", "resolve", "close"]);
const CLOSE_REASONS = new Set(["false_positive", "duplicate", "authorised", "other"]);

// The shrinking schedule (UTF-16 units), tried in this order.
const EVENT_TEXT_STEPS = [300, 150, 60];
const DESCRIPTION_STEPS = [1000, 400, 150, 0];
const NAME_STEPS = [512, 200, 80];

/** `${siemUrl}/#/incident/incidents/view/${id}`, the id percent-encoded so any value makes a valid link. */
export function incidentUrl(siemUrl: string, incidentId: string): string {
  const base = cleanInline(siemUrl).replace(/\/+$/, "");
  const id = Array.from(cleanInline(incidentId)).slice(0, ID_MAX_CODE_POINTS).join("");
  return `${base}/#/incident/incidents/view/${encodeURIComponent(id)}`;
}

interface Budget {
  eventText: number;
  events: number;
  description: number;
  name: number;
  /** The last resort for an absurd MPSIEM_URL: the bot history, then the parties, are left out. */
  history?: boolean;
  parties?: boolean;
}

interface Prepared {
  mark: string;
  title: string;
  /** "🔕 без звука" after the title, or null. */
  silent: string | null;
  time: string;
  severity: string;
  type: string;
  status: string;
  actionLine: string | null;
  url: string;
  name: string;
  description: string;
  events: { time: string; text: string }[];
  totalEvents: number;
  /** [label, value] lines after the status: assignee, rules, targets, attackers (only those known). */
  workflow: Array<[string, string]>;
  /** The bot history's lines, oldest first. */
  history: string[];
  /** Issue 15: "⏰ 30 min without a reaction" while New, "🚨 Escalated to …". */
  reminder: string[];
}

/** "a, b, c и ещё 2": the first few names, each cleaned and clipped. */
function someNames(names: unknown, shown: number, max: number, andMore: (n: number) => string): string {
  const list = (Array.isArray(names) ? names : [])
    .map((n) => clipText(cleanInline(n), max))
    .filter((n) => n !== "");
  if (list.length === 0) return "";
  const head = list.slice(0, shown).join(", ");
  return list.length > shown ? `${head} ${andMore(list.length - shown)}` : head;
}

function workflowLines(
  view: IncidentView,
  opts: RenderOptions,
): { lines: Array<[string, string]>; history: string[] } {
  const w = t(opts.locale).workflow.card;
  const lines: Array<[string, string]> = [];
  const x = view.extras;
  if (x) {
    const assignee = x.assignee
      ? clipText(cleanInline(x.assignee.name) || cleanInline(x.assignee.id), 128)
      : "";
    if (assignee) lines.push([w.assignee, assignee]);
    const rules = someNames(x.rules, RULES_SHOWN, RULE_NAME_MAX, w.andMore);
    if (rules) lines.push([w.rules, rules]);
    const targets = someNames(x.targets, PARTY_SHOWN, PARTY_NAME_MAX, w.andMore);
    if (targets) lines.push([w.targets, targets]);
    const attackers = someNames(x.attackers, PARTY_SHOWN, PARTY_NAME_MAX, w.andMore);
    if (attackers) lines.push([w.attackers, attackers]);
  }
  const history = (Array.isArray(view.botActions) ? view.botActions : [])
    .filter((a) => a && BOT_ACTIONS.has(a.action))
    .slice(-HISTORY_SHOWN)
    .map((a) =>
      clipText(
        cleanInline(
          w.historyLine({
            time: formatTimeNear(a.at, view.incident.created, opts.timeZone, opts.locale),
            who: clipText(cleanInline(a.by), ACTOR_MAX) || t(opts.locale).empty,
            action: a.action as "approve" | "take" | "resolve" | "close",
            reason:
              a.reason !== null && CLOSE_REASONS.has(a.reason)
                ? (a.reason as "false_positive" | "duplicate" | "authorised" | "other")
                : null,
          }),
        ),
        HISTORY_LINE_MAX,
      ),
    );
  return { lines, history };
}

function prepare(view: IncidentView, opts: RenderOptions): Prepared {
  const m = t(opts.locale);
  const inc = view.incident;
  const maxEvents = Number.isFinite(opts.maxEvents) ? Math.max(0, Math.floor(opts.maxEvents)) : 0;
  const events = (Array.isArray(view.events) ? view.events : []).slice(0, maxEvents).map((e) => ({
    time: formatTime(e?.date as Date, opts.timeZone, opts.locale),
    text: cleanInline(e?.description),
  }));
  const reported = Number.isFinite(view.totalEvents) ? Math.max(0, Math.floor(view.totalEvents)) : 0;
  const totalEvents = Math.max(reported, Array.isArray(view.events) ? view.events.length : 0);

  let actionLine: string | null = null;
  if (view.lastAction) {
    const a = view.lastAction;
    const time = formatTimeNear(a.at, inc.created, opts.timeZone, opts.locale);
    const by = clipText(cleanInline(a.by), ACTOR_MAX);
    const line =
      by === SIEM_ACTOR
        ? m.incident.changedInSiem(time)
        : m.incident.actionLine({
            status: clipText(cleanInline(a.status), LABEL_MAX),
            by: by || m.empty,
            time,
          });
    actionLine = clipText(cleanInline(line), ACTION_LINE_MAX);
  }

  const oneLine = (value: unknown, max: number) => clipText(cleanInline(value), max) || m.empty;
  const workflow = workflowLines(view, opts);
  const severityRaw = cleanInline(inc.severity);
  return {
    mark: severityMark(severityRaw),
    title: m.incident.title(oneLine(inc.key, KEY_MAX)),
    silent: view.silent === true ? m.incident.silent : null,
    time: formatTime(inc.created, opts.timeZone, opts.locale),
    severity: oneLine(m.incident.severity(severityRaw), LABEL_MAX),
    type: oneLine(inc.type, TYPE_MAX),
    status: oneLine(m.incident.status(cleanInline(inc.status)), LABEL_MAX),
    actionLine,
    url: incidentUrl(opts.siemUrl, cleanText(inc.id)),
    name: cleanInline(inc.name),
    description: cleanBlock(inc.description),
    events,
    totalEvents,
    workflow: workflow.lines,
    history: workflow.history,
    reminder: reminderLines(view, opts),
  };
}

/** The reminder's line only while the incident is New (it stops mattering once someone acted). */
function reminderLines(view: IncidentView, opts: RenderOptions): string[] {
  const note = view.reminder;
  if (!note) return [];
  const r = reminderTexts(opts.locale);
  const lines: string[] = [];
  const isNew = cleanInline(view.incident.status).toLowerCase() === "new";
  if (isNew && typeof note.newForMs === "number" && note.newForMs > 0)
    lines.push(r.cardWaiting(note.newForMs));
  if (typeof note.escalatedTo === "string" && note.escalatedTo !== "") {
    lines.push(clipText(cleanInline(r.cardEscalated(note.escalatedTo)), ACTION_LINE_MAX));
  }
  return lines;
}

/** Builds both forms for one budget. `html` and `plain` carry the same lines. */
function build(p: Prepared, opts: RenderOptions, budget: Budget): { html: string; plain: string } {
  const m = t(opts.locale);
  const L = m.incident.labels;
  const html: string[] = [];
  const plain: string[] = [];
  const line = (htmlLine: string, plainLine: string) => {
    html.push(htmlLine);
    plain.push(plainLine);
  };
  const field = (label: string, value: string) =>
    line(`<b>${escapeHtml(label)}:</b> ${escapeHtml(value)}`, `${label}: ${value}`);

  const silent = p.silent === null ? "" : ` · ${p.silent}`;
  line(`${p.mark} <b>${escapeHtml(p.title)}</b>${escapeHtml(silent)}`, `${p.mark} ${p.title}${silent}`);
  field(L.time, p.time);
  html.push(`<b>${escapeHtml(L.severity)}:</b> ${p.mark} ${escapeHtml(p.severity)}`);
  plain.push(`${L.severity}: ${p.mark} ${p.severity}`);
  field(L.type, p.type);
  field(L.name, clipText(p.name, budget.name) || m.empty);
  field(L.status, p.status);
  if (p.actionLine) line(`<i>${escapeHtml(p.actionLine)}</i>`, p.actionLine);
  for (const r of p.reminder) line(`<b>${escapeHtml(r)}</b>`, r);
  for (const [label, value] of p.workflow) {
    const isParty = label === m.workflow.card.targets || label === m.workflow.card.attackers;
    if (!isParty || budget.parties !== false) field(label, value);
  }
  line(`🔗 <a href="${escapeHtml(p.url)}">${escapeHtml(m.incident.openInSiem)}</a>`, `🔗 ${p.url}`);
  if (p.history.length > 0 && budget.history !== false) {
    line(`<b>${escapeHtml(m.workflow.card.history)}:</b>`, `${m.workflow.card.history}:`);
    for (const h of p.history) line(`• ${escapeHtml(h)}`, `• ${h}`);
  }

  const description = budget.description > 0 ? clipText(p.description, budget.description) : "";
  if (description) {
    line("", "");
    line(`<b>${escapeHtml(L.description)}:</b>`, `${L.description}:`);
    line(escapeHtml(description), description);
  }

  line("", "");
  if (p.totalEvents === 0) {
    field(L.events, m.incident.noEvents);
  } else {
    field(L.events, m.incident.eventCount(p.totalEvents));
    const shown = p.events.slice(0, budget.events);
    for (const e of shown) {
      // "time — text"; a missing part is left out rather than shown as a dash.
      const parts = [e.time === NO_TIME ? "" : e.time, clipText(e.text, budget.eventText)].filter(Boolean);
      const text = parts.join(" — ") || m.empty;
      line(`• ${escapeHtml(text)}`, `• ${text}`);
    }
    const more = p.totalEvents - shown.length;
    if (shown.length > 0 && more > 0) {
      const moreLine = m.incident.moreEvents(more);
      line(`<i>${escapeHtml(moreLine)}</i>`, moreLine);
    }
  }
  return { html: html.join("\n"), plain: plain.join("\n") };
}

/** Budgets from the most generous to the tightest, in the shrinking order described above. */
function* budgets(shownEvents: number): Generator<Budget> {
  const [firstName] = NAME_STEPS;
  const [firstDescription] = DESCRIPTION_STEPS;
  for (const eventText of EVENT_TEXT_STEPS) {
    yield { eventText, events: shownEvents, description: firstDescription!, name: firstName! };
  }
  const eventText = EVENT_TEXT_STEPS.at(-1)!;
  for (let events = shownEvents - 1; events >= 0; events--) {
    yield { eventText, events, description: firstDescription!, name: firstName! };
  }
  for (const description of DESCRIPTION_STEPS.slice(1))
    yield { eventText, events: 0, description, name: firstName! };
  for (const name of NAME_STEPS.slice(1)) yield { eventText, events: 0, description: 0, name };
  const name = NAME_STEPS.at(-1)!;
  yield { eventText, events: 0, description: 0, name, history: false };
  yield { eventText, events: 0, description: 0, name, history: false, parties: false };
}

/**
 * Buttons only when their payload will parse back: an id that is not a UUID (never the case on a
 * real SIEM) gets no buttons rather than a message that fails to send or buttons that do nothing.
 */
function safeKeyboard(view: IncidentView, opts: RenderOptions) {
  try {
    const keyboard = incidentKeyboard(
      view.incident.id,
      view.incident.status,
      opts.locale,
      view.confirmingClose === true,
      { snooze: opts.snooze === true },
    );
    const parses = keyboard.every((row) => row.every((b) => decodeCallbackData(b.callbackData) !== null));
    return parses ? keyboard : [];
  } catch {
    return [];
  }
}

const fits = (m: { html: string; plain: string }) =>
  visibleLength(m.html) <= TELEGRAM_TEXT_LIMIT && m.plain.length <= TELEGRAM_TEXT_LIMIT;

export function renderIncident(view: IncidentView, opts: RenderOptions): RenderedMessage {
  const prepared = prepare(view, opts);
  const keyboard = safeKeyboard(view, opts);
  let last: { html: string; plain: string } | undefined;
  for (const budget of budgets(prepared.events.length)) {
    last = build(prepared, opts, budget);
    if (fits(last)) return { ...last, keyboard };
  }
  // Only an absurdly long MPSIEM_URL gets here (the header is capped well below the limit);
  // the link's visible text in HTML is short, so only the plain form may still need cutting.
  const html = last!.html;
  return { html, plain: clipText(last!.plain, TELEGRAM_TEXT_LIMIT), keyboard };
}
