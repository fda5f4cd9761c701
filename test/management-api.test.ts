import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, mgmt } from './helpers/management.js';
import { buildModel, tempDir, ROOT } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const BROKEN_HANDLER = join(ROOT, 'test', 'fixtures', 'broken', 'handler.ts');

let server: TestServer;
let store: string;
let files: Server;
let filesUrl: string;
let probeBytes: Buffer;

beforeAll(async () => {
  store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'batchSize: 1\n' });
  const v2 = await tempDir();
  await buildModel(v2, { name: 'probe', version: '2.0', config: 'batchSize: 1\n' });
  await copyFile(join(v2, 'probe.mar'), join(store, 'probe_v2.mar'));
  await buildModel(store, { name: 'drain', config: 'batchSize: 1\n' });
  await buildModel(store, { name: 'broken', handler: BROKEN_HANDLER, config: 'maxRetryTimeoutInSec: 0\n' });
  await buildModel(store, { name: 'listed' });
  // A second store serves archives over HTTP for URL registration.
  const remote = await tempDir();
  await buildModel(remote, { name: 'remote' });
  probeBytes = await readFile(join(remote, 'remote.mar'));
  files = createServer((req, res) => {
    if (req.url === '/allowed/remote.mar') res.end(probeBytes);
    else if (req.url === '/allowed/big.mar') res.end(Buffer.concat([probeBytes, Buffer.alloc(4096)]));
    else if (req.url === '/allowed/bounce.mar') res.writeHead(302, { location: '/elsewhere/remote.mar' }).end();
    else if (req.url === '/elsewhere/remote.mar') res.end(probeBytes);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  server = await startServer({
    store,
    models: ['listed.mar'],
    config: {
      enable_model_api: true,
      allowed_urls: 'http://127\\.0\\.0\\.1:\\d+/allowed/.*',
      max_download_size: probeBytes.byteLength + 1024,
      unregister_model_timeout: 30,
    },
  });
});
afterAll(async () => {
  await server?.stop();
  files?.close();
});

const api = (method: string, path: string, json?: unknown) => mgmt(server.management, method, path, json === undefined ? {} : { json });
const workersOf = async (model: string, version?: string) => {
  const r = await api('GET', `/models/${model}${version ? `/${version}` : ''}`);
  expect(r.status).toBe(200);
  return r.json[0].workers as { id: string; pid: number; status: string; startTime: string; memoryUsage: number }[];
};

describe('management API: register, scale, describe', () => {
  it('registers an archive from the model store and describes it with its workers', async () => {
    const r = await api('POST', '/models?url=probe.mar&initial_workers=1&synchronous=true');
    expect(r).toMatchObject({ status: 200, json: { status: 'Model "probe" Version: 1.0 registered with 1 initial workers' } });

    const d = await api('GET', '/models/probe');
    expect(d.status).toBe(200);
    expect(d.json).toHaveLength(1);
    const m = d.json[0];
    expect(Object.keys(m).slice(0, 6)).toEqual(['modelName', 'modelVersion', 'modelUrl', 'runtime', 'minWorkers', 'maxWorkers']);
    expect(m).toMatchObject({ modelName: 'probe', modelVersion: '1.0', modelUrl: 'probe.mar', runtime: 'node', minWorkers: 1, maxWorkers: 1, batchSize: 1, loadedAtStartup: false });
    expect(m.jobQueueStatus).toEqual({ remainingCapacity: 100, pendingRequests: 0 });
    expect(m.workers).toHaveLength(1);
    const w = m.workers[0];
    expect(w).toMatchObject({ status: 'READY', gpu: false, gpuUsage: 'N/A' });
    expect(w.id).toMatch(/^\d+$/);
    expect(alive(w.pid)).toBe(true);
    expect(w.memoryUsage).toBeGreaterThan(1_000_000);
    expect(new Date(w.startTime).toISOString()).toBe(w.startTime);

    const p = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    expect(p.status).toBe(200);
    expect(p.json['pid']).toBe(w.pid);
  });

  it('shows models loaded at start as loadedAtStartup', async () => {
    const d = await api('GET', '/models/listed');
    expect(d.json[0]).toMatchObject({ modelName: 'listed', loadedAtStartup: true });
  });

  it('scales up and down: worker pids change as asked', async () => {
    const [before] = await workersOf('probe');
    const up = await api('PUT', '/models/probe?min_worker=3&max_worker=3&synchronous=true');
    expect(up).toMatchObject({ status: 200, json: { status: 'Workers scaled to 3 for model: probe' } });
    const three = await workersOf('probe');
    expect(three.map((w) => w.status)).toEqual(['READY', 'READY', 'READY']);
    const pids = three.map((w) => w.pid);
    expect(new Set(pids).size).toBe(3);
    expect(pids).toContain(before!.pid);

    const down = await api('PUT', '/models/probe/1.0?min_worker=1&max_worker=1&synchronous=true');
    expect(down).toMatchObject({ status: 200, json: { status: 'Workers scaled to 1 for model: probe, version: 1.0' } });
    await waitFor(async () => (await workersOf('probe')).length === 1, 10_000, 'stopped workers to leave');
    const [left] = await workersOf('probe');
    expect(pids).toContain(left!.pid);
    for (const pid of pids.filter((p) => p !== left!.pid)) await waitFor(() => !alive(pid), 10_000, `pid ${pid} to exit`);
    const d = await api('GET', '/models/probe');
    expect(d.json[0]).toMatchObject({ minWorkers: 1, maxWorkers: 1 });
  });

  it('answers an asynchronous scale with 202 and then gets there', async () => {
    const r = await api('PUT', '/models/probe?min_worker=2&max_worker=2');
    expect(r).toMatchObject({ status: 202, json: { status: 'Processing worker updates...' } });
    await waitFor(async () => (await workersOf('probe')).filter((w) => w.status === 'READY').length === 2, 20_000, 'two ready workers');
    await api('PUT', '/models/probe?min_worker=1&max_worker=1&synchronous=true');
  });

  it('does not autoscale: a count between min_worker and max_worker is left alone', async () => {
    const r = await api('PUT', '/models/probe?min_worker=0&max_worker=4&synchronous=true');
    expect(r).toMatchObject({ status: 200, json: { status: 'Workers scaled to 1 for model: probe' } });
    expect(await workersOf('probe')).toHaveLength(1);
  });

  it('switches the default version with set-default', async () => {
    const r = await api('POST', '/models', { url: 'probe_v2.mar', initial_workers: 1, synchronous: true });
    expect(r).toMatchObject({ status: 200, json: { status: 'Model "probe" Version: 2.0 registered with 1 initial workers' } });
    const [w2] = await workersOf('probe', '2.0');
    const all = await api('GET', '/models/probe/all');
    expect(all.json.map((m: { modelVersion: string }) => m.modelVersion).sort()).toEqual(['1.0', '2.0']);
    expect((await api('GET', '/models/probe')).json[0].modelVersion).toBe('1.0');

    const s = await api('PUT', '/models/probe/2.0/set-default');
    expect(s).toMatchObject({ status: 200, json: { status: 'Default version successfully updated for model "probe" to "2.0"' } });
    expect((await api('GET', '/models/probe')).json[0].modelVersion).toBe('2.0');
    const p = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    expect(p.json['pid']).toBe(w2!.pid);

    expect(await api('PUT', '/models/probe/9.9/set-default')).toMatchObject({ status: 404, json: { type: 'ModelVersionNotFoundException' } });
    expect(await api('PUT', '/models/nope/1.0/set-default')).toMatchObject({ status: 404, json: { type: 'ModelNotFoundException' } });
  });

  it('lists models sorted, in pages', async () => {
    const all = await api('GET', '/models');
    expect(all.json).toEqual({ models: [{ modelName: 'listed', modelUrl: 'listed.mar' }, { modelName: 'probe', modelUrl: 'probe_v2.mar' }] });
    const first = await api('GET', '/models?limit=1');
    expect(first.json).toEqual({ nextPageToken: '1', models: [{ modelName: 'listed', modelUrl: 'listed.mar' }] });
    const second = await api('GET', '/models?limit=1&next_page_token=1');
    expect(second.json).toEqual({ models: [{ modelName: 'probe', modelUrl: 'probe_v2.mar' }] });
  });

  it('describes itself on OPTIONS /', async () => {
    const r = await api('OPTIONS', '/');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.0.1');
    expect(Object.keys(r.json.paths)).toEqual(expect.arrayContaining(['/models', '/models/{model_name}', '/models/{model_name}/{model_version}/set-default']));
  });

  it('answers an asynchronous registration with 202', async () => {
    const r = await api('POST', '/models?url=drain.mar&initial_workers=2&synchronous=false');
    expect(r).toMatchObject({ status: 202, json: { status: 'Processing worker updates...' } });
    await waitFor(async () => (await workersOf('drain')).filter((w) => w.status === 'READY').length === 2, 20_000, 'drain workers');
  });
});

describe('management API: unregister', () => {
  it('drains on unregister: running requests finish, queued ones are answered, none is lost', async () => {
    const version = server.gateway.registry.resolve('drain');
    const url = `${server.url}/predictions/drain`;
    const running = [postJson(url, { op: 'sleep', ms: 700 }), postJson(url, { op: 'sleep', ms: 700 })];
    await waitFor(() => [...version.pool.workers].filter((w) => w.state === 'busy').length === 2, 10_000, 'both workers busy');
    const queued = [postJson(url, { op: 'echo' }), postJson(url, { op: 'echo' })];
    await waitFor(() => version.queueSize === 2, 10_000, 'two queued requests');
    const pids = [...version.pool.workers].map((w) => w.pid!);

    const del = await api('DELETE', '/models/drain');
    expect(del).toMatchObject({ status: 200, json: { status: 'Model "drain" unregistered' } });
    const done = await Promise.all(running);
    expect(done.map((r) => r.status)).toEqual([200, 200]);
    expect(done.map((r) => r.json['op'])).toEqual(['sleep', 'sleep']);
    const refused = await Promise.all(queued);
    expect(refused.map((r) => r.status)).toEqual([503, 503]);
    expect(refused[0]!.json).toMatchObject({ code: 503, type: 'ServiceUnavailableException' });
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(await api('GET', '/models/drain')).toMatchObject({ status: 404, json: { type: 'ModelNotFoundException' } });
    expect((await postJson(url, { op: 'echo' })).status).toBe(404);
  });

  it('refuses to remove the default version while others exist (403), then removes it last', async () => {
    const r = await api('DELETE', '/models/probe/2.0');
    expect(r).toMatchObject({ status: 403, json: { code: 403, type: 'InvalidModelVersionException', message: 'Cannot remove default version for model probe' } });
    expect(await api('DELETE', '/models/probe')).toMatchObject({ status: 403 });
    expect(await api('DELETE', '/models/probe/1.0')).toMatchObject({ status: 200, json: { status: 'Model "probe" unregistered' } });
    expect(await api('DELETE', '/models/probe/2.0')).toMatchObject({ status: 200 });
    expect(await api('GET', '/models/probe')).toMatchObject({ status: 404 });
  });
});

describe('management API: error cases', () => {
  it.each([
    ['missing url', 'POST', '/models', 400, 'BadRequestException', 'Parameter url is required.'],
    ['archive not in the store', 'POST', '/models?url=nothing.mar', 404, 'ModelNotFoundException', undefined],
    ['path escaping the store', 'POST', '/models?url=../probe.mar', 404, 'ModelNotFoundException', undefined],
    ['sub-folder of the store', 'POST', '/models?url=sub/probe.mar', 404, 'ModelNotFoundException', undefined],
    ['invalid model name', 'POST', '/models?url=listed.mar&model_name=-bad', 400, 'BadRequestException', undefined],
    ['non-integer parameter', 'POST', '/models?url=listed.mar&batch_size=many', 400, 'BadRequestException', undefined],
    ['unsupported runtime', 'POST', '/models?url=listed.mar&runtime=python', 400, 'BadRequestException', 'Invalid RuntimeType value: python'],
    ['already registered', 'POST', '/models?url=listed.mar', 409, 'ConflictStatusException', 'Model version 1.0 is already registered for model listed'],
    ['describe unknown model', 'GET', '/models/nope', 404, 'ModelNotFoundException', 'Model not found: nope'],
    ['describe unknown version', 'GET', '/models/listed/9.9', 404, 'ModelVersionNotFoundException', 'Model version: 9.9 does not exist for model: listed'],
    ['scale unknown model', 'PUT', '/models/nope?min_worker=1', 404, 'ModelNotFoundException', undefined],
    ['max_worker below min_worker', 'PUT', '/models/listed?min_worker=3&max_worker=2', 400, 'BadRequestException', 'max_worker cannot be less than min_worker.'],
    ['unregister unknown model', 'DELETE', '/models/nope', 404, 'ModelNotFoundException', undefined],
    ['unregister unknown version', 'DELETE', '/models/listed/9.9', 404, 'ModelVersionNotFoundException', undefined],
    ['wrong method', 'PATCH', '/models', 405, 'MethodNotAllowedException', undefined],
    ['unknown path', 'GET', '/nowhere', 404, 'ResourceNotFoundException', undefined],
  ])('%s: %s %s answers %i', async (_name, method, path, status, type, message) => {
    const r = await api(method, path);
    expect(r.status).toBe(status);
    expect(r.json).toMatchObject({ code: status, type });
    if (message) expect(r.json.message).toBe(message);
  });

  it('undoes a synchronous registration whose workers cannot load, with the reason (500)', async () => {
    const r = await api('POST', '/models?url=broken.mar&initial_workers=1&synchronous=true');
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: 500, type: 'InternalServerException', errorCode: 'WORKERS_START_FAILED' });
    expect(r.json.message).toMatch(/^Failed to start workers for model broken version: 1\.0: .*broken on purpose/);
    expect(await api('GET', '/models/broken')).toMatchObject({ status: 404 });
  });

  it('registers with 0 workers and says how to add some', async () => {
    const r = await api('POST', '/models?url=broken.mar&initial_workers=0');
    expect(r).toMatchObject({
      status: 200,
      json: { status: 'Model "broken" Version: 1.0 registered with 0 initial workers. Use scale workers API to add workers for the model.' },
    });
    const scale = await api('PUT', '/models/broken?min_worker=1&synchronous=true');
    expect(scale).toMatchObject({ status: 500, json: { errorCode: 'WORKERS_START_FAILED' } });
    expect(await api('DELETE', '/models/broken')).toMatchObject({ status: 200 });
  });
});

describe('management API: registering from a URL', () => {
  it('downloads an allowed URL into the model store and registers it', async () => {
    const r = await api('POST', `/models?url=${encodeURIComponent(`${filesUrl}/allowed/remote.mar`)}&initial_workers=1`);
    expect(r).toMatchObject({ status: 200, json: { status: 'Model "remote" Version: 1.0 registered with 1 initial workers' } });
    expect((await stat(join(store, 'remote.mar'))).size).toBe(probeBytes.byteLength);
    expect((await postJson(`${server.url}/predictions/remote`, { op: 'echo' })).status).toBe(200);
    const again = await api('DELETE', '/models/remote');
    expect(again.status).toBe(200);
  });

  it('refuses a URL outside allowed_urls, also as a redirect target', async () => {
    const direct = await api('POST', `/models?url=${encodeURIComponent(`${filesUrl}/elsewhere/remote.mar`)}`);
    expect(direct).toMatchObject({ status: 404, json: { type: 'ModelNotFoundException', errorCode: 'URL_NOT_ALLOWED' } });
    const bounced = await api('POST', `/models?url=${encodeURIComponent(`${filesUrl}/allowed/bounce.mar`)}`);
    expect(bounced).toMatchObject({ status: 404, json: { errorCode: 'URL_NOT_ALLOWED' } });
    expect(bounced.json.message).toContain('/elsewhere/remote.mar');
  });

  it('refuses an archive over max_download_size and leaves no file behind', async () => {
    const before = (await readdir(store)).sort();
    const r = await api('POST', `/models?url=${encodeURIComponent(`${filesUrl}/allowed/big.mar`)}`);
    expect(r).toMatchObject({ status: 400, json: { type: 'DownloadArchiveException' } });
    expect(r.json.message).toContain('max_download_size');
    expect((await readdir(store)).sort()).toEqual(before);
  });

  it('reports a failed download as 400', async () => {
    const r = await api('POST', `/models?url=${encodeURIComponent(`${filesUrl}/allowed/missing.mar`)}`);
    expect(r).toMatchObject({ status: 400, json: { type: 'DownloadArchiveException', message: `Failed to download archive from: ${filesUrl}/allowed/missing.mar: HTTP 404` } });
  });
});

describe('management API with enable_model_api off (the default)', () => {
  let locked: TestServer;
  beforeAll(async () => {
    locked = await startServer({ store, models: ['listed.mar'] });
  });
  afterAll(() => locked?.stop());

  it('refuses register and unregister with 405 but still lists, describes and scales', async () => {
    const reg = await mgmt(locked.management, 'POST', '/models?url=probe.mar');
    expect(reg).toMatchObject({ status: 405, json: { code: 405, type: 'MethodNotAllowedException', errorCode: 'MODEL_API_DISABLED' } });
    expect(await mgmt(locked.management, 'DELETE', '/models/listed')).toMatchObject({ status: 405 });
    expect((await mgmt(locked.management, 'GET', '/models')).status).toBe(200);
    expect((await mgmt(locked.management, 'GET', '/models/listed')).status).toBe(200);
    expect(await mgmt(locked.management, 'PUT', '/models/listed?min_worker=1&synchronous=true')).toMatchObject({ status: 200 });
  });
});
