import { histogramQuantile } from './histogram-quantile.js';
import type { VersionCounters } from './metric-reader.js';
import { RingBuffer } from './ring-buffer.js';
import type { VersionSeries } from './summary-types.js';

/** One sample of a version: its cumulative counters plus the gauges read at the same moment. */
export interface VersionSample extends VersionCounters {
  /** Epoch ms. */
  t: number;
  queue: number;
  inFlight: number;
}

/** The sample a version starts from: every counter series is created at 0 when it is registered. */
export function zeroSample(t: number): VersionSample {
  return { t, requests: 0, success: 0, error: 0, timeout: 0, cancelled: 0, latency: [], batchSum: 0, batchCount: 0, queue: 0, inFlight: 0 };
}

const MS_PER_S = 1000;

function perSecond(to: number, from: number, ms: number): number {
  return ms > 0 ? ((to - from) * MS_PER_S) / ms : 0;
}

/** Bucket counts of `to` minus those of `from` (a shorter array counts as zeros). */
function bucketDelta(to: readonly number[], from: readonly number[]): number[] {
  return to.map((n, i) => n - (from[i] ?? 0));
}

/**
 * A version's recent past: one sample a second in a ring buffer, from which rates, latency quantiles
 * and mean batch sizes over any window are differences of two samples (no per-request work).
 */
export class VersionHistory {
  private readonly samples: RingBuffer<VersionSample>;

  constructor(capacity: number, first: VersionSample) {
    this.samples = new RingBuffer(capacity);
    this.samples.push(first);
  }

  push(sample: VersionSample): void {
    this.samples.push(sample);
  }

  get latest(): VersionSample {
    return this.samples.last()!;
  }

  get length(): number {
    return this.samples.length;
  }

  /** The sample `windowS` samples before the newest, or the oldest one kept. */
  private baseline(windowS: number, newest = this.samples.length - 1): VersionSample {
    return this.samples.at(Math.max(0, newest - windowS))!;
  }

  /** Requests accepted per second over the last `windowS` samples. */
  rate(windowS: number): number {
    const to = this.latest;
    const from = this.baseline(windowS);
    return perSecond(to.requests, from.requests, to.t - from.t);
  }

  /** p50 and p99 latency (ms) over the last `windowS` samples, with the number of requests they cover. */
  latency(windowS: number, bounds: readonly number[], newest = this.samples.length - 1): { p50: number | null; p99: number | null; count: number } {
    const to = this.samples.at(newest)!;
    const delta = bucketDelta(to.latency, this.baseline(windowS, newest).latency);
    return { p50: histogramQuantile(0.5, bounds, delta), p99: histogramQuantile(0.99, bounds, delta), count: delta[delta.length - 1] ?? 0 };
  }

  /** Mean requests per batch over the last `windowS` samples; null when no batch ran. */
  batchMean(windowS: number): number | null {
    const to = this.latest;
    const from = this.baseline(windowS);
    const batches = to.batchCount - from.batchCount;
    return batches > 0 ? (to.batchSum - from.batchSum) / batches : null;
  }

  /** The history as chart series, each point's latency over the `latencyWindowS` samples up to it; `lastOnly` for the newest point alone. */
  series(bounds: readonly number[], latencyWindowS: number, lastOnly: boolean): VersionSeries {
    const out: VersionSeries = { t: [], rps: [], errorsPerS: [], p50Ms: [], p99Ms: [], queue: [], inFlight: [], batchMean: [] };
    const n = this.samples.length;
    for (let i = lastOnly ? n - 1 : 0; i < n; i++) {
      const s = this.samples.at(i)!;
      const prev = this.samples.at(i - 1) ?? s;
      const ms = s.t - prev.t;
      const { p50, p99 } = this.latency(latencyWindowS, bounds, i);
      const batches = s.batchCount - prev.batchCount;
      out.t.push(Math.round(s.t / 100) / 10);
      out.rps.push(perSecond(s.requests, prev.requests, ms));
      out.errorsPerS.push(perSecond(s.error + s.timeout, prev.error + prev.timeout, ms));
      out.p50Ms.push(p50);
      out.p99Ms.push(p99);
      out.queue.push(s.queue);
      out.inFlight.push(s.inFlight);
      out.batchMean.push(batches > 0 ? (s.batchSum - prev.batchSum) / batches : null);
    }
    return out;
  }
}
