import { hostname } from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { MetricEntry } from '@model-server/protocol';
import type { Logger } from '../logging/logger.js';
import type { ModelVersion } from '../models/model-version.js';
import type { InferenceJob } from '../scheduling/job.js';
import { POOL_STATES } from '../workers/worker-pool.js';
import type { WorkerProcess } from '../workers/worker-process.js';
import { WORKER_STATES } from '../workers/worker-state.js';
import { FastHistogramFamily, FastValueFamily, type FastSeries } from './fast-metrics.js';
import { HandlerMetrics } from './handler-metrics.js';
import { readProcessStats } from './process-stats.js';
import { TorchServeMetrics } from './torchserve-metrics.js';

export type MetricsMode = 'native' | 'prometheus' | 'legacy' | 'log';

/** Seconds; spans a sub-millisecond echo to a two-minute response timeout. */
const DURATION_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
/** prom-client's default gauges named `*_total`, which Prometheus' lint reserves for counters; the unsuffixed ones stay. */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const MS_PER_S = 1000;
const US_PER_MS = 1000;

type Api = 'inference' | 'management';
type StatusClass = '2' | '4' | '5';

/** Per-version children, bound once at registration so a request allocates no label objects. */
interface Bound {
  labels: { model_name: string; model_version: string };
  onJob: (job: InferenceJob) => void;
  onBatch: (version: ModelVersion, size: number) => void;
  onBatchEnd: (worker: WorkerProcess, handlerMs: number, wallMs: number) => void;
  onMetrics: (entries: MetricEntry[]) => void;
}

/**
 * Everything `/metrics` shows, in one prom-client registry per gateway: TorchServe's
 * `ts_inference_requests_total`, real histograms (request, queue, handler time, batch size), queue
 * depth, workers by state, worker restarts, CPU and memory of the gateway and of every worker, and
 * the handlers' own metrics. TorchServe's other names are added by `metrics_mode` (docs/metrics.md).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly handler: HandlerMetrics;
  private readonly host = hostname();
  private readonly torchserve: TorchServeMetrics | undefined;
  private readonly tracked = new Map<ModelVersion, Bound>();
  private readonly requests: FastValueFamily;
  private readonly results: FastValueFamily;
  private readonly requestDuration: FastHistogramFamily;
  private readonly queueDuration: FastHistogramFamily;
  private readonly handlerDuration: FastHistogramFamily;
  private readonly batchSize: FastHistogramFamily;
  private readonly queueDepth: Gauge<string>;
  private readonly workers: Gauge<string>;
  private readonly modelState: Gauge<string>;
  private readonly restarts: Counter<string>;
  private readonly workerCpu: Counter<string>;
  private readonly workerRss: Gauge<string>;
  private readonly workerLoad: Gauge<string>;
  private readonly responses: Record<Api, Record<StatusClass, FastSeries>>;
  private readonly legacyResponses: Record<StatusClass, FastSeries> | undefined;

  constructor(mode: MetricsMode, logger: Logger) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    this.handler = new HandlerMetrics(this.registry, logger);
    if (mode === 'log') logger.warn('metrics_mode=log: model-server writes no metric log files; metrics are on /metrics as in native mode');
    if (mode === 'prometheus' || mode === 'legacy') this.torchserve = new TorchServeMetrics(this.registry, mode);

    const model = ['model_name', 'model_version'];
    const r = this.registry;
    this.requests = new FastValueFamily('ts_inference_requests_total', 'Inference requests accepted into a model queue', r, 'counter');
    this.results = new FastValueFamily('ts_inference_results_total', 'Inference requests answered, by result (success, error, timeout, cancelled)', r, 'counter');
    this.requestDuration = new FastHistogramFamily('ts_request_duration_seconds', 'Time from accepting an inference request to its answer', r, DURATION_BUCKETS_S);
    this.queueDuration = new FastHistogramFamily(
      'ts_queue_duration_seconds',
      'Time an inference request waited in the queue before its batch was sent to a worker',
      r,
      DURATION_BUCKETS_S,
    );
    this.handlerDuration = new FastHistogramFamily('ts_handler_duration_seconds', 'Time the handler took per batch, measured in the worker', r, DURATION_BUCKETS_S);
    this.batchSize = new FastHistogramFamily('ts_batch_size', 'Requests per batch sent to a worker', r, BATCH_SIZE_BUCKETS);
    this.queueDepth = new Gauge({ name: 'ts_queue_depth', help: 'Requests waiting in the model queue', labelNames: model, registers });
    this.workers = new Gauge({ name: 'ts_workers', help: 'Worker processes by state', labelNames: [...model, 'state'], registers });
    this.modelState = new Gauge({
      name: 'ts_model_state',
      help: 'State of a model version: 1 for its current state (loading, ready, degraded, failing, failed, idle, stopped), 0 for the others',
      labelNames: [...model, 'state'],
      registers,
    });
    this.restarts = new Counter({
      name: 'ts_worker_restarts_total',
      help: 'Worker processes that exited unexpectedly and were replaced or given up on',
      labelNames: model,
      registers,
    });
    const worker = [...model, 'worker_id'];
    this.workerCpu = new Counter({ name: 'ts_worker_cpu_seconds_total', help: 'CPU time (user + system) of a worker process', labelNames: worker, registers });
    this.workerRss = new Gauge({ name: 'ts_worker_resident_memory_bytes', help: 'Resident memory of a worker process', labelNames: worker, registers });
    this.workerLoad = new Gauge({ name: 'ts_worker_load_duration_seconds', help: 'Time a worker took to load its model', labelNames: worker, registers });
    // Series are bound once and exist from the start at 0, so rate() sees their first event.
    const http = new FastValueFamily('ts_http_responses_total', 'HTTP responses of the inference and management APIs by status class', r, 'counter');
    const byClass = (api: Api): Record<StatusClass, FastSeries> => ({
      '2': http.child({ api, code: '2xx' }),
      '4': http.child({ api, code: '4xx' }),
      '5': http.child({ api, code: '5xx' }),
    });
    this.responses = { inference: byClass('inference'), management: byClass('management') };
    const full = this.torchserve?.full;
    if (full) {
      this.legacyResponses = {
        '2': full.requests['2'].child({ Level: 'Host', Hostname: this.host }),
        '4': full.requests['4'].child({ Level: 'Host', Hostname: this.host }),
        '5': full.requests['5'].child({ Level: 'Host', Hostname: this.host }),
      };
    }
  }

  /** Counts one finished HTTP response (TorchServe's Requests2XX/4XX/5XX: anything not 2xx/4xx is 5xx). */
  countResponse(api: Api, status: number): void {
    const cls: StatusClass = status >= 200 && status < 300 ? '2' : status >= 400 && status < 500 ? '4' : '5';
    this.responses[api][cls].inc();
    this.legacyResponses?.[cls].inc();
  }

  /** Starts measuring a registered model version. */
  track(version: ModelVersion): void {
    const n = version.name;
    const v = version.version;
    const model = { model_name: n, model_version: v };
    const withHost = { ...model, hostname: this.host };
    const requests = this.requests.child(withHost);
    const results = {
      success: this.results.child({ ...model, result: 'success' }),
      error: this.results.child({ ...model, result: 'error' }),
      timeout: this.results.child({ ...model, result: 'timeout' }),
      cancelled: this.results.child({ ...model, result: 'cancelled' }),
    };
    const duration = this.requestDuration.child(model);
    const queue = this.queueDuration.child(model);
    const handler = this.handlerDuration.child(model);
    const batch = this.batchSize.child(model);
    const ts = this.torchserve;
    const tsLatency = ts?.latency.child(withHost);
    const tsQueue = ts?.queueLatency.child(withHost);
    const full = ts?.full;
    const hostLevel = { Level: 'Host', Hostname: this.host };
    const modelLevel = { ModelName: n, Level: 'Model', Hostname: this.host };
    const queueTime = full?.queueTime.child(hostLevel);
    const threadTime = full?.workerThreadTime.child(hostLevel);
    const handlerTime = full?.handlerTime.child(modelLevel);
    const predictionTime = full?.predictionTime.child(modelLevel);

    // One closure per version, not per request: a job only gets it pushed onto its end callbacks.
    const onEnd = (job: InferenceJob): void => {
      const now = performance.now();
      const totalMs = now - job.createdAt;
      const queuedMs = job.startedAt > 0 ? job.startedAt - job.enqueuedAt : now - job.enqueuedAt;
      switch (job.state) {
        case 'done':
          results.success.inc();
          tsLatency?.inc(totalMs * US_PER_MS);
          if (job.startedAt > 0) tsQueue?.inc((job.startedAt - job.createdAt) * US_PER_MS);
          break;
        case 'expired':
          results.timeout.inc();
          break;
        case 'cancelled':
          // The client left: nobody saw an answer, so no latency is recorded.
          results.cancelled.inc();
          if (job.startedAt > 0) queue.observe(queuedMs / MS_PER_S);
          return;
        default:
          results.error.inc();
      }
      duration.observe(totalMs / MS_PER_S);
      if (job.startedAt > 0) {
        queue.observe(queuedMs / MS_PER_S);
        queueTime?.set(queuedMs);
      }
    };
    const bound: Bound = {
      labels: { model_name: n, model_version: v },
      onJob: (job) => {
        requests.inc();
        job.whenEnded(onEnd);
      },
      onBatch: (_version, size) => batch.observe(size),
      onBatchEnd: (_worker, handlerMs, wallMs) => {
        handler.observe(handlerMs / MS_PER_S);
        handlerTime?.set(handlerMs);
        predictionTime?.set(handlerMs);
        threadTime?.set(Math.max(0, wallMs - handlerMs));
      },
      onMetrics: (entries) => this.handler.record(n, v, entries),
    };
    version.onJob(bound.onJob);
    version.onBatch(bound.onBatch);
    version.pool.on('batch_end', bound.onBatchEnd);
    version.pool.on('metrics', bound.onMetrics);
    this.tracked.set(version, bound);
  }

  /** Stops measuring an unregistered version and drops its series. */
  untrack(version: ModelVersion): void {
    const bound = this.tracked.get(version);
    if (!bound) return;
    this.tracked.delete(version);
    version.pool.off('batch_end', bound.onBatchEnd);
    version.pool.off('metrics', bound.onMetrics);
    const { model_name: n, model_version: v } = bound.labels;
    for (const m of [this.requestDuration, this.queueDuration, this.handlerDuration, this.batchSize]) m.remove(bound.labels);
    this.queueDepth.remove(bound.labels);
    for (const state of POOL_STATES) this.modelState.remove({ ...bound.labels, state });
    this.restarts.remove(bound.labels);
    const withHost = { ...bound.labels, hostname: this.host };
    this.requests.remove(withHost);
    for (const result of ['success', 'error', 'timeout', 'cancelled']) this.results.remove({ ...bound.labels, result });
    this.torchserve?.latency.remove(withHost);
    this.torchserve?.queueLatency.remove(withHost);
    this.handler.forget(n, v);
  }

  /** Refreshes what is read at scrape time (queues, workers, process stats), then renders the exposition. */
  async render(names?: readonly string[]): Promise<string> {
    await this.refresh();
    if (!names || names.length === 0) return this.registry.metrics();
    const parts: string[] = [];
    for (const name of new Set(names)) {
      if (this.registry.getSingleMetric(name)) parts.push(await this.registry.getSingleMetricAsString(name));
    }
    return parts.length > 0 ? `${parts.join('\n\n')}\n` : '';
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async refresh(): Promise<void> {
    this.workers.reset();
    this.restarts.reset();
    this.workerCpu.reset();
    this.workerRss.reset();
    this.workerLoad.reset();
    this.torchserve?.full?.workerLoadTime.reset();
    const reads: Promise<void>[] = [];
    for (const [version, { labels }] of this.tracked) {
      const n = labels.model_name;
      const v = labels.model_version;
      this.queueDepth.set(labels, version.queueSize);
      this.restarts.inc(labels, version.pool.restarts);
      const counts: Record<string, number> = Object.fromEntries(WORKER_STATES.map((s) => [s, 0]));
      for (const w of version.pool.workers) {
        counts[w.state] = (counts[w.state] ?? 0) + 1;
        if (w.state === 'stopped' || w.state === 'failed') continue;
        if (w.loadTimeMs > 0) {
          this.workerLoad.labels(n, v, w.id).set(w.loadTimeMs / MS_PER_S);
          this.torchserve?.full?.workerLoadTime.labels(w.id, 'Host', this.host).set(w.loadTimeMs);
        }
        if (w.pid === undefined) continue;
        const pid = w.pid;
        reads.push(
          readProcessStats(pid).then((stats) => {
            if (stats) this.workerCpu.labels(n, v, w.id).inc(stats.cpuSeconds);
            const rss = stats?.rssBytes ?? w.rssBytes;
            if (rss > 0) this.workerRss.labels(n, v, w.id).set(rss);
          }),
        );
      }
      for (const [state, count] of Object.entries(counts)) this.workers.labels(n, v, state).set(count);
      const current = version.pool.state;
      for (const state of POOL_STATES) this.modelState.labels(n, v, state).set(state === current ? 1 : 0);
    }
    await Promise.all(reads);
  }
}
