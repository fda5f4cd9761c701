import { ModelServerError, SEQUENCE_END_HEADER, flagValue, type InferenceInput } from '@model-server/protocol';
import { clearTimer, setTimer, type Timer } from './timers.js';

/** One part of a response: a stream chunk or the final result. */
export interface ResponsePart {
  status: number;
  contentType?: string | undefined;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * Where a job's outcome goes: an HTTP response, an SSE stream, a WebSocket, a v2 JSON envelope.
 * The job guarantees the call order: any number of `chunk`, then exactly one of `complete` / `fail`,
 * or nothing at all once the client itself went away.
 */
export interface ResponseSink {
  /** Throws STREAM_OVERFLOW when the client cannot keep up; the job then fails and is cancelled. */
  chunk(part: ResponsePart): void;
  complete(part: ResponsePart): void;
  fail(error: ModelServerError): void;
}

export type JobState = 'queued' | 'running' | 'streaming' | 'done' | 'failed' | 'cancelled' | 'expired';

const TERMINAL: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled', 'expired']);

export type JobKind = 'predict' | 'explain';

let lastJobNumber = 0;

/**
 * Job ids are the gateway's own, never a client's: they key the worker's ledger, so two clients that
 * send the same id can never receive each other's answers. Unique within this gateway process.
 */
function nextJobId(): string {
  return `j${(++lastJobNumber).toString(36)}`;
}

export interface JobInit {
  kind: JobKind;
  model: string;
  version: string;
  /**
   * The request's public id: in logs and echoed in `x-request-id` (a client's own, when it sent a safe
   * one). Data only: never a key.
   */
  requestId: string;
  headers: Record<string, string>;
  inputs: InferenceInput[];
  sink: ResponseSink;
  priority?: number;
  /** Relative deadline; the job is answered 504 once it passes. */
  timeoutMs: number;
}

/** The sequence a job of a stateful model belongs to, as the sequence batcher resolved it. */
export interface JobSequence {
  readonly id: string;
  /** This request opened the sequence. */
  readonly start: boolean;
  /** The client flagged it as the sequence's last. */
  readonly end: boolean;
  /** Its answer ended the sequence (the handler's `context.endSequence`: the end header on the response). */
  endedByHandler: boolean;
}

/** Receives a running job's cancellation, so the worker can be told. */
export interface JobRunner {
  cancelJob(job: InferenceJob, reason: string): void;
}

/**
 * One request's life: queued → running → (streaming) → done | failed | cancelled | expired.
 * Every exit answers the sink exactly once (or not at all for a client that left), whatever fails.
 */
export class InferenceJob {
  /** Issued here; what the worker keys the request by. */
  readonly id = nextJobId();
  readonly kind: JobKind;
  readonly model: string;
  readonly version: string;
  readonly requestId: string;
  readonly headers: Record<string, string>;
  readonly inputs: InferenceInput[];
  readonly priority: number;
  readonly timeoutMs: number;
  readonly createdAt = performance.now();
  enqueuedAt = 0;
  startedAt = 0;
  state: JobState = 'queued';
  /** Whether the job ended while still in its queue (never sent to a worker). */
  endedQueued = false;
  /** The error it failed or expired with. */
  error: ModelServerError | undefined;
  /** Set while running, so a cancellation can reach the worker. */
  runner: JobRunner | undefined;
  /** Set for a request of a stateful model once its sequence batcher has accepted it. */
  sequence: JobSequence | undefined;
  private readonly sink: ResponseSink;
  private deadlineTimer: Timer | undefined;
  private readonly onEnd: ((job: InferenceJob) => void)[] = [];

  constructor(init: JobInit) {
    this.kind = init.kind;
    this.model = init.model;
    this.version = init.version;
    this.requestId = init.requestId;
    this.headers = init.headers;
    this.inputs = init.inputs;
    this.sink = init.sink;
    this.priority = init.priority ?? 0;
    this.timeoutMs = init.timeoutMs;
    if (Number.isFinite(init.timeoutMs) && init.timeoutMs > 0) {
      this.deadlineTimer = setTimer(() => this.expire(), init.timeoutMs);
    }
  }

  get terminal(): boolean {
    return TERMINAL.has(this.state);
  }

  /** Registers a callback for when the job reaches a terminal state (for queue and stats bookkeeping). */
  whenEnded(fn: (job: InferenceJob) => void): void {
    if (this.terminal) fn(this);
    else this.onEnd.push(fn);
  }

  start(runner: JobRunner): void {
    if (this.state !== 'queued') throw new Error(`job ${this.id} started in state ${this.state}: this is a bug`);
    this.state = 'running';
    this.runner = runner;
    this.startedAt = performance.now();
  }

  chunk(part: ResponsePart): void {
    if (this.terminal) return;
    this.state = 'streaming';
    try {
      this.sink.chunk(part);
    } catch (err) {
      this.abort(err as ModelServerError, 'stream consumer too slow');
    }
  }

  complete(part: ResponsePart): void {
    if (this.terminal) return;
    if (this.sequence !== undefined) this.sequence.endedByHandler = flagValue(part.headers[SEQUENCE_END_HEADER]);
    this.end('done');
    this.sink.complete(part);
  }

  fail(error: ModelServerError): void {
    if (this.terminal) return;
    this.error = error;
    this.end('failed');
    this.sink.fail(error);
  }

  /** Fails the job and stops its work in the worker (e.g. a stream whose client cannot keep up). */
  abort(error: ModelServerError, reason: string): void {
    if (this.terminal) return;
    const runner = this.state === 'queued' ? undefined : this.runner;
    this.error = error;
    this.end('failed');
    this.sink.fail(error);
    runner?.cancelJob(this, reason);
  }

  /** The client went away: nobody to answer; stop the work if it is running. */
  cancel(reason: string): void {
    if (this.terminal) return;
    const runner = this.state === 'queued' ? undefined : this.runner;
    this.end('cancelled');
    runner?.cancelJob(this, reason);
  }

  /** The deadline passed: answer 504 and stop the work if it is running. */
  expire(): void {
    if (this.terminal) return;
    const phase = this.state === 'queued' ? 'queued' : 'running';
    const runner = this.state === 'queued' ? undefined : this.runner;
    this.error = new ModelServerError('REQUEST_TIMEOUT', { requestId: this.requestId, timeoutMs: this.timeoutMs, phase });
    this.end('expired');
    this.sink.fail(this.error);
    runner?.cancelJob(this, 'deadline exceeded');
  }

  private end(state: JobState): void {
    this.endedQueued = this.state === 'queued';
    this.state = state;
    if (this.deadlineTimer) clearTimer(this.deadlineTimer);
    for (const fn of this.onEnd.splice(0)) fn(this);
  }
}
