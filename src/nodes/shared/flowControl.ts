// Per-node backpressure: at most `maxInFlight` jobs run at once; what happens to a message that
// arrives while the node is full is the overflow policy. Every job ends exactly once, by
// `run` or by `drop`, so the node can always call the message's done().

export type OverflowPolicy = 'latest' | 'drop' | 'queue';
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['latest', 'drop', 'queue'];

export interface Job {
  run(): Promise<void>;
  /** The job will never run: superseded (latest), refused (drop, full queue) or the node closed. */
  drop(): void;
}

export interface FlowControlOptions {
  maxInFlight: number;
  overflow: OverflowPolicy;
  /** Bound of the `queue` policy's FIFO. */
  queueSize: number;
}

export class FlowControl {
  private running = 0;
  private readonly waiting: Job[] = [];
  private droppedCount = 0;
  private closed = false;

  constructor(private readonly options: FlowControlOptions) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** How many jobs were dropped since the node started. */
  get dropped(): number {
    return this.droppedCount;
  }

  submit(job: Job): void {
    if (this.closed) return this.discard(job);
    if (this.running < this.options.maxInFlight) return this.start(job);
    switch (this.options.overflow) {
      case 'drop':
        return this.discard(job);
      case 'latest':
        this.waiting.splice(0).forEach((superseded) => this.discard(superseded));
        this.waiting.push(job);
        return;
      case 'queue':
        if (this.waiting.length >= this.options.queueSize) return this.discard(job);
        this.waiting.push(job);
    }
  }

  /** Drops everything still waiting and refuses new jobs; running jobs finish (or are aborted) by their owner. */
  close(): void {
    this.closed = true;
    this.waiting.splice(0).forEach((job) => this.discard(job));
  }

  private start(job: Job): void {
    this.running += 1;
    job
      .run()
      .catch(() => undefined) // a job reports its own failures; the slot must be freed regardless
      .finally(() => {
        this.running -= 1;
        const next = this.waiting.shift();
        if (next) this.start(next);
      });
  }

  private discard(job: Job): void {
    this.droppedCount += 1;
    job.drop();
  }
}
