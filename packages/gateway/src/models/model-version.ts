import { ModelServerError } from '@model-server/protocol';
import type { OpenedArchive } from '@model-server/archive';
import { maxOpenSequences, type ModelSettings } from '../config/model-config.js';
import type { WorkerLaunch } from '../config/vm-args.js';
import type { Logger } from '../logging/logger.js';
import { Batcher } from '../scheduling/batcher.js';
import { JobQueue } from '../scheduling/job-queue.js';
import type { InferenceJob, JobKind } from '../scheduling/job.js';
import { SequenceBatcher, type SequencePolicy } from '../scheduling/sequence-batcher.js';
import { waitAtMost } from '../scheduling/timers.js';
import { sequenceFromHeaders, type SequenceRequest } from '../scheduling/sequence-request.js';
import { WorkerPool } from '../workers/worker-pool.js';
import type { WorkerProcess } from '../workers/worker-process.js';
import { InferenceStatistics } from './inference-statistics.js';
import { logJobEnd } from './job-log.js';

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

export type BatchListener = (version: ModelVersion, size: number) => void;
/** Called once per job accepted into the queue (metrics hook it; keep it cheap). */
export type JobListener = (job: InferenceJob) => void;
/** Called once per request that failed, expired or was refused by this version (never on success). */
export type FailureListener = (job: InferenceJob, error: ModelServerError) => void;

/** Seconds a client is told to wait before retrying a model whose workers fail to load, at least. */
const MIN_RETRY_AFTER_S = 1;

/**
 * One registered model version: its settings, its bounded queues (one per kind, sharing one bound), its
 * worker pool and the batcher that joins them; for a stateful model (sequenceBatching) the sequence
 * batcher instead, which keeps each sequence on one worker. Every API's jobs enter through `submit`.
 */
export class ModelVersion {
  readonly name: string;
  readonly version: string;
  readonly url: string;
  readonly archive: OpenedArchive;
  settings: ModelSettings;
  readonly pool: WorkerPool;
  /** The most input bytes one request may carry (max_request_size): a worker's frames are sized for it. */
  readonly maxRequestBytes: number;
  /** Queue and compute timings in Triton's statistics shape (`GET /v2/models/{m}/stats`); batches counted there. */
  readonly statistics = new InferenceStatistics();
  private readonly queues: Record<JobKind, JobQueue>;
  private readonly batcher: Batcher<WorkerProcess>;
  /** Set for a stateful model: it schedules every job instead of the batcher. */
  readonly sequences: SequenceBatcher<WorkerProcess> | undefined;
  private readonly logger: Logger;
  private readonly batchListeners: BatchListener[] = [];
  private readonly jobListeners: JobListener[] = [];
  private readonly failureListeners: FailureListener[] = [];
  private readonly onJobEnd: (job: InferenceJob) => void;
  /** Jobs accepted and not yet ended. */
  private outstanding = 0;
  private whenIdle: (() => void) | undefined;
  /** Unregistering: no new jobs, queued ones answered NO_WORKER. */
  draining = false;
  /** Shutting down: no new jobs (SERVER_DRAINING), queued and running ones still served. */
  private closing = false;

  constructor(init: ModelVersionInit) {
    this.name = init.name;
    this.version = init.version;
    this.url = init.url;
    this.archive = init.archive;
    this.settings = init.settings;
    this.maxRequestBytes = init.maxRequestBytes;
    this.logger = init.logger.child({ model: init.name, version: init.version });
    const logger = this.logger;
    this.onJobEnd = (job) => {
      logJobEnd(logger, job);
      if (job.error) for (const l of this.failureListeners) l(job, job.error);
      if (--this.outstanding === 0) this.whenIdle?.();
    };
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
    const runBatch = (worker: WorkerProcess, jobs: InferenceJob[], kind: JobKind): void => this.runBatch(worker, jobs, kind);
    this.batcher = new Batcher(this.queues, this.pool, () => this.settings, runBatch);
    if (init.settings.sequence) {
      const sequences = new SequenceBatcher(this.pool, () => this.sequencePolicy(), runBatch, { name: this.name, version: this.version });
      this.sequences = sequences;
      this.pool.on('idle', () => sequences.schedule());
      this.pool.on('worker_lost', (worker: WorkerProcess, why: string, died: boolean) => sequences.workerLost(worker, why, died));
    } else {
      this.pool.on('idle', () => this.batcher.dispatch());
    }
  }

  /** Read several times per request of a stateful model: made again only when the settings change. */
  private policyCache: { settings: ModelSettings; policy: SequencePolicy } | undefined;

  private sequencePolicy(): SequencePolicy {
    const s = this.settings;
    if (this.policyCache?.settings === s) return this.policyCache.policy;
    const seq = s.sequence!;
    const policy: SequencePolicy = {
      batchSize: s.batchSize,
      maxBatchDelayMs: s.maxBatchDelayMs,
      maxOpen: maxOpenSequences(s),
      maxQueue: seq.maxQueue,
      maxIdleMs: seq.maxIdleMs,
      timeoutMs: seq.timeoutMs,
    };
    this.policyCache = { settings: s, policy };
    return policy;
  }

  get queueSize(): number {
    return this.queues.predict.size + this.queues.explain.size + (this.sequences?.size ?? 0);
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

  onFailure(listener: FailureListener): void {
    this.failureListeners.push(listener);
  }

  /** Why a job would be refused now (503), or undefined when it may queue. */
  private refusal(): ModelServerError | undefined {
    const params = { model: this.name, version: this.version };
    if (this.closing) return new ModelServerError('SERVER_DRAINING');
    if (this.draining || this.pool.target === 0 || this.pool.failed) return new ModelServerError('NO_WORKER', params);
    // Queueing behind workers that cannot load would only make clients wait for their deadline.
    if (this.pool.failing) {
      const retryAfter = Math.max(MIN_RETRY_AFTER_S, Math.ceil(this.pool.retryInMs / 1000));
      return new ModelServerError('MODEL_LOAD_FAILING', { ...params, reason: this.pool.lastError?.message ?? 'its workers fail to load', retryAfter });
    }
    if (this.queueSize >= this.settings.jobQueueSize) return new ModelServerError('QUEUE_FULL', { ...params, capacity: this.settings.jobQueueSize });
    return undefined;
  }

  /**
   * Queues a job or refuses it at once (503, or a sequence's refusal) without touching any worker. A
   * stateful model reads `sequence` (by default from the request's TorchServe headers).
   */
  submit(job: InferenceJob, sequence?: SequenceRequest): void {
    const refused = this.refusal();
    if (refused) {
      for (const l of this.failureListeners) l(job, refused);
      throw refused;
    }
    job.enqueuedAt = performance.now();
    if (this.sequences) {
      try {
        this.sequences.submit(job, sequence ?? sequenceFromHeaders(job.headers));
      } catch (err) {
        // A sequence's refusal (its bound, its queue, an ended or unknown id) is a refusal too.
        if (err instanceof ModelServerError) for (const l of this.failureListeners) l(job, err);
        throw err;
      }
    } else this.queues[job.kind].push(job);
    this.outstanding++;
    this.statistics.trackJob(job);
    job.whenEnded(this.onJobEnd);
    for (const l of this.jobListeners) l(job);
    if (!this.sequences) this.batcher.schedule();
  }

  /** Requests sent to workers and not answered yet. */
  get inFlightCount(): number {
    let n = 0;
    for (const w of this.pool.workers) n += w.inFlightCount;
    return n;
  }

  /**
   * A graceful end (shutdown): takes no new jobs, serves the queued and running ones, then stops the
   * workers. Past `graceMs` what is left fails and the workers are terminated.
   */
  async finish(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.outstanding > 0) {
      await waitAtMost(graceMs, (done) => (this.whenIdle = done));
      this.whenIdle = undefined;
    }
    // Work left past the grace period is cut short; idle workers get their usual stop.
    await this.drain(this.inFlightCount > 0 ? 0 : undefined);
  }

  /** Whether it takes new jobs (not being unregistered or shut down). */
  get accepting(): boolean {
    return !this.draining && !this.closing;
  }

  private runBatch(worker: WorkerProcess, jobs: InferenceJob[], kind: JobKind): void {
    this.statistics.trackBatch(jobs);
    this.logger.debug({ worker: worker.id, batchSize: jobs.length }, 'batch formed');
    for (const l of this.batchListeners) l(this, jobs.length);
    worker.run(jobs, kind);
  }

  /**
   * Stops taking work, answers every queued job, and stops the workers once running batches end
   * (a batch still running after `graceMs` has its worker terminated).
   */
  async drain(graceMs?: number): Promise<void> {
    this.draining = true;
    this.batcher.stop();
    const noWorker = (): ModelServerError => new ModelServerError('NO_WORKER', { model: this.name, version: this.version });
    for (const queue of Object.values(this.queues)) {
      for (const job of queue.drain()) job.fail(noWorker());
    }
    this.sequences?.drain(noWorker);
    await this.pool.stopAll(graceMs);
  }
}
