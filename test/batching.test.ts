import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
const MAX_BATCH_DELAY_MS = 50;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'batched', config: `minWorkers: 2\nbatchSize: 8\nmaxBatchDelay: ${MAX_BATCH_DELAY_MS}\njobQueueSize: 500\n` });
  await buildModel(store, { name: 'triton', config: 'minWorkers: 1\nmax_batch_size: 4\nmax_queue_delay_microseconds: 2000000\npreferred_batch_size: [2]\n' });
  server = await startServer({ store, models: ['batched.mar', 'triton.mar'] });
});
afterAll(() => server?.stop());

interface Echo {
  value: number;
  batchSize: number;
  requestId: string;
  pid: number;
}

describe('dynamic batching', () => {
  it('forms batches under 64 concurrent requests, across two workers, and returns each result to its own request', async () => {
    const N = 64;
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const r = await postJson(`${server.url}/predictions/batched`, { op: 'echo', value: i * 7 + 1 });
        expect(r.status).toBe(200);
        const body = r.json as unknown as Echo;
        // The handler echoes each request's own input: a mix-up inside a batch would show here.
        expect(body.value).toBe(i * 7 + 1);
        expect(body.requestId).toBe(r.headers.get('x-request-id'));
        return body;
      }),
    );
    const sizes = results.map((r) => r.batchSize);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
    expect(new Set(results.map((r) => r.pid)).size).toBe(2);
    expect(new Set(results.map((r) => r.requestId)).size).toBe(N);
    const version = server.gateway.registry.resolve('batched');
    // Every request went out in exactly one batch.
    expect(version.statistics.batchedRequests).toBeGreaterThanOrEqual(N);
  });

  it('sends a lone request after at most maxBatchDelay plus the handler time', async () => {
    await postJson(`${server.url}/predictions/batched`, { op: 'echo' });
    const t0 = performance.now();
    const r = await postJson(`${server.url}/predictions/batched`, { op: 'echo', value: 5 });
    const elapsed = performance.now() - t0;
    expect(r.status).toBe(200);
    expect((r.json as unknown as Echo).batchSize).toBe(1);
    // Waits for the batch to fill, but no longer than the delay (plus a generous handler/HTTP allowance).
    expect(elapsed).toBeGreaterThanOrEqual(MAX_BATCH_DELAY_MS - 5);
    expect(elapsed).toBeLessThan(MAX_BATCH_DELAY_MS + 500);
  });

  it("sends a preferred batch size at once instead of waiting out Triton's max_queue_delay", async () => {
    const triton = server.gateway.registry.resolve('triton');
    expect(triton.settings).toMatchObject({ batchSize: 4, maxBatchDelayMs: 2000, preferredBatchSizes: [2] });
    const t0 = performance.now();
    const [a, b] = await Promise.all([
      postJson(`${server.url}/predictions/triton`, { op: 'echo', value: 1 }),
      postJson(`${server.url}/predictions/triton`, { op: 'echo', value: 2 }),
    ]);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect((a.json as unknown as Echo).batchSize).toBe(2);
    expect((b.json as unknown as Echo).value).toBe(2);
  });

  it('keeps batches of one kind: an explanation never shares a batch with predictions', async () => {
    const version = server.gateway.registry.resolve('batched');
    await waitFor(() => version.queueSize === 0);
    const [p, e] = await Promise.all([
      postJson(`${server.url}/predictions/batched`, { op: 'echo', value: 1 }),
      postJson(`${server.url}/explanations/batched`, { op: 'echo', value: 2 }),
    ]);
    expect((p.json['headers'] as Record<string, string>)['explain']).toBe('False');
    expect((e.json['headers'] as Record<string, string>)['explain']).toBe('True');
    expect([(p.json as unknown as Echo).batchSize, (e.json as unknown as Echo).batchSize]).toEqual([1, 1]);
  });
});
