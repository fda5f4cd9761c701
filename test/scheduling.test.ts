import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelServerError } from '@model-server/protocol';
import { Batcher, type BatchPolicy } from '@model-server/gateway/internal/scheduling/batcher';
import { JobQueue } from '@model-server/gateway/internal/scheduling/job-queue';
import { InferenceJob, type ResponsePart, type ResponseSink } from '@model-server/gateway/internal/scheduling/job';
import { MAX_TIMER_MS, clearTimer, setTimer } from '@model-server/gateway/internal/scheduling/timers';
import { backoffDelayMs } from '@model-server/gateway/internal/workers/backoff';
import { StreamBudget } from '@model-server/gateway/internal/http/stream-budget';
import { WorkerLifecycle, isActive, isLive } from '@model-server/gateway/internal/workers/worker-state';

/** Unit tests of the scheduler's logic with fake timers: no process, no socket, no wall clock. */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => vi.useRealTimers());

class RecordingSink implements ResponseSink {
  events: string[] = [];
  chunk(): void {
    this.events.push('chunk');
  }
  complete(): void {
    this.events.push('complete');
  }
  fail(error: ModelServerError): void {
    this.events.push(`fail:${error.code}`);
  }
}

function job(options: { priority?: number; timeoutMs?: number; kind?: 'predict' | 'explain' } = {}): { job: InferenceJob; sink: RecordingSink } {
  const sink = new RecordingSink();
  const j = new InferenceJob({
    kind: options.kind ?? 'predict',
    model: 'm',
    version: '1',
    requestId: 'r',
    headers: {},
    inputs: [],
    sink,
    priority: options.priority ?? 0,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  return { job: j, sink };
}

const part: ResponsePart = { status: 200, headers: {}, body: new Uint8Array(0) };

describe('InferenceJob', () => {
  it('issues its own ids, unique, whatever the request id', () => {
    const a = job().job;
    const b = job().job;
    expect(a.id).not.toBe(b.id);
    expect(a.requestId).toBe(b.requestId);
  });

  it('answers exactly once, whatever comes after', () => {
    const { job: j, sink } = job();
    j.complete(part);
    j.fail(new ModelServerError('INTERNAL', { message: 'late' }));
    j.expire();
    j.cancel('late');
    expect(sink.events).toEqual(['complete']);
    expect(j.state).toBe('done');
  });

  it('expires at its deadline, reporting the phase it was in', () => {
    const { job: j, sink } = job({ timeoutMs: 1000 });
    vi.advanceTimersByTime(999);
    expect(j.state).toBe('queued');
    vi.advanceTimersByTime(1);
    expect(sink.events).toEqual(['fail:REQUEST_TIMEOUT']);
    expect(j.error?.message).toMatch(/while queued$/);
    expect(j.endedQueued).toBe(true);
  });

  it('keeps a deadline beyond 2^31 ms (node would fire it at once)', () => {
    const days30 = 30 * 24 * 3600 * 1000;
    const { job: j } = job({ timeoutMs: days30 });
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    expect(j.state).toBe('queued');
    vi.advanceTimersByTime(days30 - MAX_TIMER_MS - 2);
    expect(j.state).toBe('queued');
    vi.advanceTimersByTime(1);
    expect(j.state).toBe('expired');
  });

  it('tells its runner when cancelled while running, not while queued', () => {
    const cancels: string[] = [];
    const runner = { cancelJob: (_j: InferenceJob, reason: string) => cancels.push(reason) };
    const queued = job().job;
    queued.cancel('client left');
    expect(cancels).toEqual([]);
    const running = job().job;
    running.start(runner);
    running.cancel('client left');
    expect(cancels).toEqual(['client left']);
    // Starting a job twice is a bug in the gateway, loudly.
    const twice = job().job;
    twice.start(runner);
    expect(() => twice.start(runner)).toThrow(/this is a bug/);
  });
});

describe('JobQueue', () => {
  it('serves higher priority first and FIFO within a level', () => {
    const q = new JobQueue(10);
    const jobs = [job({ priority: 0 }), job({ priority: 5 }), job({ priority: 0 }), job({ priority: 5 })].map((x) => x.job);
    for (const j of jobs) q.push(j);
    expect(q.take(4)).toEqual([jobs[1], jobs[3], jobs[0], jobs[2]]);
  });

  it('frees the slot of a job that ends while queued at once, and skips it later', () => {
    const q = new JobQueue(2);
    const a = job().job;
    const b = job().job;
    q.push(a);
    q.push(b);
    expect(q.full).toBe(true);
    a.cancel('gone');
    expect(q.size).toBe(1);
    expect(q.full).toBe(false);
    expect(q.take(2)).toEqual([b]);
  });
});

describe('Batcher', () => {
  function setup(policy: BatchPolicy) {
    const queues = { predict: new JobQueue(100), explain: new JobQueue(100) };
    const sent: { worker: string; size: number; kind: string }[] = [];
    const idle: string[] = [];
    const waitingSlot: string[] = [];
    const worker = (name: string) => ({ name, run: () => undefined });
    const source = {
      idleWorker: () => (idle.length > 0 ? worker(idle.shift()!) : undefined),
      workerWithWaitingSlot: () => (waitingSlot.length > 0 ? worker(waitingSlot.shift()!) : undefined),
    };
    const batcher = new Batcher(queues, source, () => policy, (w, jobs, kind) => {
      sent.push({ worker: w.name, size: jobs.length, kind });
      for (const j of jobs) j.start({ cancelJob: () => undefined });
    });
    const add = (n: number, kind: 'predict' | 'explain' = 'predict'): void => {
      for (let i = 0; i < n; i++) {
        const j = job({ kind }).job;
        j.enqueuedAt = performance.now();
        queues[kind].push(j);
      }
      batcher.schedule();
    };
    return { batcher, sent, idle, waitingSlot, add };
  }

  it('holds a partial batch for maxBatchDelay from its oldest job, then sends it', () => {
    const t = setup({ batchSize: 4, maxBatchDelayMs: 50, preferredBatchSizes: [] });
    t.idle.push('w1', 'w1', 'w1');
    t.add(2);
    vi.advanceTimersByTime(0);
    expect(t.sent).toEqual([]);
    vi.advanceTimersByTime(49);
    expect(t.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.sent).toEqual([{ worker: 'w1', size: 2, kind: 'predict' }]);
  });

  it('sends a full batch at once, and requests parsed in one turn together', () => {
    const t = setup({ batchSize: 4, maxBatchDelayMs: 10_000, preferredBatchSizes: [] });
    t.idle.push('w1', 'w2');
    t.add(3);
    t.add(3);
    vi.advanceTimersByTime(0);
    expect(t.sent).toEqual([{ worker: 'w1', size: 4, kind: 'predict' }]);
  });

  it('leaves at a preferred size without waiting', () => {
    const t = setup({ batchSize: 8, maxBatchDelayMs: 10_000, preferredBatchSizes: [4, 2] });
    t.idle.push('w1');
    t.add(5);
    vi.advanceTimersByTime(0);
    expect(t.sent).toEqual([{ worker: 'w1', size: 4, kind: 'predict' }]);
  });

  it('never mixes kinds, and serves the kind waiting longest first', () => {
    const t = setup({ batchSize: 4, maxBatchDelayMs: 0, preferredBatchSizes: [] });
    t.idle.push('w1', 'w2');
    t.add(1, 'explain');
    vi.advanceTimersByTime(1);
    t.add(2, 'predict');
    vi.advanceTimersByTime(0);
    expect(t.sent.map((s) => s.kind)).toEqual(['explain', 'predict']);
  });

  it('hands a full batch to a busy worker with a waiting slot, but not a partial one', () => {
    const t = setup({ batchSize: 2, maxBatchDelayMs: 10_000, preferredBatchSizes: [] });
    t.waitingSlot.push('busy', 'busy');
    t.add(1);
    vi.advanceTimersByTime(0);
    expect(t.sent).toEqual([]);
    t.add(1);
    vi.advanceTimersByTime(0);
    expect(t.sent).toEqual([{ worker: 'busy', size: 2, kind: 'predict' }]);
  });

  it('dispatches nothing once stopped', () => {
    const t = setup({ batchSize: 1, maxBatchDelayMs: 0, preferredBatchSizes: [] });
    t.idle.push('w1');
    t.batcher.stop();
    t.add(1);
    vi.advanceTimersByTime(10);
    expect(t.sent).toEqual([]);
  });
});

describe('timers, backoff, stream budget, worker states', () => {
  it('setTimer waits in steps past 2^31 ms and can be cleared', () => {
    let fired = 0;
    setTimer(() => fired++, MAX_TIMER_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_MS * 2 - 1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    const u = setTimer(() => fired++, MAX_TIMER_MS * 3);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    clearTimer(u);
    vi.advanceTimersByTime(MAX_TIMER_MS * 3);
    expect(fired).toBe(1);
  });

  it("restarts after TorchServe's Fibonacci delays, capped", () => {
    expect([0, 1, 2, 3, 4, 5].map(backoffDelayMs)).toEqual([1000, 1000, 2000, 3000, 5000, 8000]);
    expect(backoffDelayMs(1000)).toBe(backoffDelayMs(16));
  });

  it('overflows a stream only past the limit of chunks written while backed up', () => {
    const budget = new StreamBudget(2, 'r');
    budget.wrote(true);
    budget.wrote(true);
    budget.drained();
    budget.wrote(true);
    budget.wrote(true);
    expect(() => budget.wrote(true)).toThrow(/more than 2 chunks/);
  });

  it('allows only the legal worker transitions; an illegal one is a bug', () => {
    const w = new WorkerLifecycle('W-1');
    w.to('starting');
    w.to('ready');
    w.to('busy');
    w.to('stopping');
    w.to('stopped');
    expect(() => w.to('ready')).toThrow(/illegal transition stopped -> ready: this is a bug/);
    expect(() => new WorkerLifecycle('W-2').to('busy')).toThrow(/this is a bug/);
    expect(['starting', 'ready', 'busy', 'stopping'].filter((s) => isActive(s as never))).toEqual(['starting', 'ready', 'busy']);
    expect(['starting', 'ready', 'busy', 'stopping'].filter((s) => isLive(s as never))).toEqual(['ready', 'busy']);
  });
});
