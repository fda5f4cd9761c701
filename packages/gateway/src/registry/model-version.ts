import { ModelServerError } from '@model-server/protocol';
import type { OpenedArchive } from '@model-server/worker';
import type { ModelSettings } from '../config/model-config.js';
import type { WorkerLaunch } from '../config/vm-args.js';
import type { Logger } from '../logger.js';
import { JobQueue } from '../scheduling/job-queue.js';
import type { InferenceJob } from '../scheduling/job.js';
import { clearTimer, setTimer, type Timer } from '../scheduling/timers.js';
import { InferenceStatistics } from './inference-statistics.js';
import { WorkerPool } from '../workers/worker-pool.js';
import type { WorkerProcess } from '../workers/worker-process.js';

export interface ModelVersionInit {
  name: string;
  version: string;
  url: string;
  archive: OpenedArchive;
  settings: ModelSettings;
  logger: Logger;
  maxRequestBytes: number;
  maxResponseBytes: number;
  cancelGraceMs: number;
  workerLaunch: WorkerLaunch;
  nextWorkerNumber: () => number;
}

/** Batch counters (success, failure and timings live in `statistics` and the metrics). */
export interface VersionStats {
  batches: number;
  batchedRequests: number;
}

export type BatchListener = (version: ModelVersion, size: number) => void;
/** Called once per job accepted into the queue (metrics hook it; keep it cheap). */
export type JobListener = (job: InferenceJob) => void;

/**
 * One registered model version: its settings, its bounded queue (one per kind, so predict and explain
 * never share a batch, sharing one bound), its worker pool, and the batcher that joins them.
 */
export class ModelVersion {
  readonly name: string;
  readonly version: string;
  readonly url: string;
  readonly archive: OpenedArchive;
  settings: ModelSettings;
  readonly pool: WorkerPool;
  readonly stats: VersionStats = { batches: 0, batchedRequests: 0 };
  /** Queue and compute timings in Triton's statistics shape (`GET /v2/models/{m}/stats`). */
  readonly statistics = new InferenceStatistics();
  private readonly queues: Record<'predict' | 'explain', JobQueue>;
  private batchTimer: Timer | undefined;
  private batchTimerAt = 0;
  private dispatchScheduled = false;
  private readonly logger: Logger;
  private readonly batchListeners: BatchListener[] = [];
  private readonly jobListeners: JobListener[] = [];
  draining = false;

  constructor(init: ModelVersionInit) {
    this.name = init.name;
    this.version = init.version;
    this.url = init.url;
    this.archive = init.archive;
    this.settings = init.settings;
    this.logger = init.logger.child({ model: init.name, version: init.version });
    this.queues = { predict: new JobQueue(init.settings.jobQueueSize), explain: new JobQueue(init.settings.jobQueueSize) };
    this.pool = new WorkerPool({
      name: `${init.name}_${init.version}`,
      minWorkers: init.settings.minWorkers,
      maxRetryTimeoutMs: init.settings.maxRetryTimeoutMs,
      logger: this.logger,
      nextWorkerNumber: init.nextWorkerNumber,
      spec: {
        load: {
          modelName: init.name,
          modelVersion: init.version,
          modelDir: init.archive.modelDir,
          batchSize: init.settings.batchSize,
          manifest: { ...init.archive.manifest },
          modelConfig: init.archive.modelConfig,
        },
        startupTimeoutMs: init.settings.startupTimeoutMs,
        maxRequestBytes: init.maxRequestBytes,
        maxResponseBytes: init.maxResponseBytes,
        cancelGraceMs: init.cancelGraceMs,
        launch: init.workerLaunch,
      },
    });
    this.pool.on('idle', () => this.dispatch());
  }

  get queueSize(): number {
    return this.queues.predict.size + this.queues.explain.size;
  }

  get queueCapacity(): number {
    return this.settings.jobQueueSize;
  }

  /** Healthy for /ping: at least minWorkers workers alive (TorchServe's rule). */
  get healthy(): boolean {
    return this.pool.liveCount >= this.pool.target;
  }

  onBatch(listener: BatchListener): void {
    this.batchListeners.push(listener);
  }

  onJob(listener: JobListener): void {
    this.jobListeners.push(listener);
  }

  /** Queues a job or refuses it at once (503) without touching any worker. */
  submit(job: InferenceJob): void {
    const params = { model: this.name, version: this.version };
    if (this.draining || this.pool.target === 0 || this.pool.failed) throw new ModelServerError('NO_WORKER', params);
    if (this.queueSize >= this.settings.jobQueueSize) {
      throw new ModelServerError('QUEUE_FULL', { ...params, capacity: this.settings.jobQueueSize });
    }
    job.enqueuedAt = performance.now();
    this.queues[job.kind].push(job);
    this.statistics.trackJob(job);
    for (const l of this.jobListeners) l(job);
    this.scheduleDispatch();
  }

  /**
   * Dispatches once the current event-loop turn is over, so requests parsed in the same turn leave as
   * one batch: one write to the worker and one wake-up of it, rather than one each. Costs one turn.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /**
   * Hands batches to idle workers. With batchSize 1 a job goes out at once. Otherwise a batch leaves
   * when it is full, when a preferred size is reached, or when its oldest job has waited maxBatchDelay.
   * When every worker is busy, a full batch may wait inside one behind its running batch (it would
   * not grow any more in the queue), so the worker goes straight on to it.
   */
  dispatch(): void {
    const { batchSize, maxBatchDelayMs, preferredBatchSizes } = this.settings;
    for (;;) {
      const kind = this.nextKind();
      if (!kind) return;
      const queue = this.queues[kind];
      const idle = this.pool.idleWorker();
      if (!idle) {
        const behind = batchSize > 1 && queue.size >= batchSize ? this.pool.workerWithWaitingSlot() : undefined;
        if (!behind) return;
        const jobs = queue.take(batchSize);
        if (jobs.length > 0) this.runBatch(behind, jobs, kind);
        continue;
      }
      let take = batchSize;
      if (batchSize > 1 && queue.size < batchSize) {
        const preferred = preferredBatchSizes.find((p) => p <= queue.size);
        const due = queue.peek()!.enqueuedAt + maxBatchDelayMs;
        if (preferred !== undefined) take = preferred;
        else if (performance.now() < due) {
          this.armBatchTimer(due);
          return;
        }
      }
      const jobs = queue.take(take);
      if (jobs.length === 0) continue;
      this.runBatch(idle, jobs, kind);
    }
  }

  private runBatch(worker: WorkerProcess, jobs: InferenceJob[], kind: 'predict' | 'explain'): void {
    this.stats.batches++;
    this.stats.batchedRequests += jobs.length;
    this.statistics.trackBatch(jobs);
    this.logger.debug({ worker: worker.id, batchSize: jobs.length }, 'batch formed');
    for (const l of this.batchListeners) l(this, jobs.length);
    worker.run(jobs, kind);
  }

  /** The kind whose oldest job has waited longest. */
  private nextKind(): 'predict' | 'explain' | undefined {
    const p = this.queues.predict.peek();
    const e = this.queues.explain.peek();
    if (p && e) return p.enqueuedAt <= e.enqueuedAt ? 'predict' : 'explain';
    return p ? 'predict' : e ? 'explain' : undefined;
  }

  private armBatchTimer(at: number): void {
    if (this.batchTimer && this.batchTimerAt <= at) return;
    if (this.batchTimer) clearTimer(this.batchTimer);
    this.batchTimerAt = at;
    this.batchTimer = setTimer(() => {
      this.batchTimer = undefined;
      this.dispatch();
    }, Math.max(0, at - performance.now()));
  }

  /**
   * Stops taking work, answers every queued job, and stops the workers once running batches end
   * (a batch still running after `graceMs` has its worker terminated).
   */
  async drain(graceMs?: number): Promise<void> {
    this.draining = true;
    if (this.batchTimer) clearTimer(this.batchTimer);
    for (const queue of Object.values(this.queues)) {
      for (const job of queue.drain()) job.fail(new ModelServerError('NO_WORKER', { model: this.name, version: this.version }));
    }
    await this.pool.stopAll(graceMs);
  }
}
