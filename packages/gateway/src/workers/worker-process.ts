import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import {
  MessageReader,
  ModelServerError,
  PROTOCOL_VERSION,
  encodeMessage,
  fromWireError,
  parseFromWorker,
  type FromWorker,
  type LoadMessage,
  type ModelMetadata,
} from '@model-server/protocol';
import { WORKER_ENTRY } from '@model-server/worker';
import type { WorkerLaunch } from '../config/vm-args.js';
import type { Logger } from '../logger.js';
import type { InferenceJob, JobRunner } from '../scheduling/job.js';
import { workerSocketPath } from './socket-path.js';
import { clearTimer, setTimer, type Timer } from '../scheduling/timers.js';

export type WorkerState = 'starting' | 'ready' | 'busy' | 'stopping' | 'stopped' | 'failed';

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

const FRAME_OVERHEAD_BYTES = 64 * 1024;

const STOP_TIMEOUT_MS = 5_000;
const SIGKILL_TIMEOUT_MS = 1_000;
const CONNECTION_LOST_GRACE_MS = 200;

interface SentBatch {
  jobs: InferenceJob[];
  sentAt: number;
  /** The worker said batch_end (possibly before its answers were routed). */
  ended: boolean;
}

/**
 * The gateway's handle on one worker process: spawns it, owns its Unix socket, sends it batches and
 * routes what comes back to each job by request id. Events: `ready`, `idle` (a batch ended),
 * `exit` (with the reason; every in-flight job has been failed before it fires), `metrics`,
 * `batch_end` (handler ms as measured in the worker, wall ms since the batch was sent).
 */
export class WorkerProcess extends EventEmitter implements JobRunner {
  state: WorkerState = 'starting';
  pid: number | undefined;
  readonly startedAt = new Date();
  loadTimeMs = 0;
  rssBytes = 0;
  /** Whether this worker ever loaded its model (a failure before that is a load failure). */
  everReady = false;
  /** The model's inputs and outputs as the worker's handler reported them on `ready` (if it could). */
  modelMetadata: ModelMetadata | undefined;
  private child: ResultPromise | undefined;
  private server: Server | undefined;
  private socket: Socket | undefined;
  private readonly socketPath = workerSocketPath();
  private readonly inFlight = new Map<string, InferenceJob>();
  /** Batches sent whose answers are still being routed, in the order the worker runs them. */
  private readonly batches = new Map<number, SentBatch>();
  /** Batches sent that the worker has not ended yet: the running one and at most one waiting behind it. */
  private outstanding = 0;
  private batchId = 0;
  private exitReason: string | undefined;
  private readonly cancelTimers = new Map<string, NodeJS.Timeout>();
  /** Cancelled jobs of a batch still waiting behind the running one (their grace starts with it). */
  private readonly deferredCancels = new Set<string>();
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: WorkerSpec) {
    super();
  }

  get id(): string {
    return this.spec.id;
  }

  /** Spawns the process and loads the model; resolves on `ready`, rejects on failure or timeout. */
  async start(): Promise<void> {
    const { logger } = this.spec;
    const connected = new Promise<Socket>((resolve, reject) => {
      this.server = createServer((socket) => {
        this.server?.close();
        resolve(socket);
      });
      this.server.on('error', reject);
      this.server.listen(this.socketPath);
    });
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
    this.child.stderr?.on('data', (d: Buffer) => logger.warn({ worker: this.id }, `${prefix} ${d.toString().trimEnd()}`));
    void this.child.then((result) => this.onExit(result.exitCode, result.signal));

    const ready = new Promise<void>((resolve, reject) => {
      this.once('ready', resolve);
      this.once('load_failed', reject);
      this.once('exit', (reason: string) => reject(new ModelServerError('MODEL_LOAD_FAILED', { model: this.spec.load.modelName, reason })));
    });
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimer(
        () => reject(new ModelServerError('MODEL_LOAD_FAILED', { model: this.spec.load.modelName, reason: `no ready within ${this.spec.startupTimeoutMs} ms` })),
        this.spec.startupTimeoutMs,
      );
    });
    try {
      const socket = await Promise.race([connected, timeout, ready.then(() => never<Socket>())]);
      this.attach(socket);
      this.send({ type: 'load', protocolVersion: PROTOCOL_VERSION, workerId: this.id, ...this.spec.load });
      await Promise.race([ready, timeout]);
    } catch (err) {
      this.kill('start failed');
      throw err;
    } finally {
      clearTimer(timer);
      void rm(this.socketPath, { force: true });
    }
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    const reader = new MessageReader<FromWorker>(this.spec.maxResponseBytes + FRAME_OVERHEAD_BYTES, parseFromWorker);
    socket.on('data', (chunk: Buffer) => {
      let messages: FromWorker[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        const e = err as ModelServerError;
        this.spec.logger.error({ worker: this.id, code: e.code }, `closing worker connection: ${e.message}`);
        this.kill(`${e.code}: ${e.message}`);
        return;
      }
      // The worker's next batch leaves before this one's answers are written to their clients, so the
      // worker computes while the gateway writes instead of sleeping until it is done.
      const last = messages[messages.length - 1];
      if (last?.type === 'batch_end') this.release(last.batchId);
      for (const msg of messages) this.onMessage(msg);
    });
    socket.on('error', (err) => this.spec.logger.warn({ worker: this.id }, `worker socket error: ${err.message}`));
    // The exit that usually follows within milliseconds knows the real cause (exit code, signal);
    // a process that keeps running without its connection is useless and is killed.
    socket.on('close', () => {
      // A worker asked to stop closes its end first and then exits on its own; stop() escalates if not.
      if (this.state === 'stopping') return;
      this.closeTimer = setTimeout(() => this.kill('connection closed'), CONNECTION_LOST_GRACE_MS);
    });
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        this.state = 'ready';
        this.everReady = true;
        this.pid = msg.pid;
        this.loadTimeMs = msg.loadTimeMs;
        this.rssBytes = msg.rssBytes;
        this.modelMetadata = msg.metadata;
        this.emit('ready');
        return;
      case 'load_failed':
        this.emit('load_failed', fromWireError(msg.error));
        return;
      case 'chunk':
        this.inFlight.get(msg.requestId)?.chunk(msg);
        return;
      case 'response':
        this.settle(msg.requestId)?.complete(msg);
        return;
      case 'error':
        if (msg.requestId !== undefined) this.settle(msg.requestId)?.fail(fromWireError(msg.error));
        else this.failBatch(msg.batchId, fromWireError(msg.error));
        return;
      case 'metrics':
        this.emit('metrics', msg.entries);
        return;
      case 'batch_end': {
        const batch = this.batches.get(msg.batchId);
        if (!batch) return;
        this.release(msg.batchId);
        this.rssBytes = msg.rssBytes;
        this.emit('batch_end', msg.handlerMs, performance.now() - batch.sentAt);
        // A handler that answered nobody for some request still ends that request, exactly once. The
        // error is made lazily: building one (its stack) on every batch_end was 4 % of the gateway.
        this.failBatch(msg.batchId, () => new ModelServerError('INTERNAL', { message: 'handler produced no result for this request' }));
        this.batches.delete(msg.batchId);
        return;
      }
    }
  }

  /**
   * Fails the jobs of one batch that are still unanswered (one error shared by them, made only if there
   * are any); another batch may be in flight on this worker at the same time (the one sent on its
   * `batch_end`, or one waiting behind it).
   */
  private failBatch(batchId: number, error: ModelServerError | (() => ModelServerError)): void {
    let made: ModelServerError | undefined;
    for (const job of this.batches.get(batchId)?.jobs ?? []) {
      if (this.inFlight.get(job.id) !== job) continue;
      made ??= typeof error === 'function' ? error() : error;
      this.settle(job.id)?.fail(made);
    }
  }

  /** The worker is free for more once it has ended a batch; idempotent per batch. */
  private release(batchId: number): void {
    const batch = this.batches.get(batchId);
    if (!batch || batch.ended) return;
    batch.ended = true;
    this.outstanding--;
    if (this.state !== 'busy') return;
    if (this.outstanding === 0) this.state = 'ready';
    this.armDeferredCancels();
    this.emit('idle', this);
  }

  private settle(requestId: string): InferenceJob | undefined {
    const job = this.inFlight.get(requestId);
    this.inFlight.delete(requestId);
    const t = this.cancelTimers.get(requestId);
    if (t) {
      clearTimeout(t);
      this.cancelTimers.delete(requestId);
    }
    return job;
  }

  /**
   * A busy worker may be handed one more batch to run right after its current one: it then never
   * sleeps between batches, and the write that hands it over need not wake it.
   */
  get canTakeWaitingBatch(): boolean {
    return this.state === 'busy' && this.outstanding === 1;
  }

  /** Sends a batch; the jobs move to `running`. Only while `ready`, or busy with room for a waiting batch. */
  run(jobs: InferenceJob[], kind: 'predict' | 'explain'): void {
    if (this.state !== 'ready' && !this.canTakeWaitingBatch) {
      throw new Error(`batch sent to worker ${this.id} in state ${this.state} with ${this.outstanding} outstanding: this is a bug`);
    }
    this.state = 'busy';
    this.outstanding++;
    const batchId = ++this.batchId;
    this.batches.set(batchId, { jobs, sentAt: performance.now(), ended: false });
    for (const job of jobs) {
      job.start(this);
      this.inFlight.set(job.id, job);
    }
    this.send({
      type: 'predict',
      batchId,
      kind,
      requests: jobs.map((j) => ({ id: j.id, headers: j.headers, inputs: j.inputs })),
    });
  }

  cancelJob(job: InferenceJob, reason: string): void {
    if (!this.inFlight.has(job.id)) return;
    this.send({ type: 'cancel', requestId: job.id, reason });
    // A job waiting behind the running batch gets its grace period once its own batch starts.
    const running = this.runningBatch();
    if (running && !running.jobs.includes(job)) this.deferredCancels.add(job.id);
    else this.armCancelTimer(job.id);
  }

  /** The first batch sent that the worker has not ended (batches run in the order they were sent). */
  private runningBatch(): SentBatch | undefined {
    for (const b of this.batches.values()) if (!b.ended) return b;
    return undefined;
  }

  /** The batch that waited now runs: its cancelled jobs' grace periods start. */
  private armDeferredCancels(): void {
    for (const id of this.deferredCancels) if (this.inFlight.has(id)) this.armCancelTimer(id);
    this.deferredCancels.clear();
  }

  /**
   * The job is already answered; the worker keeps it until its batch ends. A handler that ignores
   * the abort past the grace period has hung the worker, which is then replaced.
   */
  private armCancelTimer(id: string): void {
    this.cancelTimers.set(
      id,
      setTimeout(() => {
        if (this.inFlight.has(id)) this.kill(`request ${id} ignored its cancellation for ${this.spec.cancelGraceMs} ms`);
      }, this.spec.cancelGraceMs),
    );
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private send(message: Record<string, unknown>): void {
    if (!this.socket || this.socket.destroyed) return;
    this.socket.write(encodeMessage(message));
  }

  /** Asks the worker to finish its batch and exit; after `graceMs` escalates to SIGTERM, then SIGKILL. */
  async stop(graceMs = STOP_TIMEOUT_MS): Promise<void> {
    if (this.state === 'stopped' || this.state === 'failed') return;
    this.state = 'stopping';
    this.send({ type: 'stop' });
    const exited = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    const t1 = setTimer(() => this.child?.kill('SIGTERM'), graceMs);
    const t2 = setTimer(() => this.child?.kill('SIGKILL'), graceMs + SIGKILL_TIMEOUT_MS);
    await exited;
    clearTimer(t1);
    clearTimer(t2);
  }

  /** Ends the process now; in-flight jobs fail with WORKER_DIED. */
  kill(reason: string): void {
    this.exitReason ??= reason;
    this.socket?.destroy();
    this.server?.close();
    this.child?.kill('SIGKILL');
  }

  private onExit(code: number | undefined, signal: string | undefined): void {
    const was = this.state;
    this.state = was === 'stopping' ? 'stopped' : 'failed';
    clearTimeout(this.closeTimer);
    for (const t of this.cancelTimers.values()) clearTimeout(t);
    this.batches.clear();
    this.deferredCancels.clear();
    this.outstanding = 0;
    this.socket?.destroy();
    this.server?.close();
    const reason = this.exitReason ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
    for (const id of [...this.inFlight.keys()]) {
      this.settle(id)?.fail(new ModelServerError('WORKER_DIED', { reason }, { status: code === 137 ? 507 : 500 }));
    }
    if (was !== 'stopping') this.spec.logger.warn({ worker: this.id, pid: this.pid }, `worker exited: ${reason}`);
    this.emit('exit', reason);
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
