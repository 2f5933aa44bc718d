// SQLite: the process holds the database file's lock (a second process refuses to start), so it simply
// leads, from start to stop. The lease row still gets a new epoch at every start (the Telegram updates a
// previous run received and never handled are told apart by it) and the instance its heartbeat.
import type { Logger } from "pino";
import type { InstanceHeartbeat, Store } from "../store/index.js";
import {
  CHECKS_PER_TTL,
  type Leadership,
  type LeadershipEvents,
  type LeadershipStatus,
  type LeaseMetrics,
} from "./types.js";

export interface SoloOptions {
  store: Store;
  instance: string;
  ttlMs: number;
  events: LeadershipEvents;
  metrics: LeaseMetrics;
  logger: Logger;
  heartbeat: (role: "leader" | "standby", epoch: number | null) => InstanceHeartbeat;
  now?: () => number;
}

export class SoloLeadership implements Leadership {
  readonly instance: string;
  private epoch: number | null = null;
  private since: number | null = null;
  private lastCheckAt: number | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly opts: SoloOptions) {
    this.instance = opts.instance;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {
    const previous = await this.opts.store.lease.read();
    this.epoch = await this.opts.store.lease.takeAlone(this.instance, this.opts.ttlMs);
    this.since = this.now();
    this.lastCheckAt = this.since;
    this.opts.metrics.leader.set(1);
    this.opts.metrics.takeovers.inc();
    await this.beat();
    this.timer = setInterval(() => void this.beat(), Math.max(1_000, this.opts.ttlMs / CHECKS_PER_TTL));
    this.timer.unref();
    this.opts.events.onAcquired({ epoch: this.epoch, previousHolder: previous?.holder ?? null });
  }

  acting(): boolean {
    return this.epoch !== null && !this.stopped;
  }

  status(): LeadershipStatus {
    return {
      role: this.acting() ? "leader" : "standby",
      backend: "sqlite",
      instance: this.instance,
      epoch: this.epoch,
      leaderSince: this.acting() ? this.since : null,
      lastCheckAt: this.lastCheckAt,
      lastError: this.lastError,
      problems: [],
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.opts.metrics.leader.set(0);
  }

  private async beat(): Promise<void> {
    try {
      await this.opts.store.lease.heartbeat(this.opts.heartbeat("leader", this.epoch));
      this.lastCheckAt = this.now();
      this.lastError = null;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.opts.logger.debug({ err: this.lastError }, "could not record the heartbeat");
    }
  }
}
