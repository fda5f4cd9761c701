import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { prometheusTool } from './helpers/prom-text.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const REQUESTS = 7;

let server: TestServer;
let prometheus: ResultPromise | undefined;
let promUrl: string;
let promLog = '';

/** A loopback port that was free a moment ago (Prometheus cannot report a port it picked itself). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface QueryResult {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(promql: string): Promise<QueryResult> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return (await res.json()) as QueryResult;
}

beforeAll(async () => {
  const binary = prometheusTool('prometheus');
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['probe.mar'] });
  const dir = await tempDir('ms-prometheus-');
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: model-server',
      `    static_configs: [{ targets: ['${new URL(server.metrics).host}'] }]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = execa(binary, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  prometheus.stderr?.on('data', (d: Buffer) => {
    promLog = (promLog + d.toString()).slice(-4000);
  });
  await waitFor(
    async () => {
      if (prometheus?.exitCode !== null && prometheus?.exitCode !== undefined) throw new Error(`prometheus exited: ${promLog}`);
      return (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.status === 200;
    },
    30_000,
    'prometheus to be ready',
  );
});
afterAll(async () => {
  if (prometheus?.pid) {
    prometheus.kill('SIGTERM');
    await prometheus;
  }
  await server?.stop();
});

describe('a real Prometheus scraping /metrics', () => {
  it('returns the request count the test sent through its query API', async () => {
    for (let i = 0; i < REQUESTS; i++) expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
    let last: QueryResult | undefined;
    await waitFor(
      async () => {
        last = await query('ts_inference_requests_total{model_name="probe",model_version="1.0"}');
        return last.data.result[0]?.value[1] === String(REQUESTS);
      },
      30_000,
      `Prometheus to see ${REQUESTS} requests`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer ${JSON.stringify(last)}; prometheus log: ${promLog}`);
    });
    const { metric } = last!.data.result[0]!;
    expect(metric).toMatchObject({ job: 'model-server', model_name: 'probe', model_version: '1.0' });
    const up = await query('up{job="model-server"}');
    expect(up.data.result[0]?.value[1]).toBe('1');
    const p50 = await query('histogram_quantile(0.5, sum by (le) (ts_request_duration_seconds_bucket{model_name="probe"}))');
    expect(Number(p50.data.result[0]?.value[1])).toBeGreaterThan(0);
  });
});
