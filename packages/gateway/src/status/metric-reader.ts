import type { Registry } from 'prom-client';

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

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

const MS_PER_S = 1000;

/** The key a version's counters are filed under. */
export function versionKey(model: string, version: string): string {
  return `${model}\u0000${version}`;
}

async function values(registry: Registry, name: string): Promise<Value[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return ((await metric.get()) as { values: Value[] }).values;
}

function keyOf(v: Value): string {
  return versionKey(String(v.labels['model_name']), String(v.labels['model_version']));
}

const empty = (buckets: number): VersionCounters => ({
  requests: 0,
  success: 0,
  error: 0,
  timeout: 0,
  cancelled: 0,
  latency: new Array<number>(buckets).fill(0),
  batchSum: 0,
  batchCount: 0,
});

/**
 * Reads every version's request counters and histograms from the registry `/metrics` renders, through
 * the same `get()` its exposition uses: nothing is counted twice on the request path, and the page's
 * figures are those of /metrics by construction. Costs a few hundred small objects; meant for once a second.
 */
export async function readCounters(registry: Registry): Promise<CounterReading> {
  const [requests, results, duration, batch] = await Promise.all([
    values(registry, 'ts_inference_requests_total'),
    values(registry, 'ts_inference_results_total'),
    values(registry, 'ts_request_duration_seconds'),
    values(registry, 'ts_batch_size'),
  ]);
  const latencyBounds: number[] = [];
  const bucketName = 'ts_request_duration_seconds_bucket';
  const firstKey = duration.find((v) => v.metricName === bucketName);
  if (firstKey) {
    const key = keyOf(firstKey);
    for (const v of duration) {
      if (v.metricName !== bucketName || keyOf(v) !== key) continue;
      const le = String(v.labels['le']);
      latencyBounds.push(le === '+Inf' ? Infinity : Number(le) * MS_PER_S);
    }
  }
  const byVersion = new Map<string, VersionCounters>();
  const entry = (v: Value): VersionCounters => {
    const key = keyOf(v);
    let c = byVersion.get(key);
    if (!c) {
      c = empty(latencyBounds.length);
      byVersion.set(key, c);
    }
    return c;
  };
  for (const v of requests) entry(v).requests += v.value;
  for (const v of results) {
    const c = entry(v);
    const result = v.labels['result'];
    if (result === 'success' || result === 'error' || result === 'timeout' || result === 'cancelled') c[result] += v.value;
  }
  // Buckets come in ascending order per series (the exposition's own order).
  const bucketIndex = new Map<string, number>();
  for (const v of duration) {
    if (v.metricName !== bucketName) continue;
    const c = entry(v);
    const key = keyOf(v);
    const i = bucketIndex.get(key) ?? 0;
    if (i < c.latency.length) c.latency[i] = v.value;
    bucketIndex.set(key, i + 1);
  }
  for (const v of batch) {
    if (v.metricName === 'ts_batch_size_sum') entry(v).batchSum = v.value;
    else if (v.metricName === 'ts_batch_size_count') entry(v).batchCount = v.value;
  }
  return { latencyBounds, byVersion };
}
