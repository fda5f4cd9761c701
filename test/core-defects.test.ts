import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, mgmt } from './helpers/management.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

/** The defects the core's structure caused, each through real processes (see docs/architecture.md). */
const MNIST = join(ROOT, 'examples', 'mnist');
let server: TestServer;
let digits: Buffer[];

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 200\n' });
  await buildModel(store, { name: 'slow', config: 'minWorkers: 1\nbatchSize: 1\nhandler:\n  loadDelayMs: 1500\n' });
  await buildModel(store, { name: 'mnist', handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx'), config: 'minWorkers: 1\nbatchSize: 16\nmaxBatchDelay: 200\n' });
  server = await startServer({ store, models: ['probe.mar', 'mnist.mar'], config: { enable_model_api: true } });
  digits = await Promise.all(Array.from({ length: 10 }, (_, d) => readFile(join(MNIST, 'samples', `digit-${d}.png`))));
});
afterAll(() => server?.stop());

function openSocket(): Promise<WebSocket> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/predictions/probe/ws`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function completion(ws: WebSocket): Promise<{ id: string; type: string; data: string }> {
  return new Promise((resolve) => {
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { id: string; type: string; data: string };
      if (msg.type === 'complete' || msg.type === 'error') resolve(msg);
    });
  });
}

describe('a client id is data, never a key', () => {
  it('gives two WebSocket clients that send the same id at the same moment each its own answer', async () => {
    const [a, b] = await Promise.all([openSocket(), openSocket()]);
    const answers = [completion(a), completion(b)];
    a.send(JSON.stringify({ id: 'x', body: { op: 'echo', value: 'from-a' } }));
    b.send(JSON.stringify({ id: 'x', body: { op: 'echo', value: 'from-b' } }));
    const [ra, rb] = await Promise.all(answers);
    expect(ra).toMatchObject({ id: 'x', type: 'complete' });
    expect(rb).toMatchObject({ id: 'x', type: 'complete' });
    const va = JSON.parse(ra.data) as { value: string; batchSize: number };
    const vb = JSON.parse(rb.data) as { value: string; batchSize: number };
    expect([va.value, vb.value]).toEqual(['from-a', 'from-b']);
    // They did share a batch: the same id twice in one batch reached the worker without a clash.
    expect(va.batchSize).toBe(2);
    a.close();
    b.close();
  });

  it('echoes a safe client x-request-id and refuses to use an unsafe one', async () => {
    const own = await postJson(`${server.url}/predictions/probe`, { op: 'echo' }, { 'x-request-id': 'trace-42.a' });
    expect(own.headers.get('x-request-id')).toBe('trace-42.a');
    expect(own.json['requestId']).toBe('trace-42.a');
    for (const bad of ['a b"c', 'x'.repeat(200)]) {
      const unsafe = await postJson(`${server.url}/predictions/probe`, { op: 'echo' }, { 'x-request-id': bad });
      expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('one bad request fails alone, never its batch', () => {
  it('answers 14 digits and 2 errors of 4xx for a batch of 16 mnist requests with 2 non-images', async () => {
    const version = server.gateway.registry.resolve('mnist');
    const batchesBefore = version.statistics.executionCount;
    const bodies = Array.from({ length: 16 }, (_, i) => (i === 3 || i === 11 ? Buffer.from('not an image') : digits[i % 10]!));
    const results = await Promise.all(bodies.map((body) => fetch(`${server.url}/predictions/mnist`, { method: 'POST', body }).then(async (r) => ({ status: r.status, text: await r.text() }))));
    results.forEach((r, i) => {
      if (i === 3 || i === 11) {
        expect(r.status).toBe(400);
        expect(JSON.parse(r.text).message).toMatch(/not a PNG or JPEG/);
      } else {
        expect(r.status, r.text).toBe(200);
        expect(Number(r.text)).toBe(i % 10);
      }
    });
    // All 16 went in one or two batches: the failures had batch-mates.
    expect(version.statistics.executionCount - batchesBefore).toBeLessThanOrEqual(2);
  });

  it('does the same for v1 instances: one bad instance fails its own request only', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => ({ instances: [{ data: (i === 5 ? Buffer.from('garbage') : digits[i]!).toString('base64') }] }));
    const results = await Promise.all(bodies.map((b) => postJson(`${server.url}/v1/models/mnist:predict`, b)));
    results.forEach((r, i) => {
      if (i === 5) expect(r.status).toBe(400);
      else expect(r.json).toEqual({ predictions: [i] });
    });
  });

  it('shares a batch between images and v2 tensors, and a bad image fails alone', async () => {
    const tensor = (d: number): Promise<{ status: number; json: Record<string, unknown> }> => {
      // The held-out digit rendered as the handler would see it: use the PNG path for images,
      // a zero tensor here (the point is the shared batch, not the digit).
      void d;
      return postJson(`${server.url}/v2/models/mnist/infer`, { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }] });
    };
    const mixed: { status: number; json: Record<string, unknown> }[] = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => tensor(i)),
      fetch(`${server.url}/predictions/mnist`, { method: 'POST', body: 'nope' }).then((r) => ({ status: r.status, json: {} })),
      fetch(`${server.url}/predictions/mnist`, { method: 'POST', body: digits[7]! }).then(async (r) => ({ status: r.status, json: { digit: await r.text() } })),
    ]);
    for (const r of mixed.slice(0, 6)) expect((r.json['outputs'] as { name: string }[])[0]!.name).toBe('logits');
    expect(mixed[6]!.status).toBe(400);
    expect(mixed[7]).toEqual({ status: 200, json: { digit: '7' } });
  });

  it('lets a handler fail one request of its batch by returning an Error in its slot', async () => {
    const values = ['a', 'bad', 'c', 'd'];
    const results = await Promise.all(values.map((value) => postJson(`${server.url}/predictions/probe`, { op: 'fail-some', value })));
    results.forEach((r, i) => {
      if (values[i] === 'bad') {
        expect(r.status).toBe(422);
        expect(r.json['message']).toMatch(/is bad$/);
      } else expect(r.json).toEqual({ ok: true, value: values[i] });
    });
  });
});

describe('a stop that arrives while a worker starts is honoured', () => {
  it('answers an unregister right after an asynchronous registration with 200, and leaves no worker', async () => {
    const reg = await mgmt(server.management, 'POST', '/models?url=slow.mar&model_name=slow_async&initial_workers=1&synchronous=false');
    expect(reg.status).toBe(202);
    const version = server.gateway.registry.resolve('slow_async');
    const pids = [...version.pool.workers].map((w) => w.pid!);
    const t0 = performance.now();
    const del = await mgmt(server.management, 'DELETE', '/models/slow_async');
    expect(del.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(version.pool.workers.size).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('scales down by retiring a starting worker, not the only ready one', async () => {
    await mgmt(server.management, 'POST', '/models?url=slow.mar&model_name=slow_scale&initial_workers=1&synchronous=true');
    const version = server.gateway.registry.resolve('slow_scale');
    const [ready] = [...version.pool.workers];
    expect(ready!.state).toBe('ready');
    expect((await mgmt(server.management, 'PUT', '/models/slow_scale?min_worker=2&synchronous=false')).status).toBe(202);
    const down = await mgmt(server.management, 'PUT', '/models/slow_scale?min_worker=1&max_worker=1&synchronous=true');
    expect(down.status).toBe(200);
    expect([...version.pool.workers]).toEqual([ready]);
    expect(ready!.state).toBe('ready');
    expect((await postJson(`${server.url}/predictions/slow_scale`, { op: 'echo' })).json['pid']).toBe(ready!.pid);
    await mgmt(server.management, 'DELETE', '/models/slow_scale');
  });

  it('makes a synchronous scale issued during an asynchronous one wait until the workers are live', async () => {
    await mgmt(server.management, 'POST', '/models?url=slow.mar&model_name=slow_sync&initial_workers=1&synchronous=true');
    const version = server.gateway.registry.resolve('slow_sync');
    expect((await mgmt(server.management, 'PUT', '/models/slow_sync?min_worker=3&synchronous=false')).status).toBe(202);
    const sync = await mgmt(server.management, 'PUT', '/models/slow_sync?min_worker=3&synchronous=true');
    expect(sync.status).toBe(200);
    expect(version.pool.liveCount).toBe(3);
    await mgmt(server.management, 'DELETE', '/models/slow_sync');
  });

  it('answers a DELETE during an asynchronous scale-up at once and stops the starting workers', async () => {
    await mgmt(server.management, 'POST', '/models?url=slow.mar&model_name=slow_del&initial_workers=1&synchronous=true');
    const version = server.gateway.registry.resolve('slow_del');
    await mgmt(server.management, 'PUT', '/models/slow_del?min_worker=3&synchronous=false');
    const pids = [...version.pool.workers].map((w) => w.pid!);
    expect(pids).toHaveLength(3);
    const t0 = performance.now();
    expect((await mgmt(server.management, 'DELETE', '/models/slow_del')).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(3000);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
