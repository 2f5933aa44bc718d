// Enrichment: an incident's details and first events, read from the SIEM before its first single
// message. Moved here unchanged from the sender, behind a small interface, so that it can leave
// delivery (for intake) without touching the rest: delivery calls enrich() in one place only.
import type { Logger } from "pino";
import type { Config } from "../config/types.js";
import { type SiemClient, SiemError } from "../siem/types.js";
import type { Store, StoredIncident } from "../store/index.js";
import { DeliveryStoppedError } from "./telegram-errors.js";

/** What delivery needs from enrichment. */
export interface IncidentEnricher {
  /** The incident as it should be shown first: with details and events when the SIEM gives them quickly. */
  enrich(incident: StoredIncident): Promise<StoredIncident>;
  /** Stops the background retries; resolves once none is running. */
  stop(): Promise<void>;
}

export interface EnrichmentTuning {
  /** Enrichment (incident details and events) before a first single message. */
  enrichTimeoutMs: number;
  enrichAttempts: number;
  /** After a failed enrichment, when to try again in the background (doubles, up to 10 min). */
  enrichRetryMs: number;
  /** How often due background retries are looked for. */
  idleIntervalMs: number;
}

export interface EnrichmentDeps {
  config: Config;
  store: Store;
  siem: SiemClient;
  log: Logger;
  now: () => number;
  tuning: EnrichmentTuning;
  /** Aborted when delivery stops: waits for the SIEM end at once. */
  stopSignal: AbortSignal;
}

interface EnrichRetry {
  at: number;
  delayMs: number;
}

const MAX_ENRICH_RETRIES_TRACKED = 2_000;
const ENRICH_RETRIES_PER_TICK = 5;
const SIEM_FAILING_PAUSE_MS = 10_000;

export class Enrichment implements IncidentEnricher {
  private readonly config: Config;
  private readonly store: Store;
  private readonly siem: SiemClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly tuning: EnrichmentTuning;
  private readonly stopWaits: { signal: AbortSignal };
  private readonly enriching = new Map<string, Promise<StoredIncident>>();
  private readonly enrichRetry = new Map<string, EnrichRetry>();
  private enrichBackground: Promise<void> | undefined;
  /** After a failed enrichment, new messages do not wait for the SIEM until this time. */
  private siemFailingUntil = 0;
  private readonly retryTimer: NodeJS.Timeout;

  constructor(deps: EnrichmentDeps) {
    this.config = deps.config;
    this.store = deps.store;
    this.siem = deps.siem;
    this.log = deps.log;
    this.now = deps.now;
    this.tuning = deps.tuning;
    this.stopWaits = { signal: deps.stopSignal };
    // The sender's loop used to start due retries at each of its looks; they now keep their own time.
    this.retryTimer = setInterval(() => {
      if (!this.stopping) this.startEnrichmentRetries(this.now());
    }, deps.tuning.idleIntervalMs);
    this.retryTimer.unref();
  }

  private get stopping(): boolean {
    return this.stopWaits.signal.aborted;
  }

  async stop(): Promise<void> {
    clearInterval(this.retryTimer);
    await this.enrichBackground;
  }

  /**
   * Reads the incident's details and first events before its first single message. Never holds the
   * message back for long: on failure it answers what the store has, and a background retry later
   * refreshes the store, which edits the copies already sent. While the SIEM is failing, messages
   * do not wait for it at all.
   */
  async enrich(incident: StoredIncident): Promise<StoredIncident> {
    if (this.enrichRetry.has(incident.id)) return incident; // the background retry owns it
    if (this.now() < this.siemFailingUntil) {
      this.scheduleEnrichRetry(incident.id, this.tuning.enrichRetryMs);
      return incident;
    }
    let running = this.enriching.get(incident.id);
    if (running === undefined) {
      running = this.readFromSiem(incident).finally(() => this.enriching.delete(incident.id));
      this.enriching.set(incident.id, running);
    }
    return running;
  }

  private async readFromSiem(incident: StoredIncident): Promise<StoredIncident> {
    for (let attempt = 1; attempt <= this.tuning.enrichAttempts && !this.stopping; attempt++) {
      try {
        const details = await this.withTimeout(this.siem.getIncident(incident.id), "incident details");
        const events = await this.withTimeout(
          this.siem.getEvents(incident.id, this.config.bot.maxEvents),
          "incident events",
        );
        const refreshed = await this.store.incidents.refresh(details, events);
        this.enrichRetry.delete(incident.id);
        this.siemFailingUntil = 0;
        return refreshed?.incident ?? incident;
      } catch (error) {
        const final = error instanceof SiemError && !error.transient;
        if (!this.stopping) {
          this.log.warn(
            { err: error, incidentId: incident.id, attempt },
            "could not read the incident's details from the SIEM; sending what is known",
          );
        }
        if (final || this.stopping) break;
      }
    }
    if (!this.stopping) {
      this.siemFailingUntil = this.now() + SIEM_FAILING_PAUSE_MS;
      this.scheduleEnrichRetry(incident.id, this.tuning.enrichRetryMs);
    }
    return (await this.store.incidents.get(incident.id)) ?? incident;
  }

  private scheduleEnrichRetry(incidentId: string, delayMs: number): void {
    if (this.enrichRetry.size >= MAX_ENRICH_RETRIES_TRACKED && !this.enrichRetry.has(incidentId)) {
      // Far too many failures at once (the SIEM is down): the oldest are left to the intake's change poll.
      const oldest = this.enrichRetry.keys().next().value;
      if (oldest !== undefined) this.enrichRetry.delete(oldest);
    }
    this.enrichRetry.set(incidentId, { at: this.now() + delayMs, delayMs });
  }

  /** Starts the background retries unless they are running already; the loop never waits for the SIEM. */
  private startEnrichmentRetries(now: number): void {
    if (this.enrichBackground !== undefined || this.enrichRetry.size === 0) return;
    this.enrichBackground = this.retryEnrichment(now)
      .catch((error: unknown) => this.log.error({ err: error }, "background enrichment failed"))
      .finally(() => {
        this.enrichBackground = undefined;
      });
  }

  /** Background retries of failed enrichments; a success bumps the version and so edits the copies. */
  private async retryEnrichment(now: number): Promise<void> {
    let done = 0;
    for (const [incidentId, retry] of [...this.enrichRetry]) {
      if (done >= ENRICH_RETRIES_PER_TICK || this.stopping) return;
      if (retry.at > now || this.enriching.has(incidentId)) continue;
      done++;
      this.enrichRetry.delete(incidentId);
      const incident = await this.store.incidents.get(incidentId);
      if (incident === undefined || incident.enrichedAt !== null) continue;
      // A retry is the probe that tells whether the SIEM is back.
      this.siemFailingUntil = 0;
      const result = await this.enrich(incident);
      if (result.enrichedAt === null && !this.stopping) {
        this.scheduleEnrichRetry(incidentId, Math.min(600_000, retry.delayMs * 2));
        return; // still failing: the others wait for their turn
      }
    }
  }

  private withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    const stop = this.stopWaits.signal;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        stop.removeEventListener("abort", onStop);
        finish();
      };
      const onStop = () => settle(() => reject(new DeliveryStoppedError()));
      if (stop.aborted) {
        reject(new DeliveryStoppedError());
        return;
      }
      stop.addEventListener("abort", onStop, { once: true });
      timer = setTimeout(
        () =>
          settle(() =>
            reject(new Error(`${what}: no answer from the SIEM within ${this.tuning.enrichTimeoutMs} ms`)),
          ),
        this.tuning.enrichTimeoutMs,
      );
      promise.then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
  }
}
