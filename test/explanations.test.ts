import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Explanation as SdkExplanation } from '@model-server/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

const MNIST = join(ROOT, 'examples', 'mnist');

/** The SDK's explanation, with the 28x28 attribution map of an mnist digit. */
type Explanation = Omit<SdkExplanation, 'attributions'> & { attributions: number[][] };

let server: TestServer;
let digits: { pixels: Float32Array; label: number }[];
let toPng: (pixels: ArrayLike<number>) => Buffer;

beforeAll(async () => {
  const store = await tempDir();
  // The example's own model-config.yaml, explain: section included.
  const config = readFileSync(join(MNIST, 'model-config.yaml'), 'utf8');
  await buildModel(store, { name: 'mnist', handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx'), config });
  await buildModel(store, { name: 'identity', handler: 'onnx_generic', serializedFile: join(ROOT, 'examples', 'identity', 'identity.onnx'), config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['mnist.mar', 'identity.mar'] });
  const split = await import('../scripts/lib/mnist-split.mjs');
  const held = split.heldOutSet();
  // One of each digit, spread over the held-out set.
  digits = Array.from({ length: 10 }, (_, d) => held.find((s, i) => s.label === d && i % 7 === 3)!);
  toPng = split.toPngBuffer;
});
afterAll(() => server?.stop());

/** Mean attribution over stroke pixels (ink > 0.5) and over background pixels (no ink at all). */
function strokeVsBackground(pixels: Float32Array, map: number[][]): { stroke: number; background: number } {
  let stroke = 0;
  let strokeN = 0;
  let background = 0;
  let backgroundN = 0;
  for (let i = 0; i < 784; i++) {
    const a = map[Math.floor(i / 28)]![i % 28]!;
    if (pixels[i]! > 0.5) {
      stroke += a;
      strokeN++;
    } else if (pixels[i] === 0) {
      background += a;
      backgroundN++;
    }
  }
  return { stroke: stroke / strokeN, background: background / backgroundN };
}

describe('explanations (occlusion, no gradients)', () => {
  it('returns a 28x28 attribution map for a digit image whose strongest region lies on the strokes', async () => {
    for (const digit of digits) {
      // The explained class is the one the model predicts (which is the label for most digits).
      const predicted = (await (await fetch(`${server.url}/predictions/mnist`, { method: 'POST', body: toPng(digit.pixels) })).json()) as number;
      const res = await fetch(`${server.url}/explanations/mnist`, { method: 'POST', body: toPng(digit.pixels) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const e = (await res.json()) as Explanation;
      expect(e).toMatchObject({ method: 'occlusion', input: 'input', output: 'logits', target: predicted, featureShape: [28, 28] });
      expect(e.attributions).toHaveLength(28);
      for (const row of e.attributions) expect(row).toHaveLength(28);
      const { stroke, background } = strokeVsBackground(digit.pixels, e.attributions);
      expect(stroke, `digit ${digit.label}`).toBeGreaterThan(background);
      // 13 x 13 windows of 4x4 every 2 pixels, 64 per run: the unperturbed run plus 3.
      expect([e.windows, e.runs]).toEqual([169, 4]);
    }
  });

  it('explains through the versioned path and KServe v1 :explain alike', async () => {
    const digit = digits[7]!;
    const direct = (await (await fetch(`${server.url}/explanations/mnist/1.0`, { method: 'POST', body: toPng(digit.pixels) })).json()) as Explanation;
    const res = await fetch(`${server.url}/v1/models/mnist:explain`, {
      method: 'POST',
      body: JSON.stringify({ instances: [{ b64: toPng(digit.pixels).toString('base64') }, { data: toPng(digits[3]!.pixels).toString('base64') }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { explanations: Explanation[] };
    expect(body.explanations).toHaveLength(2);
    expect(body.explanations[0]).toEqual(direct);
    expect(body.explanations[1]!.featureShape).toEqual([28, 28]);
  });

  it('refuses to explain a non-tensor body for a plain ONNX model with 400', async () => {
    const res = await fetch(`${server.url}/explanations/identity`, { method: 'POST', body: 'not a tensor' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/takes tensors/);
  });
});
