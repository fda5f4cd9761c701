import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { readProcessStats } from '../metrics/process-stats.js';
import type { WorkerProcess } from '../workers/worker-process.js';

/** What is known of a worker process beyond the gateway's own fields. */
export interface WorkerStats {
  rssBytes: number | null;
  cpuPercent: number | null;
}

interface CpuReading {
  cpuSeconds: number;
  at: number;
}

/** Fine enough to see a stalled loop, coarse enough to cost nothing (one timer every 20 ms while watched). */
const EVENT_LOOP_RESOLUTION_MS = 20;
const NS_PER_MS = 1e6;
const US_PER_S = 1e6;
const PERCENT = 100;

/**
 * The figures that cost a system call or a timer: workers' memory and CPU from /proc, the gateway's CPU
 * and its event-loop delay. They are read only while someone watches the status (the sampler says
 * when), so an unwatched server pays nothing for them.
 */
export class ProcessWatch {
  private readonly workerCpu = new WeakMap<WorkerProcess, CpuReading>();
  private readonly workerStats = new WeakMap<WorkerProcess, WorkerStats>();
  private loopDelay: IntervalHistogram | undefined;
  private gatewayCpu: { usage: NodeJS.CpuUsage; at: number } | undefined;
  private gatewayPercent: number | null = null;

  /** Reads every worker's /proc entry, and the gateway's CPU since the last refresh. */
  async refresh(workers: Iterable<WorkerProcess>, now = performance.now()): Promise<void> {
    const reads: Promise<void>[] = [];
    for (const w of workers) {
      const pid = w.pid;
      if (pid === undefined) continue;
      reads.push(
        readProcessStats(pid).then((stats) => {
          const before = this.workerCpu.get(w);
          let cpuPercent: number | null = null;
          if (stats) {
            if (before && now > before.at) cpuPercent = ((stats.cpuSeconds - before.cpuSeconds) * 1000 * PERCENT) / (now - before.at);
            this.workerCpu.set(w, { cpuSeconds: stats.cpuSeconds, at: now });
          }
          const rss = stats?.rssBytes ?? w.rssBytes;
          this.workerStats.set(w, { rssBytes: rss > 0 ? rss : null, cpuPercent });
        }),
      );
    }
    const usage = process.cpuUsage();
    if (this.gatewayCpu && now > this.gatewayCpu.at) {
      const usedUs = usage.user - this.gatewayCpu.usage.user + (usage.system - this.gatewayCpu.usage.system);
      this.gatewayPercent = (usedUs / US_PER_S / ((now - this.gatewayCpu.at) / 1000)) * PERCENT;
    }
    this.gatewayCpu = { usage, at: now };
    await Promise.all(reads);
  }

  /** What the last refresh found for a worker; its own last report of memory before any refresh. */
  worker(w: WorkerProcess): WorkerStats {
    return this.workerStats.get(w) ?? { rssBytes: w.rssBytes > 0 ? w.rssBytes : null, cpuPercent: null };
  }

  get gatewayCpuPercent(): number | null {
    return this.gatewayPercent;
  }

  /** Starts or stops measuring the event-loop delay. */
  measureLoop(on: boolean): void {
    if (on && !this.loopDelay) {
      this.loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
      this.loopDelay.enable();
    } else if (!on && this.loopDelay) {
      this.loopDelay.disable();
      this.loopDelay = undefined;
      this.gatewayCpu = undefined;
      this.gatewayPercent = null;
    }
  }

  /**
   * The event-loop delay since the previous call (beyond the timer's own resolution), then starts
   * over; null while not measuring or before any delay was recorded.
   */
  takeLoopDelay(): { mean: number; p99: number; max: number } | null {
    const h = this.loopDelay;
    if (!h || h.count === 0) return null;
    // The histogram records each timer's whole interval; the resolution itself is not a delay.
    const delay = (ns: number): number => Math.max(0, ns / NS_PER_MS - EVENT_LOOP_RESOLUTION_MS);
    const out = { mean: delay(h.mean), p99: delay(h.percentile(99)), max: delay(h.max) };
    h.reset();
    return out;
  }
}
