import { describe, expect, it } from 'vitest';
import { histogramQuantile, RingBuffer, VersionHistory, zeroSample, type VersionSample } from '@model-server/gateway';

const BOUNDS = [1, 2, 4, Infinity];

describe('histogramQuantile (Prometheus histogram_quantile)', () => {
  it('interpolates inside the bucket that holds the rank', () => {
    // 10 requests up to 1 ms, 20 in (1, 2], 10 in (2, 4].
    expect(histogramQuantile(0.5, BOUNDS, [10, 30, 40, 40])).toBeCloseTo(1.5, 12);
    expect(histogramQuantile(0.99, BOUNDS, [10, 30, 40, 40])).toBeCloseTo(3.92, 12);
    // The lowest bucket starts at 0.
    expect(histogramQuantile(0.1, BOUNDS, [10, 30, 40, 40])).toBeCloseTo(0.4, 12);
    expect(histogramQuantile(0.25, BOUNDS, [10, 30, 40, 40])).toBeCloseTo(1, 12);
  });

  it('answers the highest finite bound for a rank in the +Inf bucket, null for no data', () => {
    expect(histogramQuantile(0.99, BOUNDS, [10, 30, 40, 50])).toBe(4);
    expect(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0])).toBeNull();
    expect(histogramQuantile(0.5, [], [])).toBeNull();
  });
});

describe('RingBuffer', () => {
  it('keeps the newest items in order and drops the oldest', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.last()).toBeUndefined();
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect([ring.at(0), ring.at(2), ring.at(3), ring.at(-1), ring.last(), ring.length]).toEqual([3, 5, undefined, undefined, 5, 3]);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});

function sample(t: number, requests: number, latency: number[], batch: [number, number] = [0, 0]): VersionSample {
  return { ...zeroSample(t), requests, success: requests, latency, batchSum: batch[0], batchCount: batch[1] };
}

describe('VersionHistory', () => {
  it('takes rates, latency quantiles and batch means over a window of samples as differences of two', () => {
    const h = new VersionHistory(5, zeroSample(0));
    h.push(sample(1000, 10, [10, 10, 10, 10], [10, 5]));
    h.push(sample(2000, 30, [10, 30, 30, 30], [30, 10]));
    h.push(sample(3000, 60, [10, 30, 60, 60], [60, 15]));
    // The last second alone: 30 requests, all in (2, 4], 30 requests in 5 batches.
    expect(h.rate(1)).toBe(30);
    expect(h.latency(1, BOUNDS)).toEqual({ p50: 3, p99: 2 + 2 * 0.99, count: 30 });
    expect(h.batchMean(1)).toBe(6);
    // A window longer than the history starts from the zero sample taken at registration.
    expect(h.rate(60)).toBe(20);
    expect(h.latency(60, BOUNDS).count).toBe(60);
    expect(h.batchMean(60)).toBe(4);
  });

  it('forgets samples past its capacity and gives each series point its own window', () => {
    const h = new VersionHistory(3, zeroSample(0));
    for (let i = 1; i <= 4; i++) h.push(sample(i * 1000, i * 10, [i * 10, i * 10, i * 10, i * 10]));
    expect(h.length).toBe(3);
    const all = h.series(BOUNDS, 1, false);
    expect(all.t).toEqual([2, 3, 4]);
    expect(all.rps).toEqual([0, 10, 10]);
    expect(all.p50Ms).toEqual([null, 0.5, 0.5]);
    const last = h.series(BOUNDS, 1, true);
    expect(last.t).toEqual([4]);
    expect(last.rps).toEqual([10]);
  });
});
