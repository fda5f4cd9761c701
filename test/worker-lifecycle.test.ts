import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let store: string;

beforeAll(async () => {
  store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nmaxRetryTimeoutInSec: 60\n' });
  await buildModel(store, { name: 'broken', handler: await brokenHandler(store), config: 'minWorkers: 1\nmaxRetryTimeoutInSec: 2\n' });
  server = await startServer({ store, models: ['probe.mar'], config: { max_response_size: 100_000 } });
});
afterAll(() => server?.stop());

async function brokenHandler(dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const path = `${dir}/broken-handler.ts`;
  await writeFile(path, "export default class { initialize() { throw new Error('weights are corrupt'); } handle() { return []; } }\n");
  return path;
}

async function ping(url = server.url): Promise<string> {
  const res = await fetch(`${url}/ping`);
  const body = (await res.json()) as { status: string };
  expect(res.status).toBe(body.status === 'Healthy' ? 200 : 500);
  return body.status;
}

const probe = () => server.gateway.registry.resolve('probe');

describe('worker lifecycle', () => {
  it('answers 500 within a second when the worker is SIGKILLed mid-request, then restarts it', async () => {
    const [worker] = [...probe().pool.workers];
    const pid = worker!.pid!;
    const pending = postJson(`${server.url}/predictions/probe`, { op: 'sleep', ms: 30_000 });
    await waitFor(() => worker!.inFlightCount === 1, 5000, 'the request to reach the worker');
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    const r = await pending;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: 500, type: 'InternalServerException', errorCode: 'WORKER_DIED' });
    expect(await ping()).toBe('Unhealthy');
    await waitFor(async () => (await ping()) === 'Healthy', 15_000, '/ping to turn Healthy again');
    const after = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    expect(after.status).toBe(200);
    expect(after.json['pid']).not.toBe(pid);
    expect(probe().pool.restarts).toBeGreaterThanOrEqual(1);
  });

  it('answers 500 when a handler exits the process, and recovers', async () => {
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'exit', code: 3 });
    expect(r.status).toBe(500);
    expect(r.json['message']).toContain('exit code 3');
    await waitFor(() => probe().healthy, 15_000, 'the restarted worker');
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
  });

  it('closes a worker connection that sends an oversized frame, with a coded error, and carries on', async () => {
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'corrupt-frame' });
    expect(r.status).toBe(500);
    expect(r.json['errorCode']).toBe('WORKER_DIED');
    expect(r.json['message']).toContain('FRAME_TOO_LARGE');
    await waitFor(async () => (await ping()) === 'Healthy', 15_000, 'a replacement worker');
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
  });

  it('refuses a response over max_response_size with a clear error and keeps the worker', async () => {
    const before = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'large', n: 200_000 });
    expect(r.status).toBe(500);
    expect(r.json['errorCode']).toBe('RESPONSE_TOO_LARGE');
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).json['pid']).toBe(before.json['pid']);
  });

  it('gives up on a model that cannot load instead of restarting it forever', async () => {
    const other = await startServer({ store, models: ['broken.mar', 'probe.mar'] });
    try {
      const broken = other.gateway.registry.resolve('broken');
      expect(broken.pool.lastError?.message).toContain('weights are corrupt');
      await waitFor(() => broken.pool.failed, 20_000, 'the pool to give up');
      const restarts = broken.pool.restarts;
      const r = await postJson(`${other.url}/predictions/broken`, {});
      expect(r.status).toBe(503);
      expect(await ping(other.url)).toBe('Unhealthy');
      // The healthy model next to it is unaffected.
      expect((await postJson(`${other.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
      // No further attempts once failed: the restart count stays put.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(broken.pool.restarts).toBe(restarts);
    } finally {
      await other.stop();
    }
  });
});
