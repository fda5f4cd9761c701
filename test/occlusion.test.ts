import { BUILTIN_HANDLERS } from '@model-server/model-archiver';
import { nest, occlusion, readExplainConfig, resolveWindows } from '@model-server/sdk';
import { BUILTIN_HANDLER_NAMES } from '@model-server/archive';
import { describe, expect, it } from 'vitest';

/** A linear "model": score = sum of w_i * x_i per example, with a record of each call's row count. */
function linear(weights: number[]) {
  const calls: number[] = [];
  const score = async (batch: Float32Array | Float64Array, rows: number) => {
    calls.push(rows);
    const n = weights.length;
    return Array.from({ length: rows }, (_, r) => weights.reduce((sum, w, i) => sum + w * batch[r * n + i]!, 0));
  };
  return { score, calls };
}

describe('occlusion', () => {
  it('gives w_i * x_i for a linear model with one-feature windows and a zero baseline', async () => {
    const weights = [1, -2, 0.5, 3, 0, 4];
    const input = Float64Array.from([2, 1, 4, -1, 7, 0.25]);
    const { score } = linear(weights);
    const r = await occlusion(input, score, { featureShape: [6], window: [1], stride: [1], baseline: 0, maxBatch: 4 });
    expect(Array.from(r.attributions)).toEqual(weights.map((w, i) => w * input[i]!));
    expect(r.baseScore).toBe(weights.reduce((s, w, i) => s + w * input[i]!, 0));
  });

  it('averages the drop over the overlapping windows that cover each feature, in 2-D', async () => {
    // 3x3 input of ones, score = sum of all features; 2x2 windows every 1: 4 windows, each drop 4.
    const { score } = linear(new Array(9).fill(1));
    const r = await occlusion(new Float32Array(9).fill(1), score, { featureShape: [3, 3], window: [2, 2], stride: [1, 1], baseline: 0, maxBatch: 64 });
    expect(r.windows).toBe(4);
    expect(Array.from(r.attributions)).toEqual(new Array(9).fill(4));
    expect(nest(r.attributions, [3, 3])).toEqual([[4, 4, 4], [4, 4, 4], [4, 4, 4]]);
  });

  it('scores perturbed copies in batches of maxBatch, with the same result for any batch size', async () => {
    const weights = Array.from({ length: 16 }, (_, i) => (i % 5) - 2);
    const input = Float32Array.from({ length: 16 }, (_, i) => i / 4);
    const results = [];
    for (const maxBatch of [1, 3, 100]) {
      const { score, calls } = linear(weights);
      const r = await occlusion(input, score, { featureShape: [4, 4], window: [2, 2], stride: [1, 1], baseline: 0.5, maxBatch });
      expect(calls[0]).toBe(1);
      expect(calls.slice(1)).toEqual(Array.from({ length: Math.ceil(9 / maxBatch) }, (_, i) => Math.min(maxBatch, 9 - i * maxBatch)));
      expect(r.scoreCalls).toBe(calls.length);
      results.push(Array.from(r.attributions));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('stops between runs once aborted', async () => {
    const controller = new AbortController();
    const { score } = linear([1, 1, 1, 1]);
    const aborting = async (batch: Float32Array | Float64Array, rows: number) => {
      controller.abort(new Error('client left'));
      return score(batch, rows);
    };
    await expect(occlusion(new Float32Array(4), aborting, { featureShape: [4], window: [1], stride: [1], baseline: 0, maxBatch: 1, signal: controller.signal })).rejects.toThrow('client left');
  });

  it('rejects a feature shape or window that does not fit the input', async () => {
    const { score } = linear([1, 1, 1, 1]);
    const base = { stride: [1], baseline: 0, maxBatch: 1 };
    await expect(occlusion(new Float32Array(4), score, { ...base, featureShape: [5], window: [1] })).rejects.toThrow(/holds 5 features/);
    await expect(occlusion(new Float32Array(4), score, { ...base, featureShape: [4], window: [5] })).rejects.toThrow(/window\[0\]/);
  });
});

describe('explain: section of model-config.yaml', () => {
  it('applies defaults: occlusion, window 4, stride 1 (feature_ablation: stride = window)', () => {
    const c = readExplainConfig({});
    expect(c).toMatchObject({ method: 'occlusion', window: 4, baseline: 0, maxBatch: 64 });
    expect(resolveWindows(c, [28, 28])).toEqual({ window: [4, 4], stride: [1, 1] });
    expect(resolveWindows(readExplainConfig({ explain: { method: 'feature_ablation', window: [7, 4] } }), [28, 28])).toEqual({ window: [7, 4], stride: [7, 4] });
  });

  it.each([
    [{ method: 'saliency' }, /explain.method must be "occlusion" or "feature_ablation"/],
    [{ window: [0, 2] }, /explain.window must be a positive integer or a list of them/],
    [{ baseline: 'black' }, /explain.baseline must be a number/],
    [{ maxBatch: 0 }, /explain.maxBatch must be a positive integer/],
    [{ target: -1 }, /explain.target must be a non-negative integer/],
  ])('names the key of a bad value: %j', (section, message) => {
    expect(() => readExplainConfig({ explain: section })).toThrow(message);
  });
});

describe('built-in handlers', () => {
  it('are the same names for the archiver and the worker', () => {
    expect([...BUILTIN_HANDLERS].sort()).toEqual([...BUILTIN_HANDLER_NAMES].sort());
  });
});
