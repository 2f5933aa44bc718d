// Runs the leader's work once per term: built fresh when this instance becomes the leader, stopped (within
// a bound) when it stops leading. Transitions run one after another, so a term never starts while the
// previous one is still stopping.
import type { Logger } from "pino";
import type { LeadershipEvents, Term } from "./types.js";

export interface RunningTerm {
  /** Stops the term's work: nothing new starts at once; what is in flight gets a bounded time. */
  stop(): Promise<void>;
}

export interface TermRunnerOptions {
  begin: (term: Term) => Promise<RunningTerm>;
  logger: Logger;
  /** A term's stop is not waited for longer than this (its parts bound their own stops too). */
  stopWithinMs: number;
}

export class TermRunner {
  private chain: Promise<void> = Promise.resolve();
  private current: RunningTerm | null = null;
  private closed = false;

  constructor(private readonly opts: TermRunnerOptions) {}

  readonly events: LeadershipEvents = {
    onAcquired: (term) => this.enqueue(() => this.begin(term)),
    onLost: (reason) => this.enqueue(() => this.end(reason)),
  };

  /** Resolves when every transition asked for so far is done. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Ends the current term (if any) and takes no new one. */
  async close(): Promise<void> {
    this.closed = true;
    this.enqueue(() => this.end("stopping"));
    await this.chain;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step, step).catch((error: unknown) => {
      this.opts.logger.error({ err: error }, "a change of leadership failed");
    });
  }

  private async begin(term: Term): Promise<void> {
    if (this.current) await this.end("a new term began");
    if (this.closed) return;
    this.current = await this.opts.begin(term);
  }

  private async end(reason: string): Promise<void> {
    const term = this.current;
    this.current = null;
    if (!term) return;
    this.opts.logger.info({ reason }, "stopping the leader's work");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      term
        .stop()
        .catch((error: unknown) =>
          this.opts.logger.warn({ err: error }, "the leader's work did not stop cleanly"),
        ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.opts.stopWithinMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
