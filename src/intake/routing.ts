// The routing decision at queue time (design.md §3, the routing contract): the rules are read from the
// store and compiled once per change (the store's generation token tells), checked once per ingest, and
// the compiled decision runs once per fresh incident inside the ingest transaction. The clock is the
// intake's injected one, read once per ingest.

import type { Logger } from "pino";
import { compileRules, type RoutedIncident, Router, type RoutingSettings } from "../routing/index.js";
import type { Chat, Delivery, IncidentRead, Route, Store } from "../store/index.js";

export class RoutingRules {
  private loaded: { generation: string | null; router: Router } | null = null;

  constructor(
    private readonly store: Store,
    private readonly settings: RoutingSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * The decision for the incidents of one ingest, queued at `now`. Reloads the rules only when they
   * changed since the last load. Rule names come from the details read before queuing (`reads`); without
   * them (a burst), a `rule` matcher is unknown: a filter admits, a mute or silent rule does not apply.
   */
  async routeAt(now: number, reads: ReadonlyMap<string, IncidentRead>): Promise<Route> {
    const router = await this.current(now);
    const decide = router.at(now, (id) => reads.get(id)?.details.correlationRules);
    return (incident: RoutedIncident, recipients: Chat[]): Delivery[] => {
      // The details read before queuing are what the card shows; the list item otherwise.
      const read = reads.get(incident.id)?.details;
      return decide(read ?? incident, recipients);
    };
  }

  private async current(now: number): Promise<Router> {
    const generation = await this.store.routing.generation();
    if (this.loaded !== null && this.loaded.generation === generation) return this.loaded.router;
    const stored = await this.store.routing.load(now);
    const bad: Parameters<typeof compileRules>[1] = [];
    const router = new Router(compileRules(stored, bad), this.settings);
    for (const b of bad) {
      this.logger.warn(
        { chatId: b.chatId, rule: b.what, text: b.text, problem: b.problem },
        "a stored routing rule does not parse; it is read permissively (a filter admits, a mute mutes nothing)",
      );
    }
    this.loaded = { generation: stored.generation, router };
    this.logger.debug(
      { destinations: stored.destinations.length, mutes: stored.mutes.length },
      "routing rules loaded",
    );
    return router;
  }
}
