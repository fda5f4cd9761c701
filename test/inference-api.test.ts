import { request as httpRequest, Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
  await buildModel(store, { name: 'probe', version: '2.0', config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'tiny', config: 'minWorkers: 1\njobQueueSize: 1\n' });
  server = await startServer({ store, models: ['probe.mar', 'tiny.mar'], config: { max_request_size: 4096 } });
});
afterAll(() => server?.stop());

describe('inference API', () => {
  it('passes a raw body to the handler as the input "body"', async () => {
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'echo', value: 42 });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // TorchServe's no-cache headers, which clients and caches rely on.
    expect(r.headers.get('cache-control')).toBe('no-cache; no-store, must-revalidate, private');
    expect(r.headers.get('pragma')).toBe('no-cache');
    expect(r.headers.get('expires')).toBe('Thu, 01 Jan 1970 00:00:00 UTC');
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.json['value']).toBe(42);
    expect((r.json['inputs'] as { name: string }[]).map((i) => i.name)).toEqual(['body']);
    expect((r.json['headers'] as Record<string, unknown>)['explain']).toBe('False');
  });

  it('delivers every multipart part, same-named ones included, in order', async () => {
    const form = new FormData();
    form.append('data', new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' }), 'a.png');
    form.append('data', new Blob([new Uint8Array([4, 5, 6, 7])], { type: 'image/jpeg' }), 'b.jpg');
    form.append('note', 'hi');
    const res = await fetch(`${server.url}/predictions/probe`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { inputs: { name: string; contentType: string; size: number }[] };
    expect(body.inputs).toEqual([
      { name: 'data', contentType: 'image/png', size: 3, text: expect.any(String) },
      { name: 'data', contentType: 'image/jpeg', size: 4, text: expect.any(String) },
      { name: 'note', contentType: 'text/plain; charset=utf-8', size: 2, text: 'hi' },
    ]);
  });

  it('routes to an explicit version and forwards extra path segments as url_path', async () => {
    const r = await postJson(`${server.url}/predictions/probe/2.0/a/b`, { op: 'echo' });
    expect(r.status).toBe(200);
    expect((r.json['headers'] as Record<string, unknown>)['url_path']).toBe('a/b');
  });

  it('lets the handler choose status, content type and headers', async () => {
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'set-response', status: 201 });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('text/x-probe');
    expect(r.headers.get('x-probe')).toBe('yes');
    expect(r.headers.get('cache-control')).toBe('max-age=60');
    expect(r.headers.get('pragma')).toBe('no-cache');
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('content-length')).toBe('6');
    expect(r.text).toBe('custom');
  });

  it.each([
    ['unknown model', 'POST', '/predictions/nope', 404, 'ModelNotFoundException'],
    ['unknown version', 'POST', '/predictions/probe/9.9', 404, 'ModelVersionNotFoundException'],
    ['unknown path', 'GET', '/nowhere', 404, 'ResourceNotFoundException'],
    ['wrong method on predictions', 'GET', '/predictions/probe', 405, 'MethodNotAllowedException'],
    ['wrong method on ping', 'DELETE', '/ping', 405, 'MethodNotAllowedException'],
  ])('%s answers %i with a JSON error', async (_name, method, path, status, type) => {
    const res = await fetch(`${server.url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: status, type });
    expect(typeof body['message']).toBe('string');
  });

  it('refuses a body over max_request_size with 413 JSON', async () => {
    const res = await fetch(`${server.url}/predictions/probe`, { method: 'POST', body: new Uint8Array(5000) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 413, errorCode: 'REQUEST_TOO_LARGE' });
  });

  it('refuses an oversized multipart body too', async () => {
    const form = new FormData();
    form.append('data', new Blob([new Uint8Array(5000)]), 'big.bin');
    const res = await fetch(`${server.url}/predictions/probe`, { method: 'POST', body: form });
    expect(res.status).toBe(413);
  });

  it('keeps the connection usable after 4xx answers', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports: number[] = [];
    const call = (path: string, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${server.url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          ports.push(req.socket!.localPort!);
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await call('/predictions/nope', '{}')).toBe(404);
    expect(await call('/predictions/probe', 'x'.repeat(5000))).toBe(413);
    expect(await call('/predictions/probe', '{"op":"echo"}')).toBe(200);
    expect(new Set(ports).size).toBe(1);
    agent.destroy();
  });

  it('answers a handler error with its message and keeps the worker serving', async () => {
    const before = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'throw', message: 'kaboom' });
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: 500, type: 'InternalServerException', message: 'kaboom' });
    const after = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    expect(after.status).toBe(200);
    expect(after.json['pid']).toBe(before.json['pid']);
  });

  it('uses the status a handler chose before throwing, or a PredictionError status', async () => {
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'throw', status: 422 })).status).toBe(422);
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'prediction-error', status: 400, message: 'not a digit' });
    expect(r.status).toBe(400);
    expect(r.json['message']).toBe('not a digit');
  });

  it('treats a wrong number of results as an error for the batch, not a crash', async () => {
    const before = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'wrong-count' });
    expect(r.status).toBe(500);
    expect(r.json['errorCode']).toBe('BATCH_SIZE_MISMATCH');
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).json['pid']).toBe(before.json['pid']);
  });

  it('answers 503 with Retry-After when the queue is full, without waiting', async () => {
    // tiny: one worker, queue of 1. One request runs, one waits, the third is refused.
    const tiny = server.gateway.registry.resolve('tiny');
    const running = postJson(`${server.url}/predictions/tiny`, { op: 'sleep', ms: 800 });
    await waitFor(() => tiny.pool.idleWorker() === undefined, 5000, 'the worker to be busy');
    const queued = postJson(`${server.url}/predictions/tiny`, { op: 'echo' });
    await waitFor(() => tiny.queueSize === 1, 5000, 'one queued request');
    const t0 = performance.now();
    const refused = await postJson(`${server.url}/predictions/tiny`, { op: 'echo' });
    expect(performance.now() - t0).toBeLessThan(300);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json['type']).toBe('ServiceUnavailableException');
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it('serves the OpenAPI description on OPTIONS / and GET /api-description', async () => {
    const a = await fetch(`${server.url}/`, { method: 'OPTIONS' });
    const b = await fetch(`${server.url}/api-description`);
    expect(a.status).toBe(200);
    const doc = (await a.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.0.1');
    expect(Object.keys(doc.paths)).toContain('/predictions/{model_name}');
    expect(await b.json()).toEqual(doc);
  });
});
