import { EventEmitter } from 'node:events';
import type { ModelServerError } from '@model-server/protocol';
import type { Logger } from '../logger.js';
import { backoffDelayMs } from './backoff.js';
import { WorkerProcess, type WorkerSpec } from './worker-process.js';

export type PoolState = 'loading' | 'ready' | 'degraded' | 'failed' | 'stopped';

export interface PoolOptions {
  name: string;
  minWorkers: number;
  maxRetryTimeoutMs: number;
  spec: Omit<WorkerSpec, 'id' | 'logger'>;
  logger: Logger;
  /** First worker id number; ids are never reused, as TorchServe's ports are not. */
  nextWorkerNumber: () => number;
}

/**
 * Keeps `target` workers of one model version alive. A worker that dies is replaced after TorchServe's
 * backoff (1, 1, 2, 3, 5, 8 … s) as long as the first failure of the current run of failures is less
 * than maxRetryTimeout ago; past that the pool is `failed` and stops trying (never a restart loop).
 * Events: `idle` (worker ready for a batch), `metrics`, `state`, `batch_end` (worker, handlerMs, wallMs).
 */
export class WorkerPool extends EventEmitter {
  readonly workers = new Set<WorkerProcess>();
  target: number;
  restarts = 0;
  lastError: ModelServerError | undefined;
  private failures = 0;
  private firstFailureAt = 0;
  private stopped = false;
  private gaveUp = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: PoolOptions) {
    super();
    this.target = options.minWorkers;
  }

  /** Workers that have loaded the model and are alive (ready or busy). */
  get liveCount(): number {
    let n = 0;
    for (const w of this.workers) if (w.state === 'ready' || w.state === 'busy') n++;
    return n;
  }

  /** True once the pool stopped retrying (failures for longer than maxRetryTimeout) and has no live worker. */
  get failed(): boolean {
    return this.gaveUp && this.liveCount === 0;
  }

  /** A worker with nothing to do, if any. */
  idleWorker(): WorkerProcess | undefined {
    for (const w of this.workers) if (w.state === 'ready') return w;
    return undefined;
  }

  /** A busy worker that can take a batch to run right after its current one, if any. */
  workerWithWaitingSlot(): WorkerProcess | undefined {
    for (const w of this.workers) if (w.canTakeWaitingBatch) return w;
    return undefined;
  }

  /** Starts workers up to the target; resolves when each started or failed once. */
  async scaleTo(target: number): Promise<void> {
    this.target = target;
    const starting: Promise<void>[] = [];
    const alive = [...this.workers].filter((w) => w.state !== 'stopping' && w.state !== 'stopped' && w.state !== 'failed');
    for (let i = alive.length; i < target; i++) starting.push(this.spawn());
    // Scale down: idle workers first, then busy ones (they finish their batch before exiting).
    const surplus = alive.length - target;
    if (surplus > 0) {
      const order = alive.sort((a, b) => Number(b.state === 'ready') - Number(a.state === 'ready'));
      for (const w of order.slice(0, surplus)) starting.push(w.stop());
    }
    await Promise.allSettled(starting);
  }

  private async spawn(): Promise<void> {
    const { name, spec, logger } = this.options;
    const worker = new WorkerProcess({ ...spec, id: `W-${this.options.nextWorkerNumber()}-${name}`, logger });
    this.workers.add(worker);
    worker.on('idle', (w: WorkerProcess) => this.emit('idle', w));
    worker.on('metrics', (entries: unknown) => this.emit('metrics', entries));
    worker.on('batch_end', (handlerMs: number, wallMs: number) => this.emit('batch_end', worker, handlerMs, wallMs));
    worker.once('exit', (reason: string) => this.onWorkerExit(worker, reason));
    try {
      await worker.start();
      this.failures = 0;
      this.firstFailureAt = 0;
      this.gaveUp = false;
      logger.info({ worker: worker.id, pid: worker.pid, loadTimeMs: Math.round(worker.loadTimeMs) }, `worker ready for ${name}`);
      this.emit('state');
      this.emit('idle', worker);
    } catch (err) {
      this.lastError = err as ModelServerError;
      logger.error({ worker: worker.id, err: (err as Error).message }, `worker failed to start for ${name}`);
    }
  }

  private onWorkerExit(worker: WorkerProcess, reason: string): void {
    this.workers.delete(worker);
    this.emit('state');
    if (this.stopped || worker.state === 'stopped') return;
    this.restarts++;
    const now = performance.now();
    if (this.firstFailureAt === 0) this.firstFailureAt = now;
    const alive = [...this.workers].filter((w) => w.state !== 'stopping').length;
    if (alive >= this.target) return;
    if (this.retryWindowOver(reason)) return;
    const delay = backoffDelayMs(this.failures++);
    this.options.logger.warn({ model: this.options.name, delayMs: delay }, `restarting a worker after: ${reason}`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped || this.retryWindowOver(reason)) return;
      if ([...this.workers].filter((w) => w.state !== 'stopping').length < this.target) void this.spawn();
    }, delay);
    this.timers.add(timer);
  }

  /** Past maxRetryTimeout since the first failure of this run: stop retrying, for good. */
  private retryWindowOver(reason: string): boolean {
    const failingMs = performance.now() - this.firstFailureAt;
    if (failingMs <= this.options.maxRetryTimeoutMs) return false;
    if (!this.gaveUp) {
      this.gaveUp = true;
      this.options.logger.error({ model: this.options.name }, `giving up restarting workers: failing for ${Math.round(failingMs / 1000)} s (${reason})`);
      this.emit('state');
    }
    return true;
  }

  async stopAll(graceMs?: number): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.workers].map((w) => w.stop(graceMs)));
  }
}
