// The routing decision made at intake, once per fresh incident, for the chats receiving now (design.md §3,
// the routing contract): which chats get the incident, into which topic, and whether it arrives silently.
//
// Per chat, its destinations are tried in order and the FIRST whose filter admits the incident wins
// (Alertmanager's `continue: false`); no destination admits → the chat does not get it. Then the row is
// silent when any of these holds (a silent row is still delivered, never dropped):
//   - BOT_SILENT_BELOW: the incident's severity is below it (an unknown severity counts as below);
//   - the destination's `silent` matchers hold;
//   - the destination has active hours and the moment is outside them;
//   - a mute of the chat (or of that topic) is running and its matchers hold — the row carries the mute's id,
//     for the summary when it ends.
// A verdict that cannot be known (a `rule` matcher without the rule names) admits in a filter and does not
// make anything silent: in doubt, the incident arrives, with sound.
//
// Everything is compiled once (compileRouting) and reused for every incident until the rules change: the
// per-incident work is a few closure calls per chat.

import { type ActiveHoursSpec, type LocalClock, localClock, withinActiveHours } from "./active-hours.js";
import { type CompiledMatchers, type IncidentFacts, incidentFacts } from "./matchers.js";
import { SEVERITY_RANK, type SeverityLevel } from "./severity.js";

/** One place a chat's incidents may go: its own thread (threadId null) or a forum topic. */
export interface DestinationRule {
  threadId: number | null;
  /** null: admits everything. */
  filter: CompiledMatchers | null;
  /** true: admits nothing (`/filter none`). */
  none?: boolean;
  /** null: no silent rule. */
  silent: CompiledMatchers | null;
  /** Empty: always active. */
  activeHours: readonly ActiveHoursSpec[];
}

export interface MuteRule {
  id: number;
  chatId: number;
  /** null: the whole chat; else only what goes into this topic. */
  threadId: number | null;
  matchers: CompiledMatchers;
  startsAt: number;
  endsAt: number;
}

export interface CompiledRules {
  /** Chats with destinations of their own; a chat not here gets everything in its own thread. */
  destinations: ReadonlyMap<number, readonly DestinationRule[]>;
  /** Running or future mutes (an ended one is left out when the rules are loaded). */
  mutes: readonly MuteRule[];
}

/** What the decision needs of an incident (the list item is enough; rule names come separately). */
export interface RoutedIncident {
  id: string;
  severity: string;
  type: string;
  category: string;
  name: string;
}

/** A chat receiving now, as the store lists it. */
export interface RoutedChat {
  id: number;
  /** The topic the chat subscribed from; its "own thread". */
  thread_id: number | null;
}

/** One outbox row to queue (the routing contract's Delivery). */
export interface RoutedDelivery {
  chatId: number;
  /** null: the chat's own thread. */
  threadId: number | null;
  silent: boolean;
  muteId: number | null;
}

export interface RoutingSettings {
  /** BOT_SILENT_BELOW; null: off. */
  silentBelow: SeverityLevel | null;
  /** BOT_TIME_ZONE, for active hours. */
  timeZone: string;
}

const EVERYTHING: readonly DestinationRule[] = [
  { threadId: null, filter: null, silent: null, activeHours: [] },
];

/** A list of destinations' verdict on one incident: the destination that admits it and its loudness. */
type Verdict = { chosen: DestinationRule; silent: boolean };
const NOT_ADMITTED: Verdict = { chosen: EVERYTHING[0]!, silent: false };

function admits(d: DestinationRule, facts: IncidentFacts): boolean {
  if (d.none) return false;
  return d.filter === null || d.filter(facts) !== false;
}

export class Router {
  private readonly silentBelowRank: number | null;
  private readonly mutesByChat = new Map<number, MuteRule[]>();

  constructor(
    private readonly rules: CompiledRules,
    private readonly settings: RoutingSettings,
  ) {
    this.silentBelowRank = settings.silentBelow === null ? null : SEVERITY_RANK[settings.silentBelow];
    // Oldest first: when several mutes apply, the row carries the oldest one's id.
    for (const mute of [...rules.mutes].sort((a, b) => a.id - b.id)) {
      const list = this.mutesByChat.get(mute.chatId) ?? [];
      list.push(mute);
      this.mutesByChat.set(mute.chatId, list);
    }
  }

  /**
   * The decision function for incidents queued at `now` (the injected clock; one moment for a whole ingest).
   * `rulesOf` gives an incident's correlation rule names when its details were read, else undefined.
   */
  at(
    now: number,
    rulesOf: (incidentId: string) => readonly string[] | undefined = () => undefined,
  ): (incident: RoutedIncident, recipients: readonly RoutedChat[]) => RoutedDelivery[] {
    let clock: LocalClock | null = null;
    const localNow = () => {
      clock ??= localClock(now, this.settings.timeZone);
      return clock;
    };
    const mutesNow = new Map<number, MuteRule[]>();
    for (const [chatId, list] of this.mutesByChat) {
      const running = list.filter((m) => m.startsAt <= now && now < m.endsAt);
      if (running.length > 0) mutesNow.set(chatId, running);
    }
    return (incident, recipients) => {
      const facts = incidentFacts(incident, rulesOf(incident.id));
      const belowThreshold =
        this.silentBelowRank !== null &&
        (facts.severityRank === null || facts.severityRank < this.silentBelowRank);
      // Chats with the same rules share one list (compileRules), so the verdict of a list is worked out
      // once per incident, however many chats use it: 200 chats with a handful of filters cost a handful.
      const verdicts = new Map<readonly DestinationRule[], Verdict>();
      const verdictOf = (destinations: readonly DestinationRule[]): Verdict => {
        let verdict = verdicts.get(destinations);
        if (verdict !== undefined) return verdict;
        const chosen = destinations.find((d) => admits(d, facts));
        verdict =
          chosen === undefined
            ? NOT_ADMITTED
            : {
                chosen,
                silent:
                  belowThreshold ||
                  (chosen.silent !== null && chosen.silent(facts) === true) ||
                  (chosen.activeHours.length > 0 && !withinActiveHours(chosen.activeHours, localNow())),
              };
        verdicts.set(destinations, verdict);
        return verdict;
      };
      const out: RoutedDelivery[] = [];
      for (const chat of recipients) {
        const verdict = verdictOf(this.rules.destinations.get(chat.id) ?? EVERYTHING);
        if (verdict === NOT_ADMITTED) continue;
        const chosen = verdict.chosen;
        let muteId: number | null = null;
        const mutes = mutesNow.get(chat.id);
        if (mutes !== undefined) {
          const thread = chosen.threadId ?? chat.thread_id;
          for (const m of mutes) {
            if ((m.threadId === null || m.threadId === thread) && m.matchers(facts) === true) {
              muteId = m.id;
              break;
            }
          }
        }
        out.push({
          chatId: chat.id,
          threadId: chosen.threadId,
          silent: muteId !== null || verdict.silent,
          muteId,
        });
      }
      return out;
    };
  }
}
