import type { InferenceJob } from './job.js';

/**
 * A bounded queue with priority levels (higher first, FIFO within a level). Jobs that end while queued
 * (cancelled, expired) are skipped lazily when reached, but stop counting against the bound at once.
 */
export class JobQueue {
  /** Levels sorted by priority, highest first. */
  private readonly levels: { priority: number; items: InferenceJob[]; head: number }[] = [];
  private live = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.live;
  }

  get full(): boolean {
    return this.live >= this.capacity;
  }

  /** Adds a job; the caller checks `full` first (the queue does not decide how to refuse). */
  push(job: InferenceJob): void {
    let level = this.levels.find((l) => l.priority === job.priority);
    if (!level) {
      level = { priority: job.priority, items: [], head: 0 };
      this.levels.push(level);
      this.levels.sort((a, b) => b.priority - a.priority);
    }
    level.items.push(job);
    this.live++;
    job.whenEnded(this.onJobEnded);
  }

  /** Leaving while still queued (cancel, expiry) frees the slot now; the entry is skipped later. */
  private readonly onJobEnded = (job: InferenceJob): void => {
    if (job.endedQueued) this.live--;
  };

  /** The job that would be taken next, without taking it. */
  peek(): InferenceJob | undefined {
    for (const level of this.levels) {
      while (level.head < level.items.length && level.items[level.head]!.state !== 'queued') level.head++;
      if (level.head < level.items.length) return level.items[level.head];
      this.compact(level);
    }
    return undefined;
  }

  /** Takes up to `max` live jobs in priority order. */
  take(max: number): InferenceJob[] {
    const out: InferenceJob[] = [];
    for (const level of this.levels) {
      while (out.length < max && level.head < level.items.length) {
        const job = level.items[level.head++]!;
        if (job.state === 'queued') out.push(job);
      }
      this.compact(level);
      if (out.length >= max) break;
    }
    this.live -= out.length;
    return out;
  }

  /** Every live job, in order (for draining on unregister). */
  drain(): InferenceJob[] {
    return this.take(Number.MAX_SAFE_INTEGER);
  }

  private compact(level: { items: InferenceJob[]; head: number }): void {
    if (level.head > 1024 && level.head * 2 > level.items.length) {
      level.items = level.items.slice(level.head);
      level.head = 0;
    } else if (level.head === level.items.length) {
      level.items = [];
      level.head = 0;
    }
  }
}
