import type { InferenceJob } from '../scheduling/job.js';

/** A count and the total time it took, in nanoseconds (Triton's `{count, ns}`). */
export interface DurationStat {
  count: number;
  ns: number;
}

/** Per batch size: how many batches of that size ran and how long they took. */
export interface BatchStat {
  batchSize: number;
  computeInput: DurationStat;
  computeInfer: DurationStat;
  computeOutput: DurationStat;
}

const NS_PER_MS = 1_000_000;

function add(stat: DurationStat, ms: number): void {
  stat.count++;
  // Integral nanoseconds: statistics readers (perf_analyzer) parse these as unsigned 64-bit integers.
  stat.ns += Math.max(0, Math.round(ms * NS_PER_MS));
}

const zero = (): DurationStat => ({ count: 0, ns: 0 });

/**
 * Cumulative timings of one model version, in the shape of Triton's statistics extension: successes
 * and failures with their end-to-end time, time queued, time computing (from dispatch to the answer,
 * so it includes the trip to the worker), and the same per batch size. The gateway does not see the
 * worker's input/output conversion apart from the run itself, so compute_input and compute_output count
 * requests with zero time.
 */
export class InferenceStatistics {
  readonly success = zero();
  readonly fail = zero();
  readonly queue = zero();
  readonly computeInput = zero();
  readonly computeInfer = zero();
  readonly computeOutput = zero();
  /** Requests answered successfully (Triton counts inferences; one request is one here). */
  inferenceCount = 0;
  /** Batches sent to workers: the one batch counter. */
  executionCount = 0;
  /** Requests in those batches (their mean size is batchedRequests / executionCount). */
  batchedRequests = 0;
  /** Wall-clock time of the last completed inference, ms since the epoch (0 = none yet). */
  lastInferenceMs = 0;
  private readonly batches = new Map<number, BatchStat>();

  /** Follows a queued job to its end. Call once, when the job is accepted. */
  trackJob(job: InferenceJob): void {
    job.whenEnded(this.onJobEnded);
  }

  /** Shared by every job (no closure per request). */
  private readonly onJobEnded = (j: InferenceJob): void => {
    const now = performance.now();
    const queuedUntil = j.startedAt > 0 ? j.startedAt : now;
    if (j.state === 'done') {
      add(this.success, now - j.createdAt);
      add(this.queue, queuedUntil - j.enqueuedAt);
      add(this.computeInput, 0);
      add(this.computeInfer, now - queuedUntil);
      add(this.computeOutput, 0);
      this.inferenceCount++;
      this.lastInferenceMs = Date.now();
    } else if (j.state === 'failed' || j.state === 'expired') {
      add(this.fail, now - j.createdAt);
    }
  };

  /** Times one batch from dispatch until its last request has ended. */
  trackBatch(jobs: readonly InferenceJob[]): void {
    this.executionCount++;
    this.batchedRequests += jobs.length;
    const started = performance.now();
    let pending = jobs.length;
    const size = jobs.length;
    // One callback for the whole batch, not one closure per job.
    const onJobEnded = (): void => {
      if (--pending > 0) return;
      let stat = this.batches.get(size);
      if (!stat) {
        stat = { batchSize: size, computeInput: zero(), computeInfer: zero(), computeOutput: zero() };
        this.batches.set(size, stat);
      }
      add(stat.computeInput, 0);
      add(stat.computeInfer, performance.now() - started);
      add(stat.computeOutput, 0);
    };
    for (const job of jobs) job.whenEnded(onJobEnded);
  }

  /** Batch statistics by ascending batch size. */
  batchStats(): BatchStat[] {
    return [...this.batches.values()].sort((a, b) => a.batchSize - b.batchSize);
  }
}
