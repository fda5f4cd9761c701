import type { ModelRegistry } from '../registry/model-registry.js';
import type { ModelVersion } from '../models/model-version.js';
import type { WorkerStats } from './process-watch.js';
import type { ErrorEntry, ServerSummary, StatusSummary, SummaryWindows, VersionSummary } from './summary-types.js';
import type { VersionHistory } from './version-history.js';
import type { WorkerProcess } from '../workers/worker-process.js';

export type { StatusSummary } from './summary-types.js';

/** What the sampler keeps per registered version. */
export interface TrackedVersion {
  history: VersionHistory;
  errorsByCode: Map<string, number>;
}

/** `full`: whole series (a page that just connected); `last`: the newest point (stream ticks); `none`: no series (the CLI). */
export type SeriesMode = 'full' | 'last' | 'none';

export interface SummaryInput {
  seq: number;
  time: number;
  windows: SummaryWindows;
  server: ServerSummary;
  registry: ModelRegistry;
  tracked: (version: ModelVersion) => TrackedVersion | undefined;
  worker: (worker: WorkerProcess) => WorkerStats;
  errors: ErrorEntry[];
  /** Upper bounds (ms) of the latency histogram's buckets. */
  latencyBounds: readonly number[];
  series: SeriesMode;
}

const SIGNIFICANT_DIGITS = 4;

/** Figures rounded for the wire: four significant digits say all a chart or a table can show. */
function round(x: number): number {
  if (!Number.isFinite(x) || x === 0 || Number.isInteger(x)) return x;
  return Number(x.toPrecision(SIGNIFICANT_DIGITS));
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}

function describeVersion(v: ModelVersion, isDefault: boolean, input: SummaryInput): VersionSummary {
  const tracked = input.tracked(v);
  const { windows, latencyBounds } = input;
  const s = v.settings;
  const workers = [...v.pool.workers].map((w) => {
    const stats = input.worker(w);
    return {
      id: w.id,
      state: w.state,
      pid: w.pid ?? null,
      rssBytes: stats.rssBytes,
      cpuPercent: roundOrNull(stats.cpuPercent),
      startedAt: w.startedAt.getTime(),
      loadTimeMs: Math.round(w.loadTimeMs),
    };
  });
  const history = tracked?.history;
  const latest = history?.latest;
  const latency = history ? history.latency(windows.latencyS, latencyBounds) : { p50: null, p99: null, count: 0 };
  const summary: VersionSummary = {
    version: v.version,
    isDefault,
    state: v.pool.state,
    url: v.url,
    settings: { minWorkers: s.minWorkers, maxWorkers: s.maxWorkers, batchSize: s.batchSize, maxBatchDelayMs: s.maxBatchDelayMs, responseTimeoutMs: s.responseTimeoutMs },
    targetWorkers: v.pool.target,
    liveWorkers: v.pool.liveCount,
    workers,
    restarts: v.pool.restarts,
    queue: { depth: v.queueSize, limit: v.queueCapacity },
    inFlight: v.inFlightCount,
    totals: {
      requests: latest?.requests ?? 0,
      success: latest?.success ?? 0,
      error: latest?.error ?? 0,
      timeout: latest?.timeout ?? 0,
      cancelled: latest?.cancelled ?? 0,
    },
    rps: round(history?.rate(windows.rateS) ?? 0),
    latencyMs: { p50: roundOrNull(latency.p50), p99: roundOrNull(latency.p99), count: latency.count },
    batch: {
      mean: roundOrNull(history?.batchMean(windows.latencyS) ?? null),
      sizes: v.statistics.batchStats().map((b) => ({ size: b.batchSize, count: b.computeInfer.count })),
    },
    errorsByCode: Object.fromEntries([...(tracked?.errorsByCode ?? [])].sort(([a], [b]) => a.localeCompare(b))),
  };
  if (history && input.series !== 'none') {
    const series = history.series(latencyBounds, windows.seriesLatencyS, input.series === 'last');
    for (const key of ['rps', 'errorsPerS', 'p50Ms', 'p99Ms', 'batchMean'] as const) {
      const values = series[key] as (number | null)[];
      for (let i = 0; i < values.length; i++) values[i] = roundOrNull(values[i]!);
    }
    summary.series = series;
  }
  return summary;
}

/**
 * The one summary of the server: every model and version (state, workers, queue, rates, latency,
 * batching, errors, history), the server process, and the last errors. The dashboard page, its event
 * stream and `model-server status` all show this object; nothing else computes these figures.
 */
export function buildSummary(input: SummaryInput): StatusSummary {
  const { registry } = input;
  const models = registry.names().map((name) => {
    const defaultVersion = registry.defaultVersionOf(name) ?? '';
    const versions = registry
      .versionsOf(name)
      .sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true }))
      .map((v) => describeVersion(v, v.version === defaultVersion, input));
    return { name, defaultVersion, versions };
  });
  return {
    schema: 1,
    seq: input.seq,
    time: input.time,
    fullSeries: input.series === 'full',
    windows: input.windows,
    server: input.server,
    models,
    errors: input.errors,
  };
}
