import { EventEmitter } from 'node:events';
import { execa, type ResultPromise } from 'execa';
import {
  ModelServerError,
  PROTOCOL_VERSION,
  fromWireError,
  type FromWorker,
  type LoadMessage,
  type MetricEntry,
  type ModelMetadata,
  type SequenceEndReason,
} from '@model-server/protocol';
import { WORKER_ENTRY } from '@model-server/worker';
import type { WorkerLaunch } from '../config/vm-args.js';
import type { Logger } from '../logging/logger.js';
import type { InferenceJob, JobRunner } from '../scheduling/job.js';
import { clearTimer, setTimer, type Timer } from '../scheduling/timers.js';
import { InFlightLedger } from './in-flight.js';
import { WorkerConnection } from './worker-connection.js';
import { describeExit } from './worker-exit.js';
import { isFinal, WorkerLifecycle, type WorkerState } from './worker-state.js';
import { workerSocketPath } from './socket-path.js';

export interface WorkerSpec {
  id: string;
  load: Omit<LoadMessage, 'type' | 'protocolVersion' | 'workerId'>;
  startupTimeoutMs: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
  /** A running job whose cancel is ignored this long is taken as a hung worker, which is then killed. */
  cancelGraceMs: number;
  launch: WorkerLaunch;
  logger: Logger;
}

/** How a worker's process ended: `deliberate` when the gateway stopped it (not a crash). */
export interface WorkerExit {
  reason: string;
  deliberate: boolean;
  /** The worker had loaded its model before it ended (a failure before that is a load failure). */
  wasReady: boolean;
}

/** Raised by `start` when a stop arrived while the worker was starting: a deliberate end, not a failure. */
export class StoppedWhileStarting extends Error {
  constructor(id: string) {
    super(`worker ${id} was stopped while starting`);
    this.name = 'StoppedWhileStarting';
  }
}

const FRAME_OVERHEAD_BYTES = 64 * 1024;
const STOP_TIMEOUT_MS = 5_000;
const SIGKILL_TIMEOUT_MS = 1_000;
const CONNECTION_LOST_GRACE_MS = 200;

/**
 * The gateway's handle on one worker process. Its state (worker-state.ts) changes only through legal
 * transitions, and its operations run one at a time: a stop that arrives while the worker starts
 * interrupts the start (the process is ended, `start` rejects with StoppedWhileStarting) and is
 * honoured, never lost. Batches go out through the connection; what comes back is routed to each job
 * by gateway-issued id through the ledger.
 *
 * Events: `idle` (it can take a batch), `exiting` (reason, deliberate: the process ended, before its
 * in-flight jobs fail, so that sequences can say their state is lost), `exit` (WorkerExit, after every
 * in-flight job was failed),
 * `metrics` (entries), `batch_end` (handler ms as measured in the worker, wall ms since sent).
 */
export class WorkerProcess extends EventEmitter implements JobRunner {
  pid: number | undefined;
  readonly startedAt = new Date();
  loadTimeMs = 0;
  rssBytes = 0;
  /** The model's inputs and outputs as the worker's handler reported them on `ready` (if it could). */
  modelMetadata: ModelMetadata | undefined;
  private readonly lifecycle: WorkerLifecycle;
  private readonly ledger = new InFlightLedger();
  private readonly connection: WorkerConnection;
  private readonly socketPath = workerSocketPath();
  /** Why the process ended, once it has. */
  private endedBecause: string | undefined;
  private child: ResultPromise | undefined;
  private operation: Promise<unknown> = Promise.resolve();
  private stopRequested = false;
  private abortStart: ((err: Error) => void) | undefined;
  private exitReason: string | undefined;
  private outOfMemory = false;
  private wasReady = false;
  private readonly exited: Promise<void>;
  private markExited!: () => void;
  private readonly cancelTimers = new Map<string, Timer>();
  /** Cancelled jobs of a batch still waiting behind the running one (their grace starts with it). */
  private readonly deferredCancels = new Set<string>();
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: WorkerSpec) {
    super();
    this.lifecycle = new WorkerLifecycle(spec.id);
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    const maxFrame = spec.maxResponseBytes + FRAME_OVERHEAD_BYTES;
    this.connection = new WorkerConnection(this.socketPath, maxFrame, spec.logger.child({ worker: spec.id }), {
      messages: (messages) => this.onMessages(messages),
      protocolError: (err) => {
        this.spec.logger.error({ worker: this.id, code: err.code }, `closing worker connection: ${err.message}`);
        this.kill(`${err.code}: ${err.message}`);
      },
      closed: () => {
        // The exit that usually follows within milliseconds knows the real cause (exit code, signal);
        // a process that keeps running without its connection is useless and is killed.
        if (this.state !== 'stopping' && !isFinal(this.state)) {
          this.closeTimer = setTimeout(() => this.kill('connection closed'), CONNECTION_LOST_GRACE_MS);
        }
      },
    });
  }

  get id(): string {
    return this.spec.id;
  }

  get state(): WorkerState {
    return this.lifecycle.state;
  }

  get inFlightCount(): number {
    return this.ledger.size;
  }

  /** One operation at a time: start and stop never overlap. */
  private exclusive<T>(op: () => Promise<T>): Promise<T> {
    const next = this.operation.then(op, op);
    this.operation = next.catch(() => undefined);
    return next;
  }

  /**
   * Spawns the process and loads the model; resolves once `ready`. Rejects with the load error, on
   * timeout, or with StoppedWhileStarting when `stop` interrupted it.
   */
  start(): Promise<void> {
    return this.exclusive(() => this.doStart());
  }

  private async doStart(): Promise<void> {
    if (this.stopRequested) {
      this.lifecycle.to('stopped');
      this.markExited();
      throw new StoppedWhileStarting(this.id);
    }
    this.lifecycle.to('starting');
    const { logger } = this.spec;
    const accepted = this.connection.accept();
    this.child = execa(
      process.execPath,
      [
        ...this.spec.launch.nodeArgs,
        WORKER_ENTRY,
        '--socket',
        this.socketPath,
        '--max-request-bytes',
        String(this.spec.maxRequestBytes),
        '--max-response-bytes',
        String(this.spec.maxResponseBytes),
      ],
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false, cleanup: true, env: { ...this.spec.launch.env, MODEL_SERVER_WORKER_ID: this.id } },
    );
    this.pid = this.child.pid;
    const prefix = `[${this.id}]`;
    this.child.stdout?.on('data', (d: Buffer) => logger.info({ worker: this.id }, `${prefix} ${d.toString().trimEnd()}`));
    this.child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      if (text.includes('JavaScript heap out of memory')) this.outOfMemory = true;
      logger.warn({ worker: this.id }, `${prefix} ${text.trimEnd()}`);
    });
    void this.child.then((result) => this.onExit(result.exitCode, result.signal));
    this.connection.send({ type: 'load', protocolVersion: PROTOCOL_VERSION, workerId: this.id, ...this.spec.load });

    let timer: Timer | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.abortStart = reject;
        this.once('loaded', resolve);
        this.once('load_failed', reject);
        accepted.catch(reject);
        void this.exited.then(() => reject(new ModelServerError('MODEL_LOAD_FAILED', { model: this.spec.load.modelName, reason: this.endedBecause ?? 'worker exited' })));
        timer = setTimer(
          () => reject(new ModelServerError('MODEL_LOAD_FAILED', { model: this.spec.load.modelName, reason: `no ready within ${this.spec.startupTimeoutMs} ms` })),
          this.spec.startupTimeoutMs,
        );
      });
    } catch (err) {
      if (this.stopRequested) {
        // The stop that interrupted the start is carried out here, as part of it.
        if (this.state === 'starting') this.lifecycle.to('stopping');
        this.connection.expectClose();
        this.terminate();
        await this.exited;
        throw new StoppedWhileStarting(this.id);
      }
      this.kill('start failed');
      await this.exited;
      throw err;
    } finally {
      clearTimer(timer);
      this.abortStart = undefined;
      this.removeAllListeners('loaded');
      this.removeAllListeners('load_failed');
    }
    this.lifecycle.to('ready');
    this.wasReady = true;
    this.emit('idle', this);
  }

  private onMessages(messages: FromWorker[]): void {
    // The worker's next batch leaves before this one's answers are written to their clients, so the
    // worker computes while the gateway writes instead of sleeping until it is done.
    const last = messages[messages.length - 1];
    if (last?.type === 'batch_end') this.release(last.batchId);
    for (const msg of messages) this.onMessage(msg);
  }

  private protocolViolation(what: string): void {
    this.spec.logger.error({ worker: this.id }, `protocol error from worker: ${what}`);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        if (this.state !== 'starting') return this.protocolViolation(`'ready' in state ${this.state}`);
        this.pid = msg.pid;
        this.loadTimeMs = msg.loadTimeMs;
        this.rssBytes = msg.rssBytes;
        this.modelMetadata = msg.metadata;
        this.emit('loaded');
        return;
      case 'load_failed':
        if (this.state !== 'starting') return this.protocolViolation(`'load_failed' in state ${this.state}`);
        this.emit('load_failed', fromWireError(msg.error));
        return;
      case 'chunk': {
        const job = this.ledger.get(msg.requestId);
        if (!job) return this.protocolViolation(`chunk for request ${msg.requestId}, which is not in flight`);
        job.chunk(msg);
        return;
      }
      case 'response': {
        const job = this.settle(msg.requestId);
        if (!job) return this.protocolViolation(`response for request ${msg.requestId}, which is not in flight`);
        job.complete(msg);
        return;
      }
      case 'error': {
        const error = fromWireError(msg.error);
        if (msg.requestId === undefined) {
          if (!this.ledger.batch(msg.batchId)) return this.protocolViolation(`error for batch ${msg.batchId}, which is not in flight`);
          this.failBatch(msg.batchId, error);
          return;
        }
        const job = this.settle(msg.requestId);
        if (!job) return this.protocolViolation(`error for request ${msg.requestId}, which is not in flight`);
        job.fail(error);
        return;
      }
      case 'metrics':
        this.emit('metrics', msg.entries satisfies MetricEntry[]);
        return;
      case 'batch_end': {
        const batch = this.ledger.batch(msg.batchId);
        if (!batch) return this.protocolViolation(`batch_end for batch ${msg.batchId}, which is not in flight`);
        this.release(msg.batchId);
        this.rssBytes = msg.rssBytes;
        this.emit('batch_end', msg.handlerMs, performance.now() - batch.sentAt);
        // A handler that answered nobody for some request still ends that request, exactly once. The
        // error is made lazily: building one (its stack) on every batch_end was 4 % of the gateway.
        this.failBatch(msg.batchId, () => new ModelServerError('INTERNAL', { message: 'handler produced no result for this request' }));
        this.ledger.forget(msg.batchId);
        return;
      }
      default:
        msg satisfies never;
    }
  }

  /**
   * Fails the jobs of one batch that are still unanswered (one error shared by them, made only if there
   * are any); another batch may be in flight on this worker at the same time.
   */
  private failBatch(batchId: number, error: ModelServerError | (() => ModelServerError)): void {
    const jobs = this.ledger.unanswered(batchId);
    if (jobs.length === 0) return;
    const made = typeof error === 'function' ? error() : error;
    for (const job of jobs) this.settle(job.id)?.fail(made);
  }

  /** The worker is free for more once it has ended a batch; idempotent per batch. */
  private release(batchId: number): void {
    if (!this.ledger.end(batchId) || this.state !== 'busy') return;
    if (this.ledger.outstanding === 0) this.lifecycle.to('ready');
    this.armDeferredCancels();
    this.emit('idle', this);
  }

  private settle(requestId: string): InferenceJob | undefined {
    const job = this.ledger.settle(requestId);
    const t = this.cancelTimers.get(requestId);
    if (t) {
      clearTimer(t);
      this.cancelTimers.delete(requestId);
    }
    return job;
  }

  /** Loaded and doing nothing: it can take a batch now. */
  get idle(): boolean {
    return this.state === 'ready';
  }

  /** Whether it can take a batch now: idle, or busy with room for one batch waiting behind the running one. */
  get canTakeBatch(): boolean {
    return this.state === 'ready' || this.canTakeWaitingBatch;
  }

  /**
   * A busy worker may be handed one more batch to run right after its current one: it then never
   * sleeps between batches, and the write that hands it over need not wake it.
   */
  get canTakeWaitingBatch(): boolean {
    return this.state === 'busy' && this.ledger.outstanding === 1;
  }

  /** Sends a batch; the jobs move to `running`. Only while `ready`, or busy with room for a waiting batch. */
  run(jobs: InferenceJob[], kind: 'predict' | 'explain'): void {
    if (!this.canTakeBatch) {
      throw new Error(`batch sent to worker ${this.id} in state ${this.state} with ${this.ledger.outstanding} outstanding: this is a bug`);
    }
    if (this.state === 'ready') this.lifecycle.to('busy');
    const batch = this.ledger.add(jobs);
    for (const job of jobs) job.start(this);
    this.connection.send({
      type: 'predict',
      batchId: batch.id,
      kind,
      requests: jobs.map((j) => ({ id: j.id, headers: j.headers, inputs: j.inputs })),
    });
  }

  cancelJob(job: InferenceJob, reason: string): void {
    if (!this.ledger.has(job.id)) return;
    this.connection.send({ type: 'cancel', requestId: job.id, reason });
    // A job waiting behind the running batch gets its grace period once its own batch starts.
    const running = this.ledger.running();
    if (running && !running.jobs.includes(job)) this.deferredCancels.add(job.id);
    else this.armCancelTimer(job.id);
  }

  /** Tells the handler a sequence ended; the worker runs it after the batches sent before it. */
  endSequence(sequenceId: string, reason: SequenceEndReason): void {
    if (this.state === 'ready' || this.state === 'busy') this.connection.send({ type: 'sequence_end', sequenceId, reason });
  }

  /** The batch that waited now runs: its cancelled jobs' grace periods start. */
  private armDeferredCancels(): void {
    for (const id of this.deferredCancels) if (this.ledger.has(id)) this.armCancelTimer(id);
    this.deferredCancels.clear();
  }

  /**
   * The job is already answered; the worker keeps it until its batch ends. A handler that ignores
   * the abort past the grace period has hung the worker, which is then replaced.
   */
  private armCancelTimer(id: string): void {
    this.cancelTimers.set(
      id,
      setTimer(() => {
        if (this.ledger.has(id)) this.kill(`request ${id} ignored its cancellation for ${this.spec.cancelGraceMs} ms`);
      }, this.spec.cancelGraceMs),
    );
  }

  /**
   * Stops the worker deliberately: a starting one is interrupted, a running one is asked to finish its
   * batch and exit, after `graceMs` SIGTERM, then SIGKILL. Resolves once the process is gone.
   */
  stop(graceMs = STOP_TIMEOUT_MS): Promise<void> {
    this.stopRequested = true;
    this.connection.expectClose();
    this.abortStart?.(new StoppedWhileStarting(this.id));
    return this.exclusive(async () => {
      if (isFinal(this.state)) return;
      if (this.state === 'created') {
        this.lifecycle.to('stopped');
        this.markExited();
        return;
      }
      this.lifecycle.to('stopping');
      this.connection.send({ type: 'stop' });
      const t1 = setTimer(() => this.child?.kill('SIGTERM'), graceMs);
      const t2 = setTimer(() => this.child?.kill('SIGKILL'), graceMs + SIGKILL_TIMEOUT_MS);
      await this.exited;
      clearTimer(t1);
      clearTimer(t2);
    });
  }

  /** Ends the process now (not a deliberate stop: a hung, broken or lost worker). In-flight jobs fail. */
  kill(reason: string): void {
    this.exitReason ??= reason;
    this.terminate();
  }

  private terminate(): void {
    this.connection.close();
    this.child?.kill('SIGKILL');
  }

  private onExit(code: number | undefined, signal: string | undefined): void {
    const deliberate = this.state === 'stopping';
    this.lifecycle.to(deliberate ? 'stopped' : 'failed');
    clearTimeout(this.closeTimer);
    for (const t of this.cancelTimers.values()) clearTimer(t);
    this.cancelTimers.clear();
    this.deferredCancels.clear();
    this.connection.close();
    const { reason, error } = describeExit({ code, signal, given: this.exitReason, outOfMemory: this.outOfMemory });
    this.endedBecause = reason;
    this.emit('exiting', reason, deliberate);
    for (const job of this.ledger.takeAll()) job.fail(error);
    if (!deliberate) this.spec.logger.warn({ worker: this.id, pid: this.pid }, `worker exited: ${reason}`);
    this.markExited();
    this.emit('exit', { reason, deliberate, wasReady: this.wasReady } satisfies WorkerExit);
  }
}
