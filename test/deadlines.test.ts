import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
  await buildModel(store, { name: 'strict', config: 'minWorkers: 1\nresponseTimeout: 1\n' });
  await buildModel(store, { name: 'pair', config: 'minWorkers: 1\nbatchSize: 2\nmaxBatchDelay: 1000\n' });
  server = await startServer({ store, models: ['probe.mar', 'strict.mar', 'pair.mar'], cancelGraceMs: 400 });
});
afterAll(() => server?.stop());

const url = (model = 'probe') => `${server.url}/predictions/${model}`;
const version = (model = 'probe') => server.gateway.registry.resolve(model);
const busy = (model = 'probe') => waitFor(() => version(model).pool.idleWorker() === undefined, 5000, 'a busy worker');

interface Report {
  cancelled: string[];
  seen: string[];
  handled: number;
  pid: number;
}
async function report(model = 'probe'): Promise<Report> {
  const r = await postJson(url(model), { op: 'cancelled' });
  expect(r.status).toBe(200);
  return r.json as unknown as Report;
}

describe('deadlines', () => {
  it('answers 504 for a request whose deadline passes in the queue, and never runs it', async () => {
    const blocker = postJson(url(), { op: 'sleep', ms: 600 });
    await busy();
    const t0 = performance.now();
    const r = await postJson(url(), { op: 'echo' }, { 'x-request-timeout-ms': '100', 'x-tag': 'expired-in-queue' });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ code: 504, errorCode: 'REQUEST_TIMEOUT' });
    expect(r.json['message']).toContain('queued');
    await blocker;
    expect((await report()).seen).not.toContain('expired-in-queue');
  });

  it('answers 504 for a running request past its deadline, aborts it in the handler, and keeps the worker', async () => {
    const before = await report();
    const r = await postJson(url(), { op: 'hang' }, { 'x-request-timeout-ms': '200', 'x-tag': 'expired-running' });
    expect(r.status).toBe(504);
    expect(r.json['message']).toContain('running');
    await waitFor(async () => (await report()).cancelled.includes('expired-running'), 5000, 'the handler to see its abort');
    expect((await report()).pid).toBe(before.pid);
  });

  it("applies the model's responseTimeout when the request names no deadline", async () => {
    const t0 = performance.now();
    const r = await postJson(url('strict'), { op: 'hang' });
    expect(r.status).toBe(504);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it('replaces a worker whose handler ignores its cancellation past the grace period', async () => {
    const pid = (await report()).pid;
    const r = await postJson(url(), { op: 'ignore-cancel', ms: 10_000 }, { 'x-request-timeout-ms': '100' });
    expect(r.status).toBe(504);
    await waitFor(async () => version().healthy && (await report()).pid !== pid, 15_000, 'a replacement worker');
  });

  it('refuses a malformed deadline header with 400', async () => {
    const r = await postJson(url(), { op: 'echo' }, { 'x-request-timeout-ms': 'soon' });
    expect(r.status).toBe(400);
    expect(r.json['message']).toContain('x-request-timeout-ms');
  });
});

describe('client disconnects', () => {
  it('cancels a running request in the worker when its client goes away', async () => {
    const controller = new AbortController();
    const pending = fetch(url(), {
      method: 'POST',
      body: JSON.stringify({ op: 'hang' }),
      headers: { 'content-type': 'application/json', 'x-tag': 'left-while-running' },
      signal: controller.signal,
    }).catch((err: Error) => err);
    const [worker] = [...version().pool.workers];
    await waitFor(() => worker!.inFlightCount === 1, 5000, 'the request to run');
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    // The hanging handler returns only when its abort signal fires; then the report can run.
    expect((await report()).cancelled).toContain('left-while-running');
    // The worker serves the next request.
    expect((await postJson(url(), { op: 'echo' })).status).toBe(200);
  });

  it('drops a queued request whose client went away, so it never runs', async () => {
    const blocker = postJson(url(), { op: 'sleep', ms: 400 });
    await busy();
    const controller = new AbortController();
    const pending = fetch(url(), {
      method: 'POST',
      body: JSON.stringify({ op: 'echo' }),
      headers: { 'content-type': 'application/json', 'x-tag': 'left-while-queued' },
      signal: controller.signal,
    }).catch((err: Error) => err);
    await waitFor(() => version().queueSize === 1, 5000, 'the request to queue');
    controller.abort();
    await pending;
    await waitFor(() => version().queueSize === 0, 5000, 'the queue to drop it');
    await blocker;
    expect((await report()).seen).not.toContain('left-while-queued');
  });
});

describe('batches in flight together', () => {
  it('a batch that fails as a whole fails only its own requests, not the batch sent on its batch_end', async () => {
    const blocker = postJson(url(), { op: 'sleep', ms: 300 });
    await busy();
    const failing = postJson(url(), { op: 'throw', message: 'only this batch' });
    await waitFor(() => version().queueSize === 1, 5000, 'the failing request to queue');
    const next = postJson(url(), { op: 'echo' });
    await waitFor(() => version().queueSize === 2, 5000, 'the next request to queue');
    expect((await blocker).status).toBe(200);
    const failed = await failing;
    expect(failed.status).toBe(500);
    expect(failed.json['message']).toContain('only this batch');
    // Dispatched as soon as the failing batch's batch_end was read, before its error was routed.
    expect((await next).status).toBe(200);
  });
});

describe('a full batch waiting inside a busy worker', () => {
  it('is handed over at once, and when its clients leave it never runs and does not cost the worker', async () => {
    const pair = version('pair');
    const [pidA, pidB] = await Promise.all([report('pair'), report('pair')]);
    expect(pidA.pid).toBe(pidB.pid);
    const running = [1, 2].map((i) => postJson(url('pair'), { op: 'sleep', ms: 1500 }, { 'x-tag': `running-${i}` }));
    await waitFor(() => pair.pool.idleWorker() === undefined, 5000, 'the first batch to run');
    const controllers = [1, 2].map(() => new AbortController());
    const waiting = controllers.map((controller, i) =>
      fetch(url('pair'), {
        method: 'POST',
        body: JSON.stringify({ op: 'echo' }),
        headers: { 'content-type': 'application/json', 'x-tag': `waiting-${i}` },
        signal: controller.signal,
      }).catch((err: Error) => err),
    );
    const [worker] = [...pair.pool.workers];
    // Full, so it left the queue for the worker, which runs it right after the running batch.
    await waitFor(() => pair.queueSize === 0 && worker!.inFlightCount === 4, 5000, 'the full batch to be handed over');
    for (const c of controllers) c.abort();
    await Promise.all(waiting);
    // The running batch (1.5 s) outlasts the 400 ms cancel grace: the grace of a waiting batch starts with it.
    for (const r of await Promise.all(running)) expect(r.status).toBe(200);
    const [after] = await Promise.all([report('pair'), report('pair')]);
    expect(after!.pid).toBe(pidA.pid);
    expect(after!.seen).toEqual(expect.arrayContaining(['running-1', 'running-2']));
    expect(after!.seen.filter((t) => t.startsWith('waiting-'))).toEqual([]);
  });
});

describe('priority', () => {
  it('serves higher priority first and keeps FIFO within a level', async () => {
    const blocker = postJson(url(), { op: 'sleep', ms: 400 });
    await busy();
    const send = (tag: string, priority?: number) =>
      postJson(url(), { op: 'echo' }, { 'x-tag': tag, ...(priority !== undefined ? { 'x-request-priority': String(priority) } : {}) });
    const order: Promise<unknown>[] = [];
    for (const [tag, priority] of [['low-1', undefined], ['high-1', 5], ['low-2', 0], ['high-2', 5], ['urgent', 9]] as const) {
      order.push(send(tag, priority));
      const n = order.length;
      await waitFor(() => version().queueSize === n, 5000, `${tag} to queue`);
    }
    await Promise.all([blocker, ...order]);
    const seen = (await report()).seen;
    const ran = seen.filter((t) => /^(low|high|urgent)/.test(t)).slice(-5);
    expect(ran).toEqual(['urgent', 'high-1', 'high-2', 'low-1', 'low-2']);
  });
});
