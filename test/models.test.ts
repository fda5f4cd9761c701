// Guards the example models the server tests depend on: the committed MNIST
// model must keep its accuracy margin, and gen-models must keep producing
// models that onnxruntime-node accepts with the expected signatures.

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

function argmax(values: ArrayLike<number>, from: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[from + i]! > values[from + best]!) best = i;
  return best;
}

describe('examples/mnist/mnist.onnx', () => {
  it('classifies the held-out digits with >= 95 % accuracy', async () => {
    const { heldOutSet, PIXELS } = await import('../scripts/lib/mnist-split.mjs');
    const samples = heldOutSet();
    const session = await InferenceSession.create(join(ROOT, 'examples/mnist/mnist.onnx'), { intraOpNumThreads: 1 });
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['logits']);
      let correct = 0;
      const batchSize = 250;
      for (let start = 0; start < samples.length; start += batchSize) {
        const batch = samples.slice(start, start + batchSize);
        const input = new Float32Array(batch.length * PIXELS);
        batch.forEach((s, i) => input.set(s.pixels, i * PIXELS));
        const { logits } = await session.run({ input: new Tensor('float32', input, [batch.length, PIXELS]) });
        expect(logits!.dims).toEqual([batch.length, 10]);
        const data = logits!.data as Float32Array;
        batch.forEach((s, i) => {
          if (argmax(data, i * 10, 10) === s.label) correct++;
        });
      }
      // A fixed index-based split of 10k digits, so this never flakes.
      expect(samples.length).toBeGreaterThan(1900);
      expect(correct / samples.length).toBeGreaterThanOrEqual(0.95);
    } finally {
      await session.release();
    }
  }, 60_000);

  it('toPngBuffer encodes a digit as an 8-bit 28x28 grayscale PNG, exact up to rounding', async () => {
    const { heldOutSet, toPngBuffer, PIXELS } = await import('../scripts/lib/mnist-split.mjs');
    const sample = heldOutSet()[0]!;
    const png = PNG.sync.read(toPngBuffer(sample.pixels));
    expect([png.width, png.height, png.colorType, png.depth]).toEqual([28, 28, 0, 8]);
    // pngjs always decodes to RGBA; every channel carries the gray value.
    const decoded = new Float32Array(PIXELS);
    for (let i = 0; i < PIXELS; i++) decoded[i] = png.data[i * 4]! / 255;
    for (let i = 0; i < PIXELS; i++) expect(Math.abs(decoded[i]! - sample.pixels[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
  });
});

describe('scripts/gen-models.mjs', () => {
  let outDir = '';

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'gen-models-'));
    await run(process.execPath, [join(ROOT, 'scripts/gen-models.mjs'), outDir]);
  }, 60_000);

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('identity.onnx round-trips FP32, INT64, BOOL and STRING tensors', async () => {
    const session = await InferenceSession.create(join(outDir, 'identity/identity.onnx'), { intraOpNumThreads: 1 });
    try {
      const fp32 = new Tensor('float32', new Float32Array([1.5, -2.25, 3e38, 0]), [2, 2]);
      const int64 = new Tensor('int64', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]), [1, 3]);
      const bool = new Tensor('bool', new Uint8Array([1, 0, 1]), [3, 1]);
      const text = new Tensor('string', ['hello', '', 'ünïcødé ✓'], [1, 3]);
      // onnxruntime-node refuses a run that does not feed every graph input,
      // so the datatypes not under test get a 1x1 placeholder.
      const feeds: Record<string, Tensor> = {
        bool_in: bool,
        uint8_in: new Tensor('uint8', new Uint8Array([1]), [1, 1]),
        uint16_in: new Tensor('uint16', new Uint16Array([1]), [1, 1]),
        uint32_in: new Tensor('uint32', new Uint32Array([1]), [1, 1]),
        uint64_in: new Tensor('uint64', new BigUint64Array([1n]), [1, 1]),
        int8_in: new Tensor('int8', new Int8Array([1]), [1, 1]),
        int16_in: new Tensor('int16', new Int16Array([1]), [1, 1]),
        int32_in: new Tensor('int32', new Int32Array([1]), [1, 1]),
        int64_in: int64,
        fp16_in: new Tensor('float16', new Uint16Array([0x3c00]), [1, 1]),
        fp32_in: fp32,
        fp64_in: new Tensor('float64', new Float64Array([1]), [1, 1]),
        bytes_in: text,
      };
      expect([...session.inputNames].sort()).toEqual(Object.keys(feeds).sort());
      const out = await session.run(feeds);
      for (const [name, input] of Object.entries(feeds)) {
        const output = out[name.replace(/_in$/, '_out')]!;
        expect(output.type, name).toBe(input.type);
        expect(output.dims, name).toEqual(input.dims);
        expect(Array.from(output.data as ArrayLike<unknown>), name).toEqual(Array.from(input.data as ArrayLike<unknown>));
      }
    } finally {
      await session.release();
    }
  });

  it('heavy.onnx maps a batch of 4 x 512 to 4 x 10', async () => {
    const session = await InferenceSession.create(join(outDir, 'heavy/heavy.onnx'), { intraOpNumThreads: 1 });
    try {
      const input = Float32Array.from({ length: 4 * 512 }, (_, i) => Math.sin(i));
      const { output } = await session.run({ input: new Tensor('float32', input, [4, 512]) });
      expect(output!.dims).toEqual([4, 10]);
      expect((output!.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
  });
});
