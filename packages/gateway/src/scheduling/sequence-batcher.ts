import { randomUUID } from 'node:crypto';
import { ModelServerError, SEQUENCE_END_HEADER, SEQUENCE_ID_HEADER, SEQUENCE_START_HEADER, type SequenceEndReason } from '@model-server/protocol';
import type { BatchWorker } from './batcher.js';
import type { InferenceJob, JobKind } from './job.js';
import type { SequenceRequest } from './sequence-request.js';
import { END_TEXT, Sequence } from './sequence.js';
import { DispatchClock } from './dispatch-clock.js';
import { clearTimer, setTimer } from './timers.js';

/** What the sequence batcher needs of a worker. */
export interface SequenceWorker extends BatchWorker {
  /** It can take a batch now. */
  readonly idle: boolean;
  /** It is busy, with room for one batch to wait behind the running one. */
  readonly canTakeWaitingBatch: boolean;
  /** Tells the worker a sequence ended, so its handler may free the state (after the batches sent before). */
  endSequence(sequenceId: string, reason: SequenceEndReason): void;
}

/** Where the sequence batcher finds workers. */
export interface SequenceWorkerSource<W extends SequenceWorker> {
  /** Workers that serve now and may be given sequences (neither starting nor being retired). */
  liveWorkers(): readonly W[];
}

export interface SequencePolicy {
  batchSize: number;
  maxBatchDelayMs: number;
  /** Sequences open at once (maxNumSequence, at least batchSize x maxWorkers). */
  maxOpen: number;
  /** Requests of one sequence waiting behind its running one (maxSequenceJobQueueSize). */
  maxQueue: number;
  /** sequenceMaxIdleMSec: a sequence with nothing queued or running this long ends. */
  maxIdleMs: number;
  /** sequenceTimeoutMSec: a sequence ends this long after it opened; 0: never. */
  timeoutMs: number;
}

/** Ended ids remembered, so that a late request hears how its sequence ended rather than "not found". */
const REMEMBERED_ENDS = 4096;

/**
 * The scheduler of a stateful model (sequenceBatching). Every request belongs to a sequence; all the
 * requests of a sequence go to one worker (the one holding its state), in order, one at a time: the
 * next is sent once the previous has ended. Requests of different sequences batch together, up to
 * `batchSize` (at most one per sequence), waiting at most `maxBatchDelay` as the plain batcher does. A
 * new sequence goes to the worker holding the fewest, when its first request is dispatched.
 *
 * A sequence ends when its last request (client flag) has ended, when an answer carries the end flag
 * (the handler's `context.endSequence`), after `maxIdleMs` with nothing queued or running, after
 * `timeoutMs`, when a new start names its id, or when its WebSocket closes; its worker is then told
 * (`sequence_end`). If its worker dies or is retired, the state is lost: its requests fail saying so.
 * A request that is cancelled or expires takes the requests queued behind it in its sequence along
 * (their order would be broken), but the sequence stays open.
 */
export class SequenceBatcher<W extends SequenceWorker> {
  private readonly open = new Map<string, Sequence<W>>();
  /** Sequences with a request ready to go, by worker (undefined: not yet given one). */
  private readonly ready = new Map<W | undefined, Set<Sequence<W>>>();
  /** Open sequences each worker holds. */
  private readonly load = new Map<W, number>();
  /** Recently ended ids and how they ended. */
  private readonly ends = new Map<string, string>();
  private queued = 0;
  private readonly clock = new DispatchClock(() => this.dispatch());

  constructor(
    private readonly workers: SequenceWorkerSource<W>,
    /** Read on every use: settings may change (scaling replaces them). */
    private readonly policy: () => SequencePolicy,
    private readonly send: (worker: W, jobs: InferenceJob[], kind: JobKind) => void,
    /** Names the model in errors. */
    private readonly model: { name: string; version: string },
  ) {}

  /** Requests accepted and not yet sent to a worker. */
  get size(): number {
    return this.queued;
  }

  /** Sequences open now. */
  get openCount(): number {
    return this.open.size;
  }

  isOpen(id: string): boolean {
    return this.open.has(id);
  }

  /**
   * Accepts a job into its sequence (opening one if the request says so), or throws the refusal
   * without changing anything. Sets the sequence headers the worker reads, and `job.sequence`.
   */
  submit(job: InferenceJob, request: SequenceRequest): void {
    const p = this.policy();
    let id = request.id;
    let opens = request.start;
    if (id === undefined) {
      if (request.withoutId === 'refuse') {
        throw new ModelServerError('INVALID_INPUT', {
          reason: `model ${this.model.name} is stateful: every request needs the parameter "sequence_id" (and "sequence_start": true on the first of a sequence)`,
        });
      }
      id = `ts-seq-${randomUUID()}`;
      opens = true;
    }
    const existing = this.open.get(id);
    let seq: Sequence<W>;
    if (opens) {
      if (!existing && this.open.size >= p.maxOpen) {
        throw new ModelServerError('SEQUENCE_LIMIT', {
          model: this.model.name,
          version: this.model.version,
          limit: p.maxOpen,
          idleMs: p.maxIdleMs,
          retryAfter: this.retryAfterS(p),
        });
      }
      if (existing) this.finish(existing, 'restarted');
      seq = this.openSequence(id, p);
    } else {
      if (!existing) {
        const ended = this.ends.get(id);
        if (ended !== undefined) throw new ModelServerError('SEQUENCE_ENDED', { sequenceId: id, model: this.model.name, reason: ended });
        throw new ModelServerError('SEQUENCE_NOT_FOUND', { sequenceId: id, model: this.model.name, how: this.howToStart(request) });
      }
      if (existing.closing) {
        throw new ModelServerError('SEQUENCE_ENDED', { sequenceId: id, model: this.model.name, reason: END_TEXT.client(p) });
      }
      if (existing.queue.length >= p.maxQueue) {
        throw new ModelServerError('SEQUENCE_QUEUE_FULL', { sequenceId: id, capacity: p.maxQueue, retryAfter: 1 });
      }
      seq = existing;
    }
    job.sequence = { id, start: opens, end: request.end, endedByHandler: false };
    job.headers[SEQUENCE_ID_HEADER] = id;
    job.headers[SEQUENCE_START_HEADER] = opens ? 'true' : 'false';
    job.headers[SEQUENCE_END_HEADER] = request.end ? 'true' : 'false';
    if (request.end) seq.closing = true;
    seq.queue.push(job);
    this.queued++;
    job.whenEnded(seq.onJobEnded);
    this.settle(seq);
  }

  /** Ends an open sequence from outside (its WebSocket closed); its queued requests fail. */
  end(id: string, reason: SequenceEndReason): void {
    const seq = this.open.get(id);
    if (seq) this.finish(seq, reason);
  }

  /**
   * A worker is gone or going (it died, or is being stopped): the sequences it holds end, their
   * state lost. `died`: its running requests fail too (a stopped worker still answers them).
   */
  workerLost(worker: W, why: string, died: boolean): void {
    for (const seq of [...this.open.values()]) if (seq.worker === worker) this.lose(seq, why, died);
    this.ready.delete(worker);
    this.load.delete(worker);
  }

  /**
   * Dispatches once the current event-loop turn is over (coalesced), as the plain batcher does. A
   * worker that ended a batch is served this way too, not at once: the answers read with its
   * batch_end are routed first, so the sequences they free can join its next batch.
   */
  schedule(): void {
    this.clock.schedule();
  }

  /** Hands out every batch that can leave now. */
  dispatch(): void {
    if (this.clock.stopped) return;
    const p = this.policy();
    const live = this.workers.liveWorkers();
    if (live.length === 0) return;
    this.bindWaiting(live);
    for (const worker of live) {
      for (;;) {
        const set = this.ready.get(worker);
        if (!set || set.size === 0) break;
        if (worker.idle) {
          if (set.size < p.batchSize && p.maxBatchDelayMs > 0) {
            const due = oldestHead(set) + p.maxBatchDelayMs;
            if (performance.now() < due) {
              this.clock.armAt(due);
              break;
            }
          }
        } else if (!(p.batchSize > 1 && worker.canTakeWaitingBatch && set.size >= p.batchSize)) {
          break;
        }
        this.sendBatch(worker, set, p.batchSize);
      }
    }
  }

  /** No more dispatching; every queued request fails with `error`, every timer stops. */
  drain(error: () => ModelServerError): void {
    this.clock.stop();
    for (const seq of [...this.open.values()]) {
      this.close(seq);
      this.failQueued(seq, error());
    }
  }

  private openSequence(id: string, p: SequencePolicy): Sequence<W> {
    const seq = new Sequence<W>(id, this.jobEnded);
    this.open.set(id, seq);
    this.ends.delete(id);
    if (p.timeoutMs > 0) seq.lifeTimer = setTimer(() => this.finish(seq, 'timeout'), p.timeoutMs);
    return seq;
  }

  private howToStart(request: SequenceRequest): string {
    return request.withoutId === 'open'
      ? 'ts_request_sequence_start: true, or no ts_request_sequence_id to get a new one'
      : '"sequence_start": true';
  }

  /** Seconds until the idle sequence closest to expiry frees its slot (at least 1). */
  private retryAfterS(p: SequencePolicy): number {
    let soonest = Infinity;
    for (const seq of this.open.values()) if (seq.idle) soonest = Math.min(soonest, seq.idleSince + p.maxIdleMs);
    const waitMs = Number.isFinite(soonest) ? soonest - performance.now() : 0;
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  private readonly jobEnded = (seq: Sequence<W>, job: InferenceJob): void => this.onJobEnded(seq, job);

  private onJobEnded(seq: Sequence<W>, job: InferenceJob): void {
    const interrupted = job.state === 'cancelled' || job.state === 'expired';
    if (seq.running === job) {
      seq.running = undefined;
      if (interrupted) this.cancelQueued(seq, job, 0);
      else if (job.sequence!.endedByHandler) this.finish(seq, 'handler');
    } else {
      const at = seq.queue.indexOf(job);
      if (at >= 0) {
        seq.queue.splice(at, 1);
        this.queued--;
        this.unready(seq);
        if (interrupted) this.cancelQueued(seq, job, at);
      }
    }
    this.settle(seq);
  }

  /** Fails the requests queued from `from` on: an earlier one of their sequence was cancelled or expired. */
  private cancelQueued(seq: Sequence<W>, cause: InferenceJob, from: number): void {
    const behind = seq.queue.splice(from);
    if (behind.length === 0) return;
    this.queued -= behind.length;
    this.unready(seq);
    const what = cause.state === 'expired' ? 'passed its deadline' : 'was cancelled';
    for (const j of behind) {
      j.fail(new ModelServerError('REQUEST_CANCELLED', { requestId: j.requestId, reason: `an earlier request of sequence ${seq.id} ${what}` }));
    }
  }

  /** Brings a sequence's bookkeeping up to date after anything changed: ready, idle, or done. */
  private settle(seq: Sequence<W>): void {
    if (seq.ended || seq.running) return;
    if (seq.queue.length > 0) {
      this.markReady(seq);
      this.schedule();
      return;
    }
    if (seq.closing) {
      this.finish(seq, 'client');
      return;
    }
    seq.idleSince = performance.now();
    seq.idleTimer ??= setTimer(() => this.checkIdle(seq), this.policy().maxIdleMs);
  }

  /** The idle timer is armed once per idle spell and re-armed only if it fires early (cheap per request). */
  private checkIdle(seq: Sequence<W>): void {
    seq.idleTimer = undefined;
    if (seq.ended || !seq.idle) return;
    const left = seq.idleSince + this.policy().maxIdleMs - performance.now();
    if (left > 0) seq.idleTimer = setTimer(() => this.checkIdle(seq), left);
    else this.finish(seq, 'idle');
  }

  /** Ends a sequence: no more requests, its queued ones fail, its worker is told. A running one finishes. */
  private finish(seq: Sequence<W>, reason: SequenceEndReason): void {
    if (seq.ended) return;
    const text = END_TEXT[reason](this.policy());
    this.close(seq);
    this.remember(seq.id, text);
    this.failQueued(seq, new ModelServerError('SEQUENCE_ENDED', { sequenceId: seq.id, model: this.model.name, reason: text }));
    seq.worker?.endSequence(seq.id, reason);
  }

  /** Its worker is gone: its state with it. */
  private lose(seq: Sequence<W>, why: string, died: boolean): void {
    if (seq.ended) return;
    this.close(seq);
    this.remember(seq.id, `${why}, and the state it kept is lost`);
    const error = new ModelServerError('SEQUENCE_LOST', { sequenceId: seq.id, reason: why });
    this.failQueued(seq, error);
    if (died) seq.running?.fail(error);
  }

  /** Takes a sequence out of the open ones and stops its timers. */
  private close(seq: Sequence<W>): void {
    seq.ended = true;
    seq.closing = true;
    if (this.open.get(seq.id) === seq) this.open.delete(seq.id);
    clearTimer(seq.idleTimer);
    clearTimer(seq.lifeTimer);
    seq.idleTimer = seq.lifeTimer = undefined;
    this.unready(seq);
    if (seq.worker !== undefined) {
      const n = (this.load.get(seq.worker) ?? 1) - 1;
      if (n > 0) this.load.set(seq.worker, n);
      else this.load.delete(seq.worker);
    }
  }

  private failQueued(seq: Sequence<W>, error: ModelServerError): void {
    const queued = seq.queue.splice(0);
    this.queued -= queued.length;
    for (const j of queued) j.fail(error);
  }

  private remember(id: string, text: string): void {
    this.ends.delete(id);
    this.ends.set(id, text);
    if (this.ends.size > REMEMBERED_ENDS) this.ends.delete(this.ends.keys().next().value!);
  }

  private markReady(seq: Sequence<W>): void {
    let set = this.ready.get(seq.worker);
    if (!set) this.ready.set(seq.worker, (set = new Set()));
    set.add(seq);
  }

  private unready(seq: Sequence<W>): void {
    this.ready.get(seq.worker)?.delete(seq);
  }

  /** Gives each waiting new sequence the worker holding the fewest (ties: the first listed). */
  private bindWaiting(live: readonly W[]): void {
    const waiting = this.ready.get(undefined);
    if (!waiting || waiting.size === 0) return;
    for (const seq of waiting) {
      let best = live[0]!;
      let bestLoad = this.load.get(best) ?? 0;
      for (const w of live) {
        const n = this.load.get(w) ?? 0;
        if (n < bestLoad) {
          best = w;
          bestLoad = n;
        }
      }
      seq.worker = best;
      this.load.set(best, bestLoad + 1);
      this.markReady(seq);
    }
    waiting.clear();
  }

  /**
   * Sends the heads of up to `max` ready sequences, oldest first, of the kind of the oldest (predict
   * and explain never share a batch).
   */
  private sendBatch(worker: W, set: Set<Sequence<W>>, max: number): void {
    const heads = [...set].sort((a, b) => a.queue[0]!.enqueuedAt - b.queue[0]!.enqueuedAt);
    const kind = heads[0]!.queue[0]!.kind;
    const jobs: InferenceJob[] = [];
    for (const seq of heads) {
      if (jobs.length >= max) break;
      if (seq.queue[0]!.kind !== kind) continue;
      const job = seq.queue.shift()!;
      this.queued--;
      seq.running = job;
      set.delete(seq);
      jobs.push(job);
    }
    this.send(worker, jobs, kind);
  }

}

function oldestHead(set: ReadonlySet<{ queue: InferenceJob[] }>): number {
  let oldest = Infinity;
  for (const seq of set) oldest = Math.min(oldest, seq.queue[0]!.enqueuedAt);
  return oldest;
}
