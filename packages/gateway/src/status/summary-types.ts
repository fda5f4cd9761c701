/**
 * The server at a glance, as `GET /status` answers it and each event of `GET /status/events` carries:
 * what the dashboard page draws and `model-server status` prints. Plain data only (no imports), so the
 * browser code type-checks against the same file. Durations are milliseconds, times epoch milliseconds
 * (series times epoch seconds, as charts want them), and a figure that cannot be known is null.
 */
export interface StatusSummary {
  schema: 1;
  /** One per sample (about once a second); an event's seq says which sample it shows. */
  seq: number;
  /** When the sample was taken. */
  time: number;
  /** true: each version's `series` holds the whole history; false: only the newest point (stream ticks). */
  fullSeries: boolean;
  windows: SummaryWindows;
  server: ServerSummary;
  models: ModelSummary[];
  /** The last failed requests of any model, newest first. */
  errors: ErrorEntry[];
}

export interface SummaryWindows {
  /** Seconds `rps` is averaged over. */
  rateS: number;
  /** Seconds the latency quantiles and the mean batch size are taken over. */
  latencyS: number;
  /** Seconds each series point's latency quantiles are taken over. */
  seriesLatencyS: number;
  /** Seconds of history kept (the length of the series). */
  historyS: number;
}

export interface ServerSummary {
  version: string;
  pid: number;
  node: string;
  startedAt: number;
  uptimeS: number;
  addresses: { inference: string; management: string; metrics: string };
  tokenAuthorization: boolean;
  /** Whether registering and unregistering through the management API is allowed (enable_model_api). */
  modelApiEnabled: boolean;
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  /** CPU of the gateway process over the last sample, percent of one core; null until two samples exist. */
  cpuPercent: number | null;
  /** Event-loop delay since the previous sample; null while nobody watches (it is only measured then). */
  eventLoopDelayMs: { mean: number; p99: number; max: number } | null;
}

export interface ModelSummary {
  name: string;
  defaultVersion: string;
  versions: VersionSummary[];
}

export interface VersionSummary {
  version: string;
  isDefault: boolean;
  /** The pool's state: loading, ready, degraded, failing, failed, idle, stopped. */
  state: string;
  url: string;
  settings: { minWorkers: number; maxWorkers: number; batchSize: number; maxBatchDelayMs: number; responseTimeoutMs: number };
  /** Workers the pool keeps alive (the scale target). */
  targetWorkers: number;
  /** Workers loaded and serving. */
  liveWorkers: number;
  workers: WorkerSummary[];
  /** Workers that exited unexpectedly since registration. */
  restarts: number;
  queue: { depth: number; limit: number };
  /** Requests running in workers. */
  inFlight: number;
  /** Since registration, as ts_inference_requests_total and ts_inference_results_total count them. */
  totals: { requests: number; success: number; error: number; timeout: number; cancelled: number };
  /** Requests accepted per second over `windows.rateS`. */
  rps: number;
  /** Quantiles of ts_request_duration_seconds over `windows.latencyS`, from its buckets; count = requests in it. */
  latencyMs: { p50: number | null; p99: number | null; count: number };
  batch: {
    /** Mean requests per batch over `windows.latencyS` (ts_batch_size). */
    mean: number | null;
    /** Batches of each size since registration (the Triton statistics' batch_stats). */
    sizes: { size: number; count: number }[];
  };
  /** Failed and refused requests by error code since registration. */
  errorsByCode: Record<string, number>;
  /** Absent when asked for without series (`?series=0`). */
  series?: VersionSeries;
}

/** One point per sample, oldest first; all arrays have the length of `t`. */
export interface VersionSeries {
  /** Epoch seconds. */
  t: number[];
  rps: number[];
  errorsPerS: number[];
  p50Ms: (number | null)[];
  p99Ms: (number | null)[];
  queue: number[];
  inFlight: number[];
  batchMean: (number | null)[];
}

export interface WorkerSummary {
  id: string;
  /** created, starting, ready, busy, stopping, stopped, failed. */
  state: string;
  pid: number | null;
  rssBytes: number | null;
  /** Percent of one core over the last sample; null while nobody watches or until two samples exist. */
  cpuPercent: number | null;
  startedAt: number;
  loadTimeMs: number;
}

export interface ErrorEntry {
  time: number;
  model: string;
  version: string;
  requestId: string;
  status: number;
  code: string;
  message: string;
  /** The handler's stack, as the worker reported it, for server-side failures. */
  stack?: string;
}
