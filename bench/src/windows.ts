import { spread, summarize, type LatencySummary } from './stats.js';

/**
 * How one load level is measured, after perf_analyzer's time windows: a warm-up whose samples are
 * dropped, then windows of `windowMs` until the last `stableWindows` agree within `stabilityPct`
 * (throughput and p50 latency, max/min), or `maxWindows` have passed (then reported as unstable).
 */
export interface WindowPlan {
  warmupMs: number;
  windowMs: number;
  stableWindows: number;
  maxWindows: number;
  /** 10 means max/min within 1.10, perf_analyzer's default. */
  stabilityPct: number;
}

/** The figures of one window, or of the windows a measurement reports. */
export interface WindowSummary {
  durationMs: number;
  /** Successful completions (requests, or session runs for the in-process limit). */
  completed: number;
  /** Failed requests (non-2xx answers, transport errors); they count in no latency. */
  errors: number;
  /** Completions per second. */
  throughput: number;
  /** Work units per second: inferences (rows) for the limit, chunks for streams; = throughput otherwise. */
  unitsPerSec: number;
  latency: LatencySummary;
  /** Time to first body byte, for streams. */
  ttfc?: LatencySummary;
}

export interface Measurement extends WindowSummary {
  /** Whether the last `stableWindows` windows met the stability rule. */
  stable: boolean;
  /** Completions over the whole run, warm-up included (to divide CPU time measured around the run). */
  totalCompleted: number;
  /** Every window, in order (the figures above merge the last `stableWindows`). */
  windows: { throughput: number; p50: number; p99: number }[];
}

interface RawWindow {
  durationMs: number;
  completed: number;
  errors: number;
  units: number;
  latencies: number[];
  ttfc: number[];
}

function emptyWindow(): RawWindow {
  return { durationMs: 0, completed: 0, errors: 0, units: 0, latencies: [], ttfc: [] };
}

function summarizeRaw(raw: RawWindow): WindowSummary {
  const seconds = raw.durationMs / 1000;
  const summary: WindowSummary = {
    durationMs: raw.durationMs,
    completed: raw.completed,
    errors: raw.errors,
    throughput: seconds > 0 ? raw.completed / seconds : 0,
    unitsPerSec: seconds > 0 ? raw.units / seconds : 0,
    latency: summarize(raw.latencies),
  };
  if (raw.ttfc.length > 0) summary.ttfc = summarize(raw.ttfc);
  return summary;
}

function merge(windows: readonly RawWindow[]): RawWindow {
  const out = emptyWindow();
  for (const w of windows) {
    out.durationMs += w.durationMs;
    out.completed += w.completed;
    out.errors += w.errors;
    out.units += w.units;
    for (const v of w.latencies) out.latencies.push(v);
    for (const v of w.ttfc) out.ttfc.push(v);
  }
  return out;
}

/**
 * Collects samples from a load loop and slices them into windows on the wall clock. Window lengths
 * are measured, not assumed, so a loop that blocks the event loop (a synchronous session run) still
 * gets exact rates.
 */
export class WindowRecorder {
  readonly done: Promise<Measurement>;
  private resolveDone!: (m: Measurement) => void;
  private current = emptyWindow();
  private measuring = false;
  private finished = false;
  private windowStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly closed: RawWindow[] = [];
  private readonly summaries: WindowSummary[] = [];
  private totalCompleted = 0;

  constructor(private readonly plan: WindowPlan) {
    if (plan.stableWindows < 1 || plan.maxWindows < plan.stableWindows) {
      throw new RangeError('need 1 <= stableWindows <= maxWindows');
    }
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** True once the measurement is over; load loops stop issuing work then. */
  get stopped(): boolean {
    return this.finished;
  }

  start(): void {
    this.timer = setTimeout(() => {
      this.measuring = true;
      this.current = emptyWindow();
      this.windowStart = performance.now();
      this.armWindow();
    }, this.plan.warmupMs);
  }

  /** One successful completion; `units` is its work (rows, chunks), default 1. */
  record(latencyMs: number, units = 1, ttfcMs?: number): void {
    if (this.finished) return;
    this.totalCompleted++;
    if (!this.measuring) return;
    this.current.completed++;
    this.current.units += units;
    this.current.latencies.push(latencyMs);
    if (ttfcMs !== undefined) this.current.ttfc.push(ttfcMs);
  }

  error(): void {
    if (this.measuring) this.current.errors++;
  }

  /** Ends the measurement early (the load failed); what was measured so far is reported as unstable. */
  abort(): void {
    if (this.finished) return;
    clearTimeout(this.timer);
    if (this.measuring) this.closeWindow();
    this.finish(false);
  }

  private armWindow(): void {
    this.timer = setTimeout(() => this.onWindowEnd(), this.plan.windowMs);
  }

  private closeWindow(): void {
    const now = performance.now();
    this.current.durationMs = now - this.windowStart;
    this.closed.push(this.current);
    this.summaries.push(summarizeRaw(this.current));
    this.current = emptyWindow();
    this.windowStart = now;
  }

  private onWindowEnd(): void {
    this.closeWindow();
    const k = this.plan.stableWindows;
    if (this.closed.length >= k) {
      const last = this.summaries.slice(-k);
      const limit = 1 + this.plan.stabilityPct / 100;
      const stable = spread(last.map((s) => s.throughput)) <= limit && spread(last.map((s) => s.latency.p50)) <= limit;
      if (stable || this.closed.length >= this.plan.maxWindows) {
        this.finish(stable);
        return;
      }
    }
    this.armWindow();
  }

  private finish(stable: boolean): void {
    this.finished = true;
    this.measuring = false;
    const reported = summarizeRaw(merge(this.closed.slice(-this.plan.stableWindows)));
    this.resolveDone({
      ...reported,
      stable,
      totalCompleted: this.totalCompleted,
      windows: this.summaries.map((s) => ({ throughput: s.throughput, p50: s.latency.p50, p99: s.latency.p99 })),
    });
  }
}
