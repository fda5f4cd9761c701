import type { JobKind } from './job.js';
import type { InferenceJob } from './job.js';
import type { JobQueue } from './job-queue.js';
import { DispatchClock } from './dispatch-clock.js';

/** What the batcher needs of a worker: something that runs a batch. */
export interface BatchWorker {
  run(jobs: InferenceJob[], kind: JobKind): void;
}

/** Where the batcher finds workers: an idle one, or a busy one with room for a batch behind its own. */
export interface WorkerSource<W extends BatchWorker> {
  idleWorker(): W | undefined;
  workerWithWaitingSlot(): W | undefined;
}

export interface BatchPolicy {
  batchSize: number;
  maxBatchDelayMs: number;
  /** Sizes, largest first, at which a batch may leave before it is full. */
  preferredBatchSizes: readonly number[];
}

/**
 * Joins a model version's queues (one per kind, so predict and explain never share a batch) to its
 * workers. When a worker is idle it takes up to `batchSize` jobs of one kind, waiting at most
 * `maxBatchDelay` from the oldest job, unless the batch is full or a preferred size is reached. When
 * every worker is busy, a full batch may wait inside one behind its running batch (it would not grow
 * any more in the queue), so the worker goes straight on to it.
 *
 * Dispatch runs at the end of the event-loop turn in which jobs arrived (`schedule`), so requests parsed
 * together leave together (one write, one worker wake-up) even with maxBatchDelay 0.
 */
export class Batcher<W extends BatchWorker> {
  private readonly clock = new DispatchClock(() => this.dispatch());

  constructor(
    private readonly queues: Readonly<Record<JobKind, JobQueue>>,
    private readonly workers: WorkerSource<W>,
    /** Read on every dispatch: settings may change (scaling replaces them). */
    private readonly policy: () => BatchPolicy,
    private readonly send: (worker: W, jobs: InferenceJob[], kind: JobKind) => void,
  ) {}

  /** Dispatches once the current event-loop turn is over (coalesced). Costs one turn. */
  schedule(): void {
    this.clock.schedule();
  }

  /** Hands out every batch that can leave now. */
  dispatch(): void {
    if (this.clock.stopped) return;
    const { batchSize, maxBatchDelayMs, preferredBatchSizes } = this.policy();
    for (;;) {
      const kind = this.nextKind();
      if (!kind) return;
      const queue = this.queues[kind];
      const idle = this.workers.idleWorker();
      if (!idle) {
        const behind = batchSize > 1 && queue.size >= batchSize ? this.workers.workerWithWaitingSlot() : undefined;
        if (!behind) return;
        const jobs = queue.take(batchSize);
        if (jobs.length > 0) this.send(behind, jobs, kind);
        continue;
      }
      let take = batchSize;
      if (batchSize > 1 && queue.size < batchSize) {
        const preferred = preferredBatchSizes.find((p) => p <= queue.size);
        const due = queue.peek()!.enqueuedAt + maxBatchDelayMs;
        if (preferred !== undefined) take = preferred;
        else if (performance.now() < due) {
          this.clock.armAt(due);
          return;
        }
      }
      const jobs = queue.take(take);
      if (jobs.length === 0) continue;
      this.send(idle, jobs, kind);
    }
  }

  /** No more dispatching (the version is draining). */
  stop(): void {
    this.clock.stop();
  }

  /** The kind whose oldest job has waited longest. */
  private nextKind(): JobKind | undefined {
    const p = this.queues.predict.peek();
    const e = this.queues.explain.peek();
    if (p && e) return p.enqueuedAt <= e.enqueuedAt ? 'predict' : 'explain';
    return p ? 'predict' : e ? 'explain' : undefined;
  }

}
