// §4 Cost at rest: start-up time to the first SIEM poll, memory after start and over a long idle
// stretch, SIEM requests and CPU per idle minute. The idle service runs beside the other scenarios
// in its own world (its own emulator and fake), so nothing happens to it but its own polling.
import { type ServiceProcess, sleep, standardChats, World } from "../lib/world.js";

const SETTLE_AFTER_FIRST_POLL_MS = 5_000;
const RSS_SAMPLE_EVERY_MS = 15_000;

export interface IdleResult {
  intervalSec: number;
  startupToFirstPollSec: number;
  rssAfterStartBytes: number | null;
  idleSec: number;
  /** [minutes idle, bytes] every 15 s. */
  rssSamples: Array<[number, number]>;
  rssEndBytes: number | null;
  siemRequests: number;
  polls: number;
  siemRequestsPerPoll: number;
  siemRequestsPerMinute: number;
  /** Requests by route while idle. */
  byRoute: Record<string, number>;
  cpuSec: number;
  cpuSecPerMinute: number;
  cpuPercent: number;
}

export class IdleRun {
  private readonly samples: Array<[number, number]> = [];
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly world: World,
    private readonly service: ServiceProcess,
    private readonly startupSec: number,
    private readonly rssAfterStart: number | null,
    private readonly baseline: { at: number; cpu: number; requests: Record<string, number>; polls: number },
  ) {
    this.timer = setInterval(() => {
      const rss = this.service.rss();
      if (rss !== null) this.samples.push([(Date.now() - this.baseline.at) / 60_000, rss]);
    }, RSS_SAMPLE_EVERY_MS);
  }

  static async start(opts: { seed: number; intervalSec: number }): Promise<IdleRun> {
    const world = await World.create({ name: "idle", seed: opts.seed, chats: standardChats() });
    try {
      await world.allowChats();
      const service = await world.spawn({ pollIntervalSec: opts.intervalSec });
      const firstPollAt = await world.waitFirstPoll();
      if (firstPollAt === null) throw new Error("the idle service did not poll the SIEM within 30 s");
      await sleep(SETTLE_AFTER_FIRST_POLL_MS);
      const rssAfterStart = service.rss();
      // Metrics first, CPU second: the scrape's own cost falls outside the measured stretch.
      const polls = await service.polls();
      const cpu = service.cpu();
      if (cpu === null) throw new Error("cannot read the idle service's CPU time from /proc");
      const requests = { ...world.emu.state.stats().requests };
      const run = new IdleRun(world, service, (firstPollAt - service.spawnedAt) / 1000, rssAfterStart, {
        at: Date.now(),
        cpu,
        requests,
        polls,
      });
      return run;
    } catch (error) {
      await world.close();
      throw error;
    }
  }

  get idleMs(): number {
    return Date.now() - this.baseline.at;
  }

  async finish(intervalSec: number): Promise<IdleResult> {
    clearInterval(this.timer);
    try {
      // CPU first, metrics second (see start).
      const cpu = this.service.cpu();
      const at = Date.now();
      const requests = this.world.emu.state.stats().requests;
      const rssEnd = this.service.rss();
      const polls = (await this.service.polls()) - this.baseline.polls;
      if (cpu === null) throw new Error("the idle service is gone");
      const byRoute: Record<string, number> = {};
      let total = 0;
      for (const [route, n] of Object.entries(requests)) {
        const delta = n - (this.baseline.requests[route] ?? 0);
        if (delta > 0) byRoute[route] = delta;
        total += delta;
      }
      const idleSec = (at - this.baseline.at) / 1000;
      const cpuSec = cpu - this.baseline.cpu;
      return {
        intervalSec,
        startupToFirstPollSec: this.startupSec,
        rssAfterStartBytes: this.rssAfterStart,
        idleSec,
        rssSamples: this.samples,
        rssEndBytes: rssEnd,
        siemRequests: total,
        polls,
        siemRequestsPerPoll: polls > 0 ? total / polls : Number.NaN,
        siemRequestsPerMinute: total / (idleSec / 60),
        byRoute,
        cpuSec,
        cpuSecPerMinute: cpuSec / (idleSec / 60),
        cpuPercent: (cpuSec / idleSec) * 100,
      };
    } finally {
      await this.world.close();
    }
  }

  async abandon(): Promise<void> {
    clearInterval(this.timer);
    await this.world.close();
  }
}
