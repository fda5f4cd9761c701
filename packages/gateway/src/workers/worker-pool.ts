import { EventEmitter } from 'node:events';
import type { ModelServerError } from '@model-server/protocol';
import type { Logger } from '../logging/logger.js';
import { backoffDelayMs } from './backoff.js';
import { StoppedWhileStarting, WorkerProcess, type WorkerExit, type WorkerSpec } from './worker-process.js';
import { isActive, isLive } from './worker-state.js';

/**
 * The pool as a whole: `loading` (no worker live yet, none failed), `ready` (the target is live),
 * `degraded` (some but not all live), `failing` (none live and the last start failed; retrying),
 * `failed` (gave up after maxRetryTimeout), `stopped` (drained). `idle` is a pool scaled to 0.
 */
export type PoolState = 'loading' | 'ready' | 'degraded' | 'failing' | 'failed' | 'idle' | 'stopped';
export const POOL_STATES: readonly PoolState[] = ['loading', 'ready', 'degraded', 'failing', 'failed', 'idle', 'stopped'];

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
 * Scaling down retires starting workers first (they serve nothing yet), then idle ones, then busy ones
 * (which finish their batch). A retired worker never takes another batch.
 * Events: `idle` (worker ready for a batch), `metrics`, `state`, `batch_end` (worker, handlerMs, wallMs),
 * `worker_lost` (worker, why, died: a worker that served is being retired, or died; sequences held
 * there are lost; `died` when its running requests fail too).
 */
export class WorkerPool extends EventEmitter {
  readonly workers = new Set<WorkerProcess>();
  target: number;
  restarts = 0;
  lastError: ModelServerError | undefined;
  /** Starts that failed since a worker last became ready. */
  private startFailures = 0;
  private failures = 0;
  private firstFailureAt = 0;
  private stopped = false;
  private gaveUp = false;
  private nextRetryAt = 0;
  private readonly retiring = new Set<WorkerProcess>();
  /** Workers whose start has not settled yet (its outcome recorded). */
  private readonly starting = new Set<WorkerProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly options: PoolOptions) {
    super();
    this.target = options.minWorkers;
  }

  /** Workers that have loaded the model and are serving (ready or busy). */
  get liveCount(): number {
    let n = 0;
    for (const w of this.workers) if (isLive(w.state) && !this.retiring.has(w)) n++;
    return n;
  }

  /** Workers that count towards the target: starting or live, and not being retired. */
  get activeCount(): number {
    let n = 0;
    for (const w of this.workers) if (isActive(w.state) && !this.retiring.has(w)) n++;
    return n;
  }

  /** True once the pool stopped retrying (failures for longer than maxRetryTimeout) and has no live worker. */
  get failed(): boolean {
    return this.gaveUp && this.liveCount === 0;
  }

  /** No worker serves and the last attempt to load the model failed: requests cannot be served soon. */
  get failing(): boolean {
    return this.liveCount === 0 && this.startFailures > 0;
  }

  /** Milliseconds until the next restart attempt (0 when none is scheduled). */
  get retryInMs(): number {
    return Math.max(0, this.nextRetryAt - performance.now());
  }

  get state(): PoolState {
    if (this.stopped) return 'stopped';
    if (this.target === 0) return 'idle';
    const live = this.liveCount;
    if (live >= this.target) return 'ready';
    if (live > 0) return 'degraded';
    if (this.gaveUp) return 'failed';
    return this.startFailures > 0 ? 'failing' : 'loading';
  }

  /** A worker with nothing to do, if any. */
  idleWorker(): WorkerProcess | undefined {
    for (const w of this.workers) if (w.state === 'ready' && !this.retiring.has(w)) return w;
    return undefined;
  }

  /** Workers that serve now and take work (neither starting nor being retired). */
  liveWorkers(): WorkerProcess[] {
    const out: WorkerProcess[] = [];
    for (const w of this.workers) if (isLive(w.state) && !this.retiring.has(w)) out.push(w);
    return out;
  }

  /** A busy worker that can take a batch to run right after its current one, if any. */
  workerWithWaitingSlot(): WorkerProcess | undefined {
    for (const w of this.workers) if (w.canTakeWaitingBatch && !this.retiring.has(w)) return w;
    return undefined;
  }

  /**
   * Sets the target and starts or retires workers to meet it. Resolves once no worker is starting or
   * being retired any more, whichever call started them (a synchronous scale issued while another is in
   * progress waits for it too): then the pool has `target` live workers, or a start failed (lastError).
   */
  scaleTo(target: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.target = target;
    this.reconcile();
    return this.settled();
  }

  private reconcile(): void {
    if (this.stopped) return;
    const active = [...this.workers].filter((w) => isActive(w.state) && !this.retiring.has(w));
    for (let i = active.length; i < this.target; i++) this.spawn();
    const surplus = active.length - this.target;
    if (surplus <= 0) return;
    const rank = (w: WorkerProcess): number => (w.state === 'starting' ? 0 : w.state === 'ready' ? 1 : 2);
    for (const w of active.sort((a, b) => rank(a) - rank(b)).slice(0, surplus)) void this.retire(w, 'its worker was stopped (the model was scaled down)');
  }

  private retire(worker: WorkerProcess, why: string, graceMs?: number): Promise<void> {
    if (!this.retiring.has(worker) && isLive(worker.state)) this.emit('worker_lost', worker, why, false);
    this.retiring.add(worker);
    return worker.stop(graceMs);
  }

  private isSettled(): boolean {
    return this.retiring.size === 0 && this.starting.size === 0;
  }

  private settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private changed(): void {
    this.emit('state');
    if (!this.isSettled()) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private spawn(): void {
    const { name, spec, logger } = this.options;
    const worker = new WorkerProcess({ ...spec, id: `W-${this.options.nextWorkerNumber()}-${name}`, logger });
    this.workers.add(worker);
    worker.on('idle', (w: WorkerProcess) => {
      if (!this.retiring.has(w)) this.emit('idle', w);
    });
    worker.on('metrics', (entries: unknown) => this.emit('metrics', entries));
    worker.on('batch_end', (handlerMs: number, wallMs: number) => this.emit('batch_end', worker, handlerMs, wallMs));
    worker.on('exiting', (reason: string, deliberate: boolean) => {
      if (!deliberate) this.emit('worker_lost', worker, `its worker died (${reason})`, true);
    });
    worker.once('exit', (exit: WorkerExit) => this.onWorkerExit(worker, exit));
    this.starting.add(worker);
    worker.start().then(
      () => {
        this.starting.delete(worker);
        this.failures = 0;
        this.firstFailureAt = 0;
        this.startFailures = 0;
        this.gaveUp = false;
        logger.info({ worker: worker.id, pid: worker.pid, loadTimeMs: Math.round(worker.loadTimeMs) }, `worker ready for ${name}`);
        this.changed();
      },
      (err: unknown) => {
        this.starting.delete(worker);
        if (err instanceof StoppedWhileStarting) {
          this.changed();
          return;
        }
        this.lastError = err as ModelServerError;
        this.startFailures++;
        logger.error({ worker: worker.id, err: (err as Error).message }, `worker failed to start for ${name}`);
        this.changed();
      },
    );
    this.changed();
  }

  private onWorkerExit(worker: WorkerProcess, exit: WorkerExit): void {
    this.workers.delete(worker);
    this.retiring.delete(worker);
    if (this.stopped || exit.deliberate) {
      this.changed();
      return;
    }
    this.restarts++;
    const now = performance.now();
    if (this.firstFailureAt === 0) this.firstFailureAt = now;
    if (this.activeCount < this.target && !this.retryWindowOver(exit.reason)) {
      const delay = backoffDelayMs(this.failures++);
      this.options.logger.warn({ model: this.options.name, delayMs: delay }, `restarting a worker after: ${exit.reason}`);
      this.nextRetryAt = now + delay;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.nextRetryAt = 0;
        if (this.stopped || this.retryWindowOver(exit.reason)) return;
        this.reconcile();
      }, delay);
      this.timers.add(timer);
    }
    this.changed();
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

  /** Stops every worker (starting ones at once); no restart follows. */
  async stopAll(graceMs?: number): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.workers].map((w) => this.retire(w, 'the model is stopping', graceMs)));
    this.changed();
  }
}
