// The one routine that reads an incident from the SIEM and stores it: new incidents before their first
// message, changes the poller finds, Refresh and the other buttons. A read is combined with the stored
// state by reconcileRead, so a lagging read model never takes a copy back to an older state.
import type { SiemClient } from "../siem/types.js";
import type { BotAction, IncidentRead, Store, StoredIncident } from "../store/index.js";
import { reconcileRead } from "./reconcile.js";

export interface IncidentReaderDeps {
  siem: SiemClient;
  store: Store;
  /** Events shown per incident (BOT_MAX_EVENTS). */
  maxEvents: number;
  /**
   * BOT_OVERLAP_WINDOW: an incident created this close to the poller's watermark (or later) is the
   * poller's to store and queue; a lookup leaves it to the poller.
   */
  overlapMs?: number;
  now?: () => number;
}

/** What `/inc` found: the incident as stored, or (left to the poller) as just read. */
export type LookedUp = { stored: true; incident: StoredIncident } | { stored: false; read: IncidentRead };

/** The overlap window's default (BOT_OVERLAP_WINDOW). */
const DEFAULT_OVERLAP_MS = 600_000;

export interface Reread {
  incident: StoredIncident;
  /** Something a message shows changed: delivery edits every copy. */
  changed: boolean;
  /** The SIEM's modification time of what was read (ms), if it gave one. */
  modified: number | null;
}

export class IncidentReader {
  private readonly now: () => number;

  constructor(private readonly deps: IncidentReaderDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Details and first events, read together. Throws the SIEM's error. */
  async read(id: string): Promise<IncidentRead> {
    const [details, events] = await Promise.all([
      this.deps.siem.getIncident(id),
      this.deps.siem.getEvents(id, this.deps.maxEvents),
    ]);
    return { details, events };
  }

  /** Reads the incident and stores it; undefined when the store does not know it. Throws the SIEM's error. */
  async reread(id: string): Promise<Reread | undefined> {
    const { details, events } = await this.read(id);
    const result = await this.deps.store.incidents.refresh(
      details,
      events,
      undefined,
      reconcileRead(this.now()),
    );
    if (!result) return undefined;
    return { ...result, modified: details.modified?.getTime() ?? null };
  }

  /**
   * `/inc KEY`: the incident with this key, read from the SIEM (not only the store, so that incidents older
   * than the store are found). A known one is stored like any read; one the poller has already gone past
   * (older than its watermark and the overlap window) is stored as seen, queued to no chat; a newer one is
   * left to the poller, which stores and queues it as usual. Undefined: the SIEM has no such key. Throws
   * the SIEM's error.
   */
  async lookUp(key: string): Promise<LookedUp | undefined> {
    const { siem, store } = this.deps;
    const details = await siem.findIncidentByKey(key);
    if (details === null) return undefined;
    const events = await siem.getEvents(details.id, this.deps.maxEvents);
    const refreshed = await store.incidents.refresh(details, events, undefined, reconcileRead(this.now()));
    if (refreshed) return { stored: true, incident: refreshed.incident };
    const watermark = await store.incidents.watermark();
    const created = details.created.getTime();
    const polledPast =
      watermark !== undefined &&
      Number.isFinite(created) &&
      created < watermark - (this.deps.overlapMs ?? DEFAULT_OVERLAP_MS);
    if (!polledPast) return { stored: false, read: { details, events } };
    await store.incidents.ingest([details], null, {
      queue: false,
      reads: new Map([[details.id, { details, events }]]),
    });
    const incident = await store.incidents.get(details.id);
    return incident ? { stored: true, incident } : { stored: false, read: { details, events } };
  }

  /**
   * A transition made through the bot has just been accepted (204): the copies show the new status and
   * who made it at once, before the SIEM's read model does.
   */
  async recordOwnChange(
    id: string,
    status: string,
    by: string,
    /** The action for the card's bot history (issue 14), if this change is one. */
    botAction?: Omit<BotAction, "by" | "at">,
  ): Promise<StoredIncident | undefined> {
    const siemNow = this.deps.siem.siemNow();
    const at = new Date(this.now());
    return this.deps.store.incidents.recordAction(
      id,
      { status, by, at, pending: true, siemAt: siemNow === null ? null : new Date(siemNow) },
      botAction ? { ...botAction, by, at } : undefined,
    );
  }
}
