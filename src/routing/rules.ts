// From the rules as stored (text, as the commands and the config file wrote them) to the compiled rules the
// decision uses. The store keeps filters and mutes as canonical matcher text (formatMatchers); this is the
// one place they are parsed again, once per change of the rules, never per incident.
//
// A chat's destinations:
//  - a chat managed from Telegram: its topics in the order they were added (each `/filter` typed in a topic
//    makes that topic a destination), then its own thread last, as the catch-all: everything unless its own
//    filter says otherwise (`/filter none` there: only the topics receive);
//  - a chat managed by the config file: exactly the routes listed for it, in the file's order.

import { type ActiveHoursSpec, parseActiveHours } from "./active-hours.js";
import type { CompiledRules, DestinationRule, MuteRule } from "./decide.js";
import { compileMatchers, parseMatchers } from "./matchers.js";

/** A filter that admits nothing (`/filter none`). Never a valid list of matchers, so never ambiguous. */
export const FILTER_NONE = "none";

export interface StoredDestinationLike {
  chatId: number;
  threadId: number | null;
  position: number;
  /** "" everything, "none" nothing, else matchers. */
  filter: string;
  /** "" none, else matchers. */
  silent: string;
  activeHours: readonly string[];
  managedByConfig: boolean;
}

export interface StoredMuteLike {
  id: number;
  chatId: number;
  threadId: number | null;
  matchers: string;
  startsAt: number;
  endsAt: number;
}

/** A stored rule that no longer parses (written by another version): reported, then read permissively. */
export type BadRule = { what: string; chatId: number; text: string; problem: string };

function compileText(text: string, what: string, chatId: number, bad: BadRule[]) {
  if (text.trim() === "") return null;
  const parsed = parseMatchers(text);
  if (!parsed.ok) {
    bad.push({ what, chatId, text, problem: parsed.error.problem.kind });
    return undefined;
  }
  return compileMatchers(parsed.matchers);
}

function compileHours(list: readonly string[], chatId: number, bad: BadRule[]): ActiveHoursSpec[] {
  const specs: ActiveHoursSpec[] = [];
  for (const text of list) {
    const parsed = parseActiveHours(text);
    if (parsed.ok) specs.push(parsed.spec);
    else bad.push({ what: "active hours", chatId, text, problem: parsed.problem });
  }
  return specs;
}

export function compileRules(
  stored: { destinations: readonly StoredDestinationLike[]; mutes: readonly StoredMuteLike[] },
  bad: BadRule[] = [],
): CompiledRules {
  const byChat = new Map<number, StoredDestinationLike[]>();
  for (const d of stored.destinations) {
    const list = byChat.get(d.chatId) ?? [];
    list.push(d);
    byChat.set(d.chatId, list);
  }
  const destinations = new Map<number, DestinationRule[]>();
  // Chats with the same rules share one compiled list: the decision works a list out once per incident.
  const shared = new Map<string, DestinationRule[]>();
  for (const [chatId, rows] of byChat) {
    const key = JSON.stringify(
      [...rows]
        .sort((a, b) => a.position - b.position)
        .map((r) => [r.threadId, r.filter, r.silent, r.activeHours, r.managedByConfig]),
    );
    const same = shared.get(key);
    if (same !== undefined) {
      destinations.set(chatId, same);
      continue;
    }
    const managed = rows.some((r) => r.managedByConfig);
    const ordered = [...rows].sort((a, b) => a.position - b.position);
    const topics = managed ? ordered : ordered.filter((r) => r.threadId !== null);
    const own = managed ? undefined : ordered.find((r) => r.threadId === null);
    const compiled: DestinationRule[] = [];
    for (const row of topics) compiled.push(compileDestination(row, bad));
    if (!managed) {
      compiled.push(
        own ? compileDestination(own, bad) : { threadId: null, filter: null, silent: null, activeHours: [] },
      );
    }
    destinations.set(chatId, compiled);
    shared.set(key, compiled);
  }
  const mutes: MuteRule[] = [];
  for (const m of stored.mutes) {
    const matchers = compileText(m.matchers, "mute", m.chatId, bad);
    // A mute whose matchers no longer parse mutes nothing (it never silences by mistake).
    if (matchers === undefined) continue;
    mutes.push({
      id: m.id,
      chatId: m.chatId,
      threadId: m.threadId,
      matchers: matchers ?? (() => true),
      startsAt: m.startsAt,
      endsAt: m.endsAt,
    });
  }
  return { destinations, mutes };
}

function compileDestination(row: StoredDestinationLike, bad: BadRule[]): DestinationRule {
  const none = row.filter.trim() === FILTER_NONE;
  // A filter that no longer parses admits everything: nothing is lost because of it.
  const filter = none ? null : (compileText(row.filter, "filter", row.chatId, bad) ?? null);
  const silent = compileText(row.silent, "silent", row.chatId, bad) ?? null;
  return {
    threadId: row.threadId,
    filter,
    ...(none ? { none: true } : {}),
    silent,
    activeHours: compileHours(row.activeHours, row.chatId, bad),
  };
}
