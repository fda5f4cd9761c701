import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestChunked } from './helpers/chunked.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

interface Sample {
  pixels: Float32Array;
  label: number;
}
const split = (await import(join(ROOT, 'scripts/lib/mnist-split.mjs'))) as {
  heldOutSet(): readonly Sample[];
  toPngBuffer(pixels: ArrayLike<number>): Buffer;
};

let server: TestServer;

beforeAll(async () => {
  const store = await tempDir();
  for (const name of ['mnist', 'echo_stream']) {
    const dir = join(ROOT, 'examples', name);
    await buildModel(store, {
      name,
      handler: join(dir, 'handler.ts'),
      serializedFile: name === 'mnist' ? join(dir, 'mnist.onnx') : undefined,
      config: readFileSync(join(dir, 'model-config.yaml'), 'utf8'),
    });
  }
  server = await startServer({ store, models: ['all'] });
});
afterAll(() => server?.stop());

describe('mnist example', () => {
  it('answers the digit of a PNG (curl -T style raw body)', async () => {
    const sample = split.heldOutSet()[0]!;
    const res = await fetch(`${server.url}/predictions/mnist`, { method: 'POST', body: split.toPngBuffer(sample.pixels) });
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(sample.label);
  });

  it('reaches at least 95% accuracy on the held-out split through the running server', async () => {
    const samples = split.heldOutSet();
    let correct = 0;
    const CONCURRENCY = 32;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < samples.length) {
          const s = samples[next++]!;
          const form = new FormData();
          form.append('data', new Blob([split.toPngBuffer(s.pixels)], { type: 'image/png' }), 'digit.png');
          const res = await fetch(`${server.url}/predictions/mnist`, { method: 'POST', body: form });
          expect(res.status).toBe(200);
          if ((await res.json()) === s.label) correct++;
        }
      }),
    );
    const accuracy = correct / samples.length;
    expect(samples.length).toBeGreaterThan(1000);
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('answers 400 with a clear message for bytes that are not an image', async () => {
    const res = await fetch(`${server.url}/predictions/mnist`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/not a PNG or JPEG/);
  });
});

describe('echo_stream example', () => {
  it('streams several HTTP chunks in order, then the final part', async () => {
    const res = await requestChunked(`${server.url}/predictions/echo_stream`, 'x', { 'content-type': 'text/plain' });
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.terminated).toBe(true);
    const parts = res.chunks.map((c) => c.toString());
    expect(parts).toEqual(['hello', 'hello', 'hello', 'hello', 'world ']);
    expect(parts.join(' ')).toBe('hello hello hello hello world ');
  });
});
