import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mgmt } from './helpers/management.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { waitFor } from './helpers/wait.js';

/** Failures a user must be able to see and survive: logs, access log, fast refusals, OOM. */
const BROKEN = join(ROOT, 'test', 'fixtures', 'broken', 'handler.ts');
let server: ServerProcess;
let logDir: string;

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

function logLines(): LogLine[] {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

beforeAll(async () => {
  const store = await tempDir();
  logDir = await tempDir('ms-logdir-');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
  await buildModel(store, { name: 'broken', handler: BROKEN, config: 'minWorkers: 1\nmaxRetryTimeoutInSec: 600\n' });
  server = await startServerProcess({
    store,
    models: ['probe=probe.mar', 'broken=broken.mar'],
    // Small files, so rotation shows within a few hundred requests; a small heap for the OOM case.
    properties: { log_max_file_size: 4096, log_max_files: 2, worker_vmargs: '--max-old-space-size=64 --max-semi-space-size=1' },
    env: { LOG_LOCATION: logDir },
  });
});
afterAll(() => server?.stop());

async function post(model: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}/predictions/${model}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('failures are visible', () => {
  it("logs a handler's exception at error level with model, version, request id and the handler's .ts line", async () => {
    const res = await post('probe', { op: 'throw', message: 'kaboom' }, { 'x-request-id': 'trace-throw' });
    expect(res.status).toBe(500);
    await waitFor(() => logLines().some((l) => l.msg === 'request failed: kaboom'), 5000, 'the error line');
    const line = logLines().find((l) => l.msg === 'request failed: kaboom')!;
    expect(line).toMatchObject({ level: 50, model: 'probe', version: '1.0', requestId: 'trace-throw', code: 'HANDLER_ERROR', status: 500 });
    // The stack is source-mapped: it names the handler's TypeScript file and line, not the bundle.
    expect(String(line['stack'])).toMatch(/Error: kaboom\n\s+at ProbeHandler\.inference \(.*\/handler\.ts:\d+:\d+\)/);
  });

  it('logs a client error (4xx) at info', async () => {
    const res = await post('probe', { op: 'prediction-error', message: 'bad thing', status: 422 });
    expect(res.status).toBe(422);
    await waitFor(() => logLines().some((l) => l.msg === 'request refused: bad thing'), 5000, 'the info line');
    expect(logLines().find((l) => l.msg === 'request refused: bad thing')).toMatchObject({ level: 30, status: 422 });
  });

  it('writes an access log line per response and rotates the file by size', async () => {
    const res = await post('probe', { op: 'echo' }, { 'x-request-id': 'trace-access' });
    expect(res.status).toBe(200);
    const file = join(logDir, 'access_log.log');
    await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).includes('trace-access'), 5000, 'the access line');
    const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.includes('request_id=trace-access'))!;
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 "POST \/predictions\/probe HTTP\/1\.1" 200 [\d.]+ms model=probe request_id=trace-access$/);
    for (let i = 0; i < 60; i++) await post('probe', { op: 'echo' });
    await waitFor(async () => (await readdir(logDir)).includes('access_log.log.1'), 5000, 'a rotated access log');
    for (let i = 0; i < 120; i++) await post('probe', { op: 'echo' });
    await waitFor(async () => (await readdir(logDir)).includes('access_log.log.2'), 5000, 'a second rotation');
    // log_max_files: 2 rotated copies at most.
    expect((await readdir(logDir)).filter((f) => f.startsWith('access_log.log'))).toHaveLength(3);
  });
});

describe('a model whose workers cannot load', () => {
  it('answers at once with 503, the reason and Retry-After, instead of queueing', async () => {
    const t0 = performance.now();
    const res = await post('broken', { op: 'echo' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('MODEL_LOAD_FAILING');
    expect(body.message).toMatch(/broken on purpose/);
  });

  it('shows its state in describe, in ts_model_state and in readiness', async () => {
    const described = await mgmt(server.management, 'GET', '/models/broken');
    expect(described.json[0]).toMatchObject({ state: 'failing', lastError: expect.stringMatching(/broken on purpose/) });
    const metrics = await (await fetch(`${server.metrics}/metrics?name[]=ts_model_state`)).text();
    expect(metrics).toContain('ts_model_state{model_name="broken",model_version="1.0",state="failing"} 1');
    expect(metrics).toContain('ts_model_state{model_name="probe",model_version="1.0",state="ready"} 1');
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(503);
    expect((await fetch(`${server.url}/v2/models/broken/ready`)).status).toBe(503);
    expect((await fetch(`${server.url}/v2/models/probe/ready`)).status).toBe(200);
  });
});

describe('a worker that runs out of memory', () => {
  it('answers 507 WORKER_OOM (not a bare 500), and the model recovers', async () => {
    const res = await post('probe', { op: 'oom' });
    expect(res.status).toBe(507);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('WORKER_OOM');
    await waitFor(async () => (await post('probe', { op: 'echo' })).status === 200, 15_000, 'a replacement worker');
  });
});
