import type { Registry } from 'prom-client';
import { FastHistogramFamily, FastValueFamily } from '../metrics/fast-metrics.js';

/** A version's cumulative counters, as /metrics shows them at the moment they are read. */
export interface VersionCounters {
  requests: number;
  success: number;
  error: number;
  timeout: number;
  cancelled: number;
  /** ts_request_duration_seconds: cumulative bucket counts, in the order of `latencyBounds` (+Inf last). */
  latency: number[];
  batchSum: number;
  batchCount: number;
}

export interface CounterReading {
  /** Upper bounds of the latency buckets in milliseconds, ascending, Infinity last. */
  latencyBounds: number[];
  byVersion: Map<string, VersionCounters>;
}

type Labels = Readonly<Record<string, string>>;

const MS_PER_S = 1000;

/** The key a version's counters are filed under. */
export function versionKey(model: string, version: string): string {
  return `${model}\u0000${version}`;
}

const keyOf = (labels: Labels): string => versionKey(labels['model_name'] ?? '', labels['model_version'] ?? '');

function family<T>(registry: Registry, name: string, type: abstract new (...args: never[]) => T): T | undefined {
  const metric: unknown = registry.getSingleMetric(name);
  return metric instanceof type ? metric : undefined;
}

/**
 * Reads every version's request counters and histograms from the series `/metrics` renders (the
 * gateway's own fast families, in the registry under their exposition names): nothing is counted twice
 * on the request path, and the page's figures are those of /metrics by construction. The raw series
 * are read, not rendered (rendering a histogram costs about 2 µs per bucket); once a second this costs
 * a few microseconds per version.
 */
export function readCounters(registry: Registry): CounterReading {
  const byVersion = new Map<string, VersionCounters>();
  const duration = family(registry, 'ts_request_duration_seconds', FastHistogramFamily);
  const latencyBounds = duration ? [...duration.bounds.map((b) => b * MS_PER_S), Infinity] : [];
  const entry = (labels: Labels): VersionCounters => {
    const key = keyOf(labels);
    let c = byVersion.get(key);
    if (!c) {
      c = { requests: 0, success: 0, error: 0, timeout: 0, cancelled: 0, latency: new Array<number>(latencyBounds.length).fill(0), batchSum: 0, batchCount: 0 };
      byVersion.set(key, c);
    }
    return c;
  };
  for (const s of family(registry, 'ts_inference_requests_total', FastValueFamily)?.all() ?? []) entry(s.labels).requests += s.value;
  for (const s of family(registry, 'ts_inference_results_total', FastValueFamily)?.all() ?? []) {
    const result = s.labels['result'];
    if (result === 'success' || result === 'error' || result === 'timeout' || result === 'cancelled') entry(s.labels)[result] += s.value;
  }
  for (const s of duration?.all() ?? []) {
    const latency = entry(s.labels).latency;
    let acc = 0;
    for (let i = 0; i < s.counts.length; i++) latency[i] = acc += s.counts[i]!;
    latency[latencyBounds.length - 1] = s.count;
  }
  for (const s of family(registry, 'ts_batch_size', FastHistogramFamily)?.all() ?? []) {
    const c = entry(s.labels);
    c.batchSum = s.sum;
    c.batchCount = s.count;
  }
  return { latencyBounds, byVersion };
}
