import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

const MNIST = join(ROOT, 'examples', 'mnist');

let server: TestServer;
let digits: { pixels: Float32Array; label: number }[];
let pngs: Buffer[];
let v1: string;

async function post(path: string, body: unknown) {
  const res = await fetch(`${v1}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'mnist', handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx'), config: 'minWorkers: 1\nbatchSize: 8\nmaxBatchDelay: 50\n' });
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'idle', config: 'minWorkers: 0\n' });
  server = await startServer({ store, models: ['mnist.mar', 'probe.mar', 'idle.mar'] });
  v1 = `${server.url}/v1`;
  const split = await import('../scripts/lib/mnist-split.mjs');
  const held = split.heldOutSet();
  digits = [held[10]!, held[300]!, held[650]!, held[1000]!, held[1900]!];
  pngs = digits.map((d) => split.toPngBuffer(d.pixels));
});
afterAll(() => server?.stop());

describe('KServe v1', () => {
  it('lists models and reports readiness', async () => {
    expect(await (await fetch(`${v1}/models`)).json()).toEqual({ models: ['idle', 'mnist', 'probe'] });
    const ready = await fetch(`${v1}/models/mnist`);
    expect([ready.status, await ready.json()]).toEqual([200, { name: 'mnist', ready: true }]);
    expect((await fetch(`${v1}/models/mnist/versions/1.0`)).status).toBe(200);
    const idle = await fetch(`${v1}/models/idle`);
    expect(idle.status).toBe(503);
    expect(await idle.json()).toMatchObject({ name: 'idle', ready: false, error: expect.any(String) });
    const unknown = await fetch(`${v1}/models/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'Model not found: nope' });
  });

  it('predicts the digits of base64 PNG instances, batched through the model queue', async () => {
    const version = server.gateway.registry.resolve('mnist');
    const before = { batches: version.statistics.executionCount, requests: version.statistics.batchedRequests };
    const r = await post('/models/mnist:predict', { instances: pngs.map((p) => ({ b64: p.toString('base64') })) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ predictions: digits.map((d) => d.label) });
    // Five instances, five jobs, one batch: they were queued together.
    expect(version.statistics.batchedRequests - before.requests).toBe(5);
    expect(version.statistics.executionCount - before.batches).toBe(1);
  });

  it("accepts TorchServe's {\"data\": \"<base64>\"} instances and the versioned path", async () => {
    const r = await post('/models/mnist/versions/1.0:predict', { instances: pngs.slice(0, 3).map((p) => ({ data: p.toString('base64') })) });
    expect(r.status).toBe(200);
    expect(r.body['predictions']).toEqual(digits.slice(0, 3).map((d) => d.label));
  });

  it('hands each field of an instance to the handler as a named input', async () => {
    const r = await post('/models/probe:predict', { instances: [{ data: 'aGk=', note: 'text', value: { n: 1 }, img: { b64: 'AAEC' } }, [1, 2]] });
    expect(r.status).toBe(200);
    const [first, second] = r.body['predictions'] as { inputs: { name: string; contentType: string; size: number }[] }[];
    expect(first!.inputs.map(({ name, contentType, size }) => ({ name, contentType, size }))).toEqual([
      { name: 'data', contentType: 'application/octet-stream', size: 2 },
      { name: 'note', contentType: 'text/plain; charset=utf-8', size: 4 },
      { name: 'value', contentType: 'application/json', size: 7 },
      { name: 'img', contentType: 'application/octet-stream', size: 3 },
    ]);
    expect(second!.inputs).toEqual([{ name: 'data', contentType: 'application/json', size: 5, text: '[1,2]' }]);
  });

  it.each([
    ['not base64', { instances: [{ b64: 'not base64!' }] }, 400, /instances\[0\].b64 is not base64/],
    ['no instances', { inputs: { x: [1] } }, 400, /columnar "inputs" form is not supported/],
    ['an empty list', { instances: [] }, 400, /empty/],
    ['an image the handler refuses', { instances: [{ b64: 'AAAA' }] }, 400, /not a PNG or JPEG/],
  ])('answers {error} for %s', async (_name, body, status, message) => {
    const r = await post('/models/mnist:predict', body);
    expect(r.status).toBe(status);
    expect(Object.keys(r.body)).toEqual(['error']);
    expect(r.body['error']).toMatch(message);
  });

  it('answers {error} for bad JSON, an unknown model, a model without workers and a handler failure', async () => {
    expect(await post('/models/mnist:predict', '{"instances": [')).toMatchObject({ status: 400, body: { error: expect.any(String) } });
    expect(await post('/models/nope:predict', { instances: [1] })).toEqual({ status: 404, body: { error: 'Model not found: nope' } });
    expect((await post('/models/idle:predict', { instances: [1] })).status).toBe(503);
    const failed = await post('/models/probe:predict', { instances: [{ data: { op: 'throw', message: 'kaboom' } }] });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: 'kaboom' });
    const get = await fetch(`${v1}/models/mnist:predict`);
    expect(get.status).toBe(405);
  });
});
