import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { startPrometheus, type QueryResult, type TestPrometheus } from './helpers/prometheus.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const REQUESTS = 7;

let server: TestServer;
let prometheus: TestPrometheus | undefined;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['probe.mar'] });
  prometheus = await startPrometheus(new URL(server.metrics).host);
});
afterAll(async () => {
  await prometheus?.stop();
  await server?.stop();
});

describe('a real Prometheus scraping /metrics', () => {
  it('returns the request count the test sent through its query API', async () => {
    for (let i = 0; i < REQUESTS; i++) expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
    let last: QueryResult | undefined;
    await waitFor(
      async () => {
        last = await prometheus!.query('ts_inference_requests_total{model_name="probe",model_version="1.0"}');
        return last.data.result[0]?.value[1] === String(REQUESTS);
      },
      30_000,
      `Prometheus to see ${REQUESTS} requests`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last answer ${JSON.stringify(last)}; prometheus log: ${prometheus!.log()}`);
    });
    const { metric } = last!.data.result[0]!;
    expect(metric).toMatchObject({ job: 'model-server', model_name: 'probe', model_version: '1.0' });
    const up = await prometheus!.query('up{job="model-server"}');
    expect(up.data.result[0]?.value[1]).toBe('1');
    const p50 = await prometheus!.query('histogram_quantile(0.5, sum by (le) (ts_request_duration_seconds_bucket{model_name="probe"}))');
    expect(Number(p50.data.result[0]?.value[1])).toBeGreaterThan(0);
  });
});
