import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelServerError, SEQUENCE_END_REASONS, parseToWorker, type SequenceEndReason } from '@model-server/protocol';
import { loadServerConfig, resolveModelSettings } from '@model-server/gateway';
import { InferenceJob, type ResponseSink } from '@model-server/gateway/internal/scheduling/job';
import { SequenceBatcher, type SequencePolicy, type SequenceWorker } from '@model-server/gateway/internal/scheduling/sequence-batcher';
import { sequenceFromHeaders, sequenceFromOipParameters, type SequenceRequest } from '@model-server/gateway/internal/scheduling/sequence-request';
import { maxOpenSequences } from '@model-server/gateway/internal/config/model-config';

/** Unit tests of the sequence batcher's logic with fake timers and fake workers: no process, no socket. */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});
afterEach(() => vi.useRealTimers());

class Sink implements ResponseSink {
  outcome: string | undefined;
  error: ModelServerError | undefined;
  chunk(): void {}
  complete(): void {
    this.outcome = 'complete';
  }
  fail(error: ModelServerError): void {
    this.outcome = `fail:${error.code}`;
    this.error = error;
  }
}

const NO_RUNNER = { cancelJob: () => undefined };

/** A worker that holds the batches it was sent until the test answers them, as a real one runs them. */
class FakeWorker implements SequenceWorker {
  /** The running batch first, then at most one waiting behind it. */
  readonly batches: InferenceJob[][] = [];
  readonly sent: InferenceJob[][] = [];
  readonly ends: [string, SequenceEndReason][] = [];
  constructor(
    readonly name: string,
    private readonly onFree: () => void,
  ) {}
  get idle(): boolean {
    return this.batches.length === 0;
  }
  get canTakeWaitingBatch(): boolean {
    return this.batches.length === 1;
  }
  run(jobs: InferenceJob[]): void {
    if (this.batches.length >= 2) throw new Error('batch sent to a worker with no room: a bug');
    this.batches.push(jobs);
    this.sent.push(jobs);
    for (const j of jobs) j.start(NO_RUNNER);
  }
  endSequence(id: string, reason: SequenceEndReason): void {
    this.ends.push([id, reason]);
  }
  /** Ends the running batch as the real worker does: free first (the pool's `idle`), then the answers. */
  answer(headers: Record<string, string> = {}): InferenceJob[] {
    const batch = this.batches.shift()!;
    this.onFree();
    for (const j of batch) j.complete({ status: 200, headers, body: new Uint8Array(0) });
    return batch;
  }
}

const POLICY: SequencePolicy = { batchSize: 4, maxBatchDelayMs: 0, maxOpen: 8, maxQueue: 4, maxIdleMs: 1000, timeoutMs: 0 };

function setup(overrides: Partial<SequencePolicy> = {}, workerNames = ['w1', 'w2']) {
  const policy = { ...POLICY, ...overrides };
  const live: FakeWorker[] = [];
  const batcher = new SequenceBatcher<FakeWorker>({ liveWorkers: () => live }, () => policy, (w, jobs) => w.run(jobs), { name: 'vad', version: '1' });
  const addWorker = (name: string): FakeWorker => {
    const w = new FakeWorker(name, () => batcher.schedule());
    live.push(w);
    return w;
  };
  const workers = workerNames.map(addWorker);
  const submit = (request: Partial<SequenceRequest>, timeoutMs = 60_000): { job: InferenceJob; sink: Sink } => {
    const sink = new Sink();
    const job = new InferenceJob({ kind: 'predict', model: 'vad', version: '1', requestId: 'r', headers: {}, inputs: [], sink, timeoutMs });
    job.enqueuedAt = performance.now();
    batcher.submit(job, { id: undefined, start: false, end: false, withoutId: 'open', ...request });
    return { job, sink };
  };
  const refusal = (request: Partial<SequenceRequest>): ModelServerError => {
    try {
      submit(request);
    } catch (err) {
      return err as ModelServerError;
    }
    throw new Error('expected a refusal');
  };
  const tick = (): void => void vi.advanceTimersByTime(0);
  return { batcher, workers, live, addWorker, submit, refusal, tick, policy };
}

describe('SequenceBatcher: routing and order', () => {
  it('gives each new sequence the worker holding the fewest, and keeps every request of a sequence there', () => {
    const t = setup();
    for (const id of ['a', 'b', 'c']) t.submit({ id, start: true });
    t.tick();
    const [w1, w2] = t.workers as [FakeWorker, FakeWorker];
    expect(w1.sent.map((b) => b.map((j) => j.sequence!.id))).toEqual([['a', 'c']]);
    expect(w2.sent.map((b) => b.map((j) => j.sequence!.id))).toEqual([['b']]);
    w1.answer();
    w2.answer();
    for (const id of ['c', 'b', 'a']) t.submit({ id });
    t.tick();
    expect(w1.sent[1]!.map((j) => j.sequence!.id).sort()).toEqual(['a', 'c']);
    expect(w2.sent[1]!.map((j) => j.sequence!.id)).toEqual(['b']);
  });

  it('sends a sequence one request at a time, in order, with the headers the handler reads', () => {
    const t = setup({}, ['w1']);
    const first = t.submit({ id: 'a', start: true });
    const second = t.submit({ id: 'a' });
    const last = t.submit({ id: 'a', end: true });
    t.tick();
    const w = t.workers[0]!;
    expect(w.sent).toEqual([[first.job]]);
    expect(first.job.headers).toEqual({ ts_request_sequence_id: 'a', ts_request_sequence_start: 'true', ts_request_sequence_end: 'false' });
    w.answer();
    t.tick();
    expect(w.sent).toEqual([[first.job], [second.job]]);
    expect(second.job.headers['ts_request_sequence_start']).toBe('false');
    w.answer();
    t.tick();
    expect(w.sent.at(-1)).toEqual([last.job]);
    expect(last.job.headers['ts_request_sequence_end']).toBe('true');
  });

  it('batches requests of different sequences together, at most one of each, up to batchSize', () => {
    const t = setup({ batchSize: 3 }, ['w1']);
    for (const id of ['a', 'b', 'c', 'd']) t.submit({ id, start: true });
    t.submit({ id: 'a' });
    t.tick();
    const w = t.workers[0]!;
    // batchSize 3: a, b, c run; the full batch of d alone cannot wait behind them (not full)
    expect(w.sent.map((b) => b.map((j) => j.sequence!.id))).toEqual([['a', 'b', 'c']]);
    w.answer();
    t.tick();
    expect(w.sent[1]!.map((j) => j.sequence!.id)).toEqual(['d', 'a']);
  });

  it('waits up to maxBatchDelay from the oldest request for a batch to fill', () => {
    const t = setup({ maxBatchDelayMs: 50 }, ['w1']);
    t.submit({ id: 'a', start: true });
    vi.advanceTimersByTime(20);
    t.submit({ id: 'b', start: true });
    vi.advanceTimersByTime(29);
    expect(t.workers[0]!.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.workers[0]!.sent.map((b) => b.length)).toEqual([2]);
  });

  it('hands a full batch to a busy worker to wait behind its running one, never a partial one', () => {
    const t = setup({ batchSize: 2 }, ['w1']);
    t.submit({ id: 'a', start: true });
    t.tick();
    t.submit({ id: 'b', start: true });
    t.tick();
    const w = t.workers[0]!;
    expect(w.sent.length).toBe(1);
    t.submit({ id: 'c', start: true });
    t.tick();
    expect(w.sent.map((b) => b.map((j) => j.sequence!.id))).toEqual([['a'], ['b', 'c']]);
  });

  it('holds new sequences until a worker serves, then binds them', () => {
    const t = setup({}, []);
    t.submit({ id: 'a', start: true });
    t.tick();
    const w = t.addWorker('late');
    t.batcher.dispatch();
    expect(w.sent.map((b) => b.map((j) => j.sequence!.id))).toEqual([['a']]);
  });

  it('opens a sequence under a fresh ts-seq- id for a request naming none, or refuses it for the OIP', () => {
    const t = setup();
    const { job } = t.submit({});
    expect(job.sequence).toMatchObject({ start: true, end: false });
    expect(job.sequence!.id).toMatch(/^ts-seq-[0-9a-f-]{36}$/);
    expect(t.batcher.isOpen(job.sequence!.id)).toBe(true);
    const refused = t.refusal({ withoutId: 'refuse' });
    expect(refused.code).toBe('INVALID_INPUT');
    expect(refused.message).toMatch(/model vad is stateful: every request needs the parameter "sequence_id"/);
  });
});

describe('SequenceBatcher: bounds and refusals', () => {
  it('refuses a sequence past maxOpen with 503 asking whether sequences were closed or expired, Retry-After the soonest expiry', () => {
    const t = setup({ maxOpen: 2, maxIdleMs: 5000 }, ['w1']);
    t.submit({ id: 'a', start: true });
    t.submit({ id: 'b', start: true });
    t.tick();
    t.workers[0]!.answer();
    vi.advanceTimersByTime(2000);
    const refused = t.refusal({ id: 'c', start: true });
    expect(refused.code).toBe('SEQUENCE_LIMIT');
    expect(refused.status).toBe(503);
    expect(refused.message).toBe(
      'Model "vad" Version 1 has 2 open sequences (maxNumSequence). Were your sequences closed (ts_request_sequence_end), or left to expire after 5000 ms idle? Retry later.',
    );
    expect(refused.params['retryAfter']).toBe(3);
    // a restart of an open id needs no new slot
    expect(() => t.submit({ id: 'a', start: true })).not.toThrow();
    expect(t.batcher.openCount).toBe(2);
  });

  it("bounds each sequence's queue (the running request aside) with 503", () => {
    const t = setup({ maxQueue: 1 }, ['w1']);
    t.submit({ id: 'a', start: true });
    t.tick();
    t.submit({ id: 'a' });
    const refused = t.refusal({ id: 'a' });
    expect(refused.code).toBe('SEQUENCE_QUEUE_FULL');
    expect(refused.message).toMatch(/^Sequence a already has 1 requests waiting \(maxSequenceJobQueueSize\)/);
    expect(t.batcher.size).toBe(1);
  });

  it('refuses an id never opened with 404, saying how to start one', () => {
    const t = setup();
    const refused = t.refusal({ id: 'ghost' });
    expect(refused.code).toBe('SEQUENCE_NOT_FOUND');
    expect(refused.status).toBe(404);
    expect(refused.message).toBe(
      'Sequence ghost is not open for model "vad": start a sequence with its first request (ts_request_sequence_start: true, or no ts_request_sequence_id to get a new one)',
    );
    expect(t.refusal({ id: 'ghost', withoutId: 'refuse' }).message).toMatch(/\("sequence_start": true\)$/);
  });
});

describe('SequenceBatcher: ends', () => {
  it('ends a sequence after its last request, tells the worker, and answers later requests 410', () => {
    const t = setup({}, ['w1']);
    t.submit({ id: 'a', start: true, end: true });
    expect(t.refusal({ id: 'a' }).message).toBe('Sequence a of model "vad" has ended: its last request (ts_request_sequence_end) was received. Start a new sequence');
    t.tick();
    const w = t.workers[0]!;
    expect(w.ends).toEqual([]);
    w.answer();
    expect(w.ends).toEqual([['a', 'client']]);
    expect(t.batcher.openCount).toBe(0);
    const late = t.refusal({ id: 'a' });
    expect(late.code).toBe('SEQUENCE_ENDED');
    expect(late.status).toBe(410);
  });

  it('ends a sequence whose answer carries the end flag (the handler ended it); what was queued fails', () => {
    const t = setup({}, ['w1']);
    t.submit({ id: 'a', start: true });
    t.tick();
    const queued = t.submit({ id: 'a' });
    t.workers[0]!.answer({ ts_request_sequence_end: 'true' });
    expect(t.workers[0]!.ends).toEqual([['a', 'handler']]);
    expect(queued.sink.outcome).toBe('fail:SEQUENCE_ENDED');
    expect(queued.sink.error!.message).toMatch(/has ended: the model ended it/);
  });

  it('expires a sequence idle for maxIdleMs, but never one with a request running or queued', () => {
    const t = setup({ maxIdleMs: 1000 }, ['w1']);
    const w = t.workers[0]!;
    t.submit({ id: 'a', start: true });
    t.tick();
    vi.advanceTimersByTime(5000); // running all along: not idle
    expect(t.batcher.isOpen('a')).toBe(true);
    w.answer();
    vi.advanceTimersByTime(600);
    t.submit({ id: 'a' });
    t.tick();
    w.answer();
    vi.advanceTimersByTime(999); // idle since the second answer, not the first
    expect(t.batcher.isOpen('a')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(t.batcher.isOpen('a')).toBe(false);
    expect(w.ends).toEqual([['a', 'idle']]);
    expect(t.refusal({ id: 'a' }).message).toBe('Sequence a of model "vad" has ended: it was idle for 1000 ms (sequenceMaxIdleMSec). Start a new sequence');
  });

  it('ends a sequence at sequenceTimeoutMSec even while busy: its queued requests fail, the running one finishes', () => {
    const t = setup({ timeoutMs: 3000, maxIdleMs: 60_000 }, ['w1']);
    const running = t.submit({ id: 'a', start: true });
    t.tick();
    const queued = t.submit({ id: 'a' });
    vi.advanceTimersByTime(3000);
    expect(queued.sink.error!.message).toMatch(/it reached sequenceTimeoutMSec \(3000 ms\)/);
    expect(running.job.state).toBe('running');
    t.workers[0]!.answer();
    expect(running.sink.outcome).toBe('complete');
    expect(t.workers[0]!.ends).toEqual([['a', 'timeout']]);
  });

  it('restarts a sequence on a new start for its id: the old one ends, its worker told', () => {
    const t = setup({}, ['w1']);
    t.submit({ id: 'a', start: true });
    t.tick();
    const queued = t.submit({ id: 'a' });
    const again = t.submit({ id: 'a', start: true });
    expect(queued.sink.error!.message).toMatch(/a new request started it again/);
    expect(t.workers[0]!.ends).toEqual([['a', 'restarted']]);
    expect(again.job.sequence!.start).toBe(true);
    t.workers[0]!.answer();
    t.tick();
    expect(t.workers[0]!.sent.at(-1)).toEqual([again.job]);
  });

  it('ends a sequence from outside (its WebSocket closed)', () => {
    const t = setup({}, ['w1']);
    t.submit({ id: 'a', start: true });
    t.tick();
    t.workers[0]!.answer();
    t.batcher.end('a', 'closed');
    expect(t.workers[0]!.ends).toEqual([['a', 'closed']]);
    expect(t.refusal({ id: 'a' }).message).toMatch(/has ended: its WebSocket closed/);
  });
});

describe('SequenceBatcher: failures', () => {
  it('cancelling a running request cancels those queued behind it; the sequence stays open', () => {
    const t = setup({}, ['w1']);
    const first = t.submit({ id: 'a', start: true });
    t.tick();
    const second = t.submit({ id: 'a' });
    const third = t.submit({ id: 'a' });
    first.job.cancel('client disconnected');
    for (const q of [second, third]) {
      expect(q.sink.outcome).toBe('fail:REQUEST_CANCELLED');
      expect(q.sink.error!.message).toBe('Request r was cancelled: an earlier request of sequence a was cancelled');
    }
    expect(t.batcher.size).toBe(0);
    const next = t.submit({ id: 'a' });
    expect(next.job.state).toBe('queued');
  });

  it('a queued request passing its deadline takes the ones behind it along, not the one before', () => {
    const t = setup({}, ['w1']);
    const running = t.submit({ id: 'a', start: true });
    t.tick();
    const early = t.submit({ id: 'a' }, 500);
    const behind = t.submit({ id: 'a' });
    vi.advanceTimersByTime(500);
    expect(early.sink.outcome).toBe('fail:REQUEST_TIMEOUT');
    expect(behind.sink.error!.message).toMatch(/an earlier request of sequence a passed its deadline/);
    expect(running.job.state).toBe('running');
  });

  it("a worker that dies ends its sequences: running and queued requests fail saying the state is lost; others go on", () => {
    const t = setup({}, ['w1', 'w2']);
    const a = t.submit({ id: 'a', start: true });
    const b = t.submit({ id: 'b', start: true });
    t.tick();
    const queued = t.submit({ id: 'a' });
    const [w1, w2] = t.workers as [FakeWorker, FakeWorker];
    t.live.splice(0, 1);
    t.batcher.workerLost(w1, 'its worker died (killed by SIGKILL)', true);
    for (const r of [a, queued]) {
      expect(r.sink.outcome).toBe('fail:SEQUENCE_LOST');
      expect(r.sink.error!.message).toBe('Sequence a ended: its worker died (killed by SIGKILL); the state it kept is lost. Start a new sequence');
    }
    expect(t.refusal({ id: 'a' }).message).toBe(
      'Sequence a of model "vad" has ended: its worker died (killed by SIGKILL), and the state it kept is lost. Start a new sequence',
    );
    expect(b.job.state).toBe('running');
    const fresh = t.submit({ id: 'a', start: true });
    t.tick();
    w2.answer();
    t.tick();
    expect(w2.sent.at(-1)).toEqual([fresh.job]);
  });

  it('a worker being retired lets its running request finish, fails what was queued', () => {
    const t = setup({}, ['w1']);
    const running = t.submit({ id: 'a', start: true });
    t.tick();
    const queued = t.submit({ id: 'a' });
    t.batcher.workerLost(t.workers[0]!, 'its worker was stopped (the model was scaled down)', false);
    expect(queued.sink.outcome).toBe('fail:SEQUENCE_LOST');
    expect(running.job.state).toBe('running');
    t.workers[0]!.answer();
    expect(running.sink.outcome).toBe('complete');
  });

  it('drains: queued requests fail with the given error, nothing is dispatched any more', () => {
    const t = setup({}, ['w1']);
    t.submit({ id: 'a', start: true });
    t.tick();
    const queued = t.submit({ id: 'a' });
    t.batcher.drain(() => new ModelServerError('NO_WORKER', { model: 'vad', version: '1' }));
    expect(queued.sink.outcome).toBe('fail:NO_WORKER');
    expect(t.batcher.openCount).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(t.workers[0]!.ends).toEqual([]);
  });
});

describe('the sequence_end message', () => {
  it('is checked by hand like every gateway -> worker message', () => {
    for (const reason of SEQUENCE_END_REASONS) {
      expect(parseToWorker({ type: 'sequence_end', sequenceId: 'a', reason })).toEqual({ type: 'sequence_end', sequenceId: 'a', reason });
    }
    expect(() => parseToWorker({ type: 'sequence_end', reason: 'idle' })).toThrow(/Invalid protocol message: sequenceId: expected string/);
  });
});

describe('sequence requests from headers and OIP parameters', () => {
  it("reads TorchServe's headers", () => {
    expect(sequenceFromHeaders({ ts_request_sequence_id: ' s1 ', ts_request_sequence_start: 'True', ts_request_sequence_end: 'false' })).toEqual({
      id: 's1',
      start: true,
      end: false,
      withoutId: 'open',
    });
    expect(sequenceFromHeaders({})).toEqual({ id: undefined, start: false, end: false, withoutId: 'open' });
    expect(() => sequenceFromHeaders({ ts_request_sequence_id: 'a\u0000b' })).toThrow(/Header ts_request_sequence_id must be 1 to 128 characters/);
  });

  it("reads Triton's parameters: integer or string ids, 0 and '' naming none", () => {
    expect(sequenceFromOipParameters({ sequence_id: 42, sequence_start: true })).toEqual({ id: '42', start: true, end: false, withoutId: 'refuse' });
    expect(sequenceFromOipParameters({ sequence_id: 42n, sequence_end: true }).id).toBe('42');
    expect(sequenceFromOipParameters({ sequence_id: 'mic-1' }).id).toBe('mic-1');
    expect(sequenceFromOipParameters({ sequence_id: 0 }).id).toBeUndefined();
    expect(sequenceFromOipParameters({ sequence_id: '' }).id).toBeUndefined();
    expect(() => sequenceFromOipParameters({ sequence_id: 2 ** 53 })).toThrow(/below 2\^53 \(send a larger one as a string\)/);
    expect(() => sequenceFromOipParameters({ sequence_id: -1 })).toThrow(/unsigned integer/);
    expect(() => sequenceFromOipParameters({ sequence_id: true })).toThrow(/must be an unsigned integer or a string/);
    expect(() => sequenceFromOipParameters({ sequence_id: 1, sequence_start: 'yes' })).toThrow(/"sequence_start" must be a boolean/);
    expect(() => sequenceFromOipParameters({ sequence_start: true })).toThrow(/need a "sequence_id"/);
  });
});

describe('sequence settings in model-config.yaml', () => {
  const server = loadServerConfig({ overrides: {} });

  it('resolves them, with TorchServe defaults and its bound of at least batchSize x maxWorkers', () => {
    const s = resolveModelSettings({ sequenceBatching: true, sequenceMaxIdleMSec: 5000, batchSize: 4, minWorkers: 2, maxWorkers: 3 }, server, 'm.yaml');
    expect(s.sequence).toEqual({ maxIdleMs: 5000, timeoutMs: 0, maxNumSequence: 1, maxQueue: 1 });
    expect(maxOpenSequences(s)).toBe(12);
    const big = resolveModelSettings({ sequenceBatching: true, sequenceMaxIdleMSec: 1, maxNumSequence: 100, maxSequenceJobQueueSize: 3, sequenceTimeoutMSec: 9 }, server, 'm.yaml');
    expect(maxOpenSequences(big)).toBe(100);
    expect(big.sequence).toMatchObject({ maxQueue: 3, timeoutMs: 9 });
    expect(resolveModelSettings({}, server, 'm.yaml').sequence).toBeUndefined();
  });

  it('refuses sequence keys without sequenceBatching, and sequenceBatching without an idle limit', () => {
    expect(() => resolveModelSettings({ maxNumSequence: 4 }, server, 'm.yaml')).toThrow(/m\.yaml: maxNumSequence is set but sequenceBatching is not true/);
    expect(() => resolveModelSettings({ sequenceBatching: true }, server, 'm.yaml')).toThrow(/sequenceBatching needs sequenceMaxIdleMSec > 0/);
    expect(() => resolveModelSettings({ sequenceBatching: true, sequenceMaxIdleMSec: 10, maxSequenceJobQueueSize: 0 }, server, 'm.yaml')).toThrow(
      /maxSequenceJobQueueSize/,
    );
  });
});
