import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { families, prometheusTool, samples, value } from './helpers/prom-text.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const METER_HANDLER = join(ROOT, 'test', 'fixtures', 'metrics', 'handler.ts');
const REQUESTS = 5;

let store: string;
let server: TestServer;
const scrape = async (s: TestServer = server, query = ''): Promise<string> => {
  const res = await fetch(`${s.metrics}/metrics${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return res.text();
};
const promtool = (text: string) => execa(prometheusTool('promtool'), ['check', 'metrics'], { input: text, reject: false });
const probe = { model_name: 'probe', model_version: '1.0' };

beforeAll(async () => {
  store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
  await buildModel(store, { name: 'meter', handler: METER_HANDLER, config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['probe.mar', 'meter.mar'] });
  for (let i = 0; i < REQUESTS; i++) expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
});
afterAll(() => server?.stop());

describe('GET /metrics (native mode)', () => {
  it("counts requests under TorchServe's ts_inference_requests_total with its labels", async () => {
    const text = await scrape();
    const [s] = samples(text, 'ts_inference_requests_total', probe);
    expect(s!.value).toBe(REQUESTS);
    expect(Object.keys(s!.labels).sort()).toEqual(['hostname', 'model_name', 'model_version']);
    expect(value(text, 'ts_inference_results_total', { ...probe, result: 'success' })).toBe(REQUESTS);
  });

  it('has real histograms for request, queue and handler time and for batch size', async () => {
    const text = await scrape();
    for (const name of ['ts_request_duration_seconds', 'ts_queue_duration_seconds', 'ts_handler_duration_seconds', 'ts_batch_size']) {
      expect(value(text, `${name}_count`, probe), name).toBe(REQUESTS);
      expect(value(text, `${name}_bucket`, { ...probe, le: '+Inf' }), name).toBe(REQUESTS);
    }
    expect(value(text, 'ts_batch_size_bucket', { ...probe, le: '1' })).toBe(REQUESTS);
    expect(value(text, 'ts_batch_size_sum', probe)).toBe(REQUESTS);
    const total = value(text, 'ts_request_duration_seconds_sum', probe);
    expect(total).toBeGreaterThan(0);
    expect(value(text, 'ts_handler_duration_seconds_sum', probe)).toBeLessThan(total);
  });

  it('shows queue depth, workers by state, and CPU and memory of the gateway and of every worker', async () => {
    const text = await scrape();
    expect(value(text, 'ts_queue_depth', probe)).toBe(0);
    expect(value(text, 'ts_workers', { ...probe, state: 'ready' })).toBe(1);
    const [worker] = [...server.gateway.registry.resolve('probe').pool.workers];
    const labels = { ...probe, worker_id: worker!.id };
    expect(value(text, 'ts_worker_resident_memory_bytes', labels)).toBeGreaterThan(10_000_000);
    expect(value(text, 'ts_worker_cpu_seconds_total', labels)).toBeGreaterThan(0);
    expect(value(text, 'ts_worker_load_duration_seconds', labels)).toBeGreaterThan(0);
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(value(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('counts responses by status class and failed requests by result', async () => {
    const before = await scrape();
    const errors = value(before, 'ts_http_responses_total', { api: 'inference', code: '4xx' });
    expect((await postJson(`${server.url}/predictions/nope`, {})).status).toBe(404);
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'throw' })).status).toBe(500);
    const after = await scrape();
    expect(value(after, 'ts_http_responses_total', { api: 'inference', code: '4xx' })).toBe(errors + 1);
    expect(value(after, 'ts_http_responses_total', { api: 'inference', code: '5xx' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'ts_inference_results_total', { ...probe, result: 'error' })).toBe(1);
  });

  it('counts a worker that died as a restart', async () => {
    await postJson(`${server.url}/predictions/probe`, { op: 'exit', code: 3 });
    await waitFor(async () => value(await scrape(), 'ts_worker_restarts_total', probe) === 1, 20_000, 'the restart to be counted');
    await waitFor(async () => value(await scrape(), 'ts_workers', { ...probe, state: 'ready' }) === 1, 20_000, 'a replacement worker');
  });

  it('filters families with name[] as TorchServe does', async () => {
    const text = await scrape(server, '?name[]=ts_inference_requests_total&name[]=ts_queue_depth&name[]=no_such_metric');
    expect(families(text)).toEqual(['ts_inference_requests_total', 'ts_queue_depth']);
  });

  it("exposes handlers' own metrics, recorded through context.metrics, with model labels", async () => {
    const meter = { model_name: 'meter', model_version: '1.0' };
    for (const kind of ['a', 'a', 'b']) await postJson(`${server.url}/predictions/meter`, { kind });
    const text = await scrape();
    expect(value(text, 'probe_requests_total', { ...meter, kind: 'a' })).toBe(2);
    expect(value(text, 'probe_requests_total', { ...meter, kind: 'b' })).toBe(1);
    expect(text).toContain('# HELP probe_requests_total Requests the metrics probe saw');
    expect(value(text, 'probe_last_batch_size', meter)).toBe(1);
    expect(samples(text, 'probe_payload_bytes_bucket', meter).map((s) => s.labels['le'])).toEqual(['8', '64', '512', '+Inf']);
    expect(value(text, 'probe_payload_bytes_count', meter)).toBe(3);
    expect(text).not.toContain('bad-name');
  });

  it('passes promtool check metrics', async () => {
    const r = await promtool(await scrape());
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});

describe("metrics_mode=prometheus adds TorchServe's names", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startServer({ store, models: ['probe.mar'], config: { metrics_mode: 'prometheus' } });
    for (let i = 0; i < 3; i++) await postJson(`${ts.url}/predictions/probe`, { op: 'echo' });
  });
  afterAll(() => ts?.stop());

  it('exports every TorchServe family with its labels', async () => {
    const text = await scrape(ts);
    const host = samples(text, 'ts_inference_requests_total', probe)[0]!.labels['hostname']!;
    expect(value(text, 'Requests2XX', { Level: 'Host', Hostname: host })).toBe(3);
    expect(value(text, 'ts_inference_latency_microseconds', { ...probe, hostname: host })).toBeGreaterThan(0);
    expect(value(text, 'ts_queue_latency_microseconds', { ...probe, hostname: host })).toBeGreaterThanOrEqual(0);
    for (const name of ['QueueTime', 'WorkerThreadTime']) expect(samples(text, name, { Level: 'Host', Hostname: host })).toHaveLength(1);
    for (const name of ['HandlerTime', 'PredictionTime']) expect(samples(text, name, { ModelName: 'probe', Level: 'Model', Hostname: host })).toHaveLength(1);
    const [load] = samples(text, 'WorkerLoadTime', { Level: 'Host', Hostname: host });
    expect(load!.labels['WorkerName']).toMatch(/^W-\d+-probe_1\.0$/);
    expect(load!.value).toBeGreaterThan(0);
  });

  it("fails promtool only on TorchServe's own names, as docs/metrics.md says", async () => {
    const r = await promtool(await scrape(ts));
    expect(r.exitCode).toBe(3);
    const offenders = new Set(r.stderr.trim().split('\n').map((l) => l.split(' ')[0]));
    expect([...offenders].sort()).toEqual(
      ['HandlerTime', 'PredictionTime', 'QueueTime', 'Requests2XX', 'Requests4XX', 'Requests5XX', 'WorkerLoadTime', 'WorkerThreadTime', 'ts_inference_latency_microseconds', 'ts_queue_latency_microseconds'].sort(),
    );
  });
});
