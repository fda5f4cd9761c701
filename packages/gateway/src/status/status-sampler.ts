import type { ModelServerError } from '@model-server/protocol';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import type { ModelVersion } from '../models/model-version.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { InferenceJob } from '../scheduling/job.js';
import { ErrorLog } from './error-log.js';
import { readCounters, versionKey } from './metric-reader.js';
import { ProcessWatch } from './process-watch.js';
import { buildSummary, type SeriesMode, type TrackedVersion } from './summary.js';
import type { ServerSummary, StatusSummary, SummaryWindows } from './summary-types.js';
import { VersionHistory, zeroSample } from './version-history.js';

/** The page's "about once a second". */
export const SAMPLE_MS = 1_000;
/** Five minutes of one-second samples per version (a few hundred KB for a dozen versions). */
const HISTORY_SAMPLES = 300;
export const WINDOWS: SummaryWindows = { rateS: 10, latencyS: 60, seriesLatencyS: 10, historyS: HISTORY_SAMPLES };
const ERROR_LOG_CAPACITY = 100;
const ERRORS_SHOWN = 50;
/** A one-off `GET /status` keeps the costly figures (/proc, event-loop delay) measured this long, for `status --watch`. */
const WATCH_GRACE_MS = 10_000;
/** Worker figures older than this are read again for a one-off summary. */
const STALE_PROCESS_STATS_MS = 2_000;

/** What the sampler needs to know of the server, read at each summary. */
export interface ServerFacts {
  version: string;
  addresses: ServerSummary['addresses'];
  tokenAuthorization: boolean;
  modelApiEnabled: boolean;
}

export interface StatusSamplerOptions {
  registry: ModelRegistry;
  /** The registry /metrics renders; the counters are read from it. */
  metrics: Registry;
  server: () => ServerFacts;
  logger: Logger;
}

/** One open event stream. `send` answers false when the stream is gone or may not go on (it is then dropped). */
export interface StatusWatcher {
  send(event: string): boolean;
  close(): void;
}

/**
 * Samples every version once a second into its history (counters /metrics already keeps, read once,
 * plus queue and in-flight gauges: no per-request work), records failed requests as they end, and
 * sends each sample to the open event streams. Worker memory and CPU and the event-loop delay are
 * measured only while someone watches: an open stream, or a `GET /status` in the last 10 s.
 */
export class StatusSampler {
  readonly startedAt = Date.now();
  private readonly tracked = new Map<ModelVersion, TrackedVersion>();
  private readonly errors = new ErrorLog(ERROR_LOG_CAPACITY);
  private readonly watch = new ProcessWatch();
  private readonly watchers = new Set<StatusWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private seq = 0;
  private sampledAt = Date.now();
  private latencyBounds: number[] = [];
  private loopDelay: ServerSummary['eventLoopDelayMs'] = null;
  private lastAskedAt = 0;
  private processStatsAt = 0;

  constructor(private readonly options: StatusSamplerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), SAMPLE_MS);
    this.timer.unref();
  }

  /** Stops sampling and closes every event stream. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.watchers) w.close();
    this.watchers.clear();
    this.watch.measureLoop(false);
  }

  /** Follows a newly registered version: its history starts at zero, as its metric series do. */
  track(version: ModelVersion): void {
    const tracked: TrackedVersion = { history: new VersionHistory(HISTORY_SAMPLES, zeroSample(Date.now())), errorsByCode: new Map() };
    this.tracked.set(version, tracked);
    version.onFailure((job: InferenceJob, error: ModelServerError) => {
      tracked.errorsByCode.set(error.code, (tracked.errorsByCode.get(error.code) ?? 0) + 1);
      this.errors.record(job.model, job.version, job.requestId, error);
    });
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  private get watched(): boolean {
    return this.watchers.size > 0 || Date.now() - this.lastAskedAt < WATCH_GRACE_MS;
  }

  /** Adds an event stream: it gets the whole summary now, then each sample's newest point. */
  async subscribe(watcher: StatusWatcher): Promise<void> {
    this.watchers.add(watcher);
    await this.refreshProcessesIfStale();
    if (!this.watchers.has(watcher)) return;
    if (!watcher.send(event('full', this.summary('full')))) this.unsubscribe(watcher);
  }

  unsubscribe(watcher: StatusWatcher): void {
    this.watchers.delete(watcher);
  }

  /** The summary for a one-off request (`GET /status`): worker figures are read first when stale. */
  async current(series: SeriesMode): Promise<StatusSummary> {
    this.lastAskedAt = Date.now();
    await this.refreshProcessesIfStale();
    return this.summary(series);
  }

  private async refreshProcessesIfStale(): Promise<void> {
    if (performance.now() - this.processStatsAt < STALE_PROCESS_STATS_MS) return;
    await this.refreshProcesses();
  }

  private async refreshProcesses(): Promise<void> {
    this.processStatsAt = performance.now();
    await this.watch.refresh(this.options.registry.all().flatMap((v) => [...v.pool.workers]));
  }

  private tick(): void {
    // A sample still reading /proc when the next is due (a stalled disk) is not overtaken.
    if (this.sampling) return;
    this.sampling = this.sample()
      .then(() => this.broadcast())
      .catch((err: unknown) => this.options.logger.warn(`status sample failed: ${(err as Error).message}`))
      .finally(() => {
        this.sampling = undefined;
      });
  }

  /** Takes one sample now (the timer's work; tests call it to step time). */
  async sample(): Promise<void> {
    const reading = readCounters(this.options.metrics);
    if (reading.latencyBounds.length > 0) this.latencyBounds = reading.latencyBounds;
    const now = Date.now();
    const live = new Set(this.options.registry.all());
    for (const [version, tracked] of this.tracked) {
      // Unregistered: its history goes with it (its failures stay in the error list).
      if (!live.has(version)) {
        this.tracked.delete(version);
        continue;
      }
      const counters = reading.byVersion.get(versionKey(version.name, version.version));
      if (!counters) continue;
      tracked.history.push({ ...counters, t: now, queue: version.queueSize, inFlight: version.inFlightCount });
    }
    const watched = this.watched;
    this.watch.measureLoop(watched);
    if (watched) {
      await this.refreshProcesses();
      this.loopDelay = this.watch.takeLoopDelay();
    } else {
      this.loopDelay = null;
    }
    this.seq++;
    this.sampledAt = now;
  }

  private broadcast(): void {
    if (this.watchers.size === 0) return;
    // Built and serialised once, whatever the number of streams.
    const text = event('tick', this.summary('last'));
    for (const w of this.watchers) if (!w.send(text)) this.watchers.delete(w);
  }

  private server(): ServerSummary {
    const facts = this.options.server();
    const memory = process.memoryUsage();
    return {
      version: facts.version,
      pid: process.pid,
      node: process.version,
      startedAt: this.startedAt,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      addresses: facts.addresses,
      tokenAuthorization: facts.tokenAuthorization,
      modelApiEnabled: facts.modelApiEnabled,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal },
      cpuPercent: this.watched && this.watch.gatewayCpuPercent !== null ? Number(this.watch.gatewayCpuPercent.toPrecision(4)) : null,
      eventLoopDelayMs: this.loopDelay && {
        mean: Number(this.loopDelay.mean.toPrecision(4)),
        p99: Number(this.loopDelay.p99.toPrecision(4)),
        max: Number(this.loopDelay.max.toPrecision(4)),
      },
    };
  }

  private summary(series: SeriesMode): StatusSummary {
    return buildSummary({
      seq: this.seq,
      time: this.sampledAt,
      windows: WINDOWS,
      server: this.server(),
      registry: this.options.registry,
      tracked: (v) => this.tracked.get(v),
      worker: (w) => this.watch.worker(w),
      errors: this.errors.recent(ERRORS_SHOWN),
      latencyBounds: this.latencyBounds,
      series,
    });
  }
}

/** One Server-Sent Event. */
function event(name: string, summary: StatusSummary): string {
  return `event: ${name}\ndata: ${JSON.stringify(summary)}\n\n`;
}
