import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { chunkedBody, httpRequest, multipart, rawConnect, rawRequest } from './helpers/raw-http.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';

/**
 * Single requests that used to end the gateway or a worker, sent to a real server process, so that a
 * crash shows as the process exiting. After each, the server must still answer, with the same worker.
 */
const MNIST = join(ROOT, 'examples', 'mnist');
let server: ServerProcess;
let keys: { inference: string; management: string };

async function probePid(): Promise<number> {
  const res = await fetch(`${server.url}/predictions/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.inference}` },
    body: '{"op":"echo"}',
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { pid: number }).pid;
}

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 50\n' });
  await buildModel(store, { name: 'mnist', handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx'), config: 'minWorkers: 1\nbatchSize: 8\n' });
  const dir = await tempDir('ms-keys-');
  server = await startServerProcess({
    store,
    models: ['probe=probe.mar', 'mnist=mnist.mar'],
    properties: { disable_token_authorization: false, token_key_file: join(dir, 'key_file.json'), request_read_timeout: 2, max_request_size: 100_000 },
  });
  const file = JSON.parse(await readFile(join(dir, 'key_file.json'), 'utf8')) as { inference: { key: string }; management: { key: string } };
  keys = { inference: file.inference.key, management: file.management.key };
});
afterAll(() => server?.stop());

describe('no single request takes the server down', () => {
  it('survives a WebSocket upgrade refused with 401 and then reset by the client', async () => {
    const pid = await probePid();
    for (let i = 0; i < 5; i++) {
      const { socket, received } = await rawConnect(server.url);
      socket.write('GET /predictions/probe/ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n');
      await new Promise<void>((resolve) => socket.on('data', () => received().includes('\r\n\r\n') && resolve()));
      expect(received().toString()).toMatch(/^HTTP\/1.1 401/);
      socket.resetAndDestroy();
    }
    // A reset in the middle of an accepted WebSocket as well.
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/predictions/probe/ws`, { headers: { authorization: `Bearer ${keys.inference}` } });
    await new Promise((r) => ws.once('open', r));
    (ws as unknown as { _socket: import('node:net').Socket })._socket.resetAndDestroy();
    expect(await probePid()).toBe(pid);
    expect(server.alive).toBe(true);
  });

  it('answers 400 to a multipart body cut off at any point, on /predictions and /explanations', async () => {
    const pid = await probePid();
    const body = multipart([
      { name: 'data', filename: 'a.bin', type: 'application/octet-stream', data: Buffer.alloc(300, 7) },
      { name: 'note', data: 'hello' },
    ]);
    const auth = { authorization: `Bearer ${keys.inference}`, 'content-type': 'multipart/form-data; boundary=XbOuNdArYx' };
    const statuses = new Set<number>();
    for (let cut = 1; cut < body.byteLength - 4; cut += 7) {
      for (const route of ['predictions', 'explanations']) {
        // The request itself ends properly (chunked), but the form inside it does not.
        const r = await rawRequest(server.url, httpRequest('POST', `/${route}/probe`, { ...auth, 'transfer-encoding': 'chunked' }, chunkedBody(body.subarray(0, cut))));
        expect(r?.status, `cut at ${cut}`).toBe(400);
        statuses.add(r!.status);
      }
      // The connection closes before the declared body has arrived.
      await rawRequest(server.url, httpRequest('POST', '/predictions/probe', { ...auth, 'content-length': body.byteLength }, body.subarray(0, cut)), { end: true });
    }
    expect([...statuses]).toEqual([400]);
    expect(server.alive).toBe(true);
    expect(await probePid()).toBe(pid);
  });

  it('refuses a part without a name in the gateway: the worker and its batch-mates carry on', async () => {
    const pid = await probePid();
    const nameless = multipart([{ filename: 'x.png', type: 'image/png', data: 'abc' }]);
    const batchMates = Array.from({ length: 3 }, () =>
      fetch(`${server.url}/predictions/probe`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.inference}` }, body: '{"op":"echo","value":1}' }),
    );
    const bad = await rawRequest(server.url, httpRequest('POST', '/predictions/probe', { authorization: `Bearer ${keys.inference}`, 'content-type': 'multipart/form-data; boundary=XbOuNdArYx' }, nameless));
    expect(bad?.status).toBe(400);
    expect(JSON.parse(bad!.body).message).toMatch(/every part needs a name/);
    for (const r of await Promise.all(batchMates)) expect(r.status).toBe(200);
    expect(await probePid()).toBe(pid);
  });

  it('takes deadlines beyond 2^31 ms (a 30-day timeout)', async () => {
    const res = await fetch(`${server.url}/predictions/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.inference}`, 'x-request-timeout-ms': String(30 * 24 * 3600 * 1000) },
      body: '{"op":"echo"}',
    });
    expect(res.status).toBe(200);
  });

  it('answers 400, not 500, to deeply nested JSON and empty output lists', async () => {
    const auth = { authorization: `Bearer ${keys.inference}`, 'content-type': 'application/json' };
    const deep = (n: number, leaf = '1'): string => '['.repeat(n) + leaf + ']'.repeat(n);
    const v1 = await fetch(`${server.url}/v1/models/probe:predict`, { method: 'POST', headers: auth, body: `{"instances":[${deep(5000)}]}` });
    expect(v1.status).toBe(400);
    expect(((await v1.json()) as { error: string }).error).toMatch(/deeper than/);
    const v2 = await fetch(`${server.url}/v2/models/mnist/infer`, {
      method: 'POST',
      headers: auth,
      body: `{"inputs":[{"name":"input","shape":[1,784],"datatype":"FP32","data":${deep(10_000, '0')}}]}`,
    });
    expect(v2.status).toBe(400);
    const all = await fetch(`${server.url}/v2/models/mnist/infer`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }], outputs: [] }),
    });
    expect(all.status).toBe(200);
    expect(((await all.json()) as { outputs: { name: string }[] }).outputs.map((o) => o.name)).toEqual(['logits']);
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/predictions/probe/ws`, { headers: { authorization: `Bearer ${keys.inference}` } });
    await new Promise((r) => ws.once('open', r));
    const answer = new Promise<{ type: string; status: number }>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(`{"id":"d","body":${deep(20_000)}}`);
    expect(await answer).toMatchObject({ type: 'error', status: 400 });
    ws.close();
    expect(server.alive).toBe(true);
  });

  it('answers 413 from the headers alone on every route that takes a body, without waiting for it', async () => {
    const routes: [string, string, string][] = [
      [server.url, '/v1/models/probe:predict', keys.inference],
      [server.url, '/v2/models/mnist/infer', keys.inference],
      [server.url, '/predictions/probe', keys.inference],
      [server.management, '/models?url=x.mar', keys.management],
    ];
    for (const [base, path, key] of routes) {
      // Headers only: a body of 10 MB is announced and never sent.
      const r = await rawRequest(base, httpRequest('POST', path, { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': 10_000_000 }));
      expect(r?.status, path).toBe(413);
    }
  });

  it('answers 408 to a body that trickles in slower than request_read_timeout', async () => {
    const { socket, received, closed } = await rawConnect(server.url);
    socket.write(httpRequest('POST', '/predictions/probe', { authorization: `Bearer ${keys.inference}`, 'content-type': 'application/json', 'content-length': 1000 }));
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    await closed;
    clearInterval(trickle);
    expect(received().toString()).toMatch(/^HTTP\/1.1 408/);
    expect(received().toString()).toContain('REQUEST_READ_TIMEOUT');
  });
});
