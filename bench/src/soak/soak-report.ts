import type { Machine } from '../machine.js';
import { percentile } from '../stats.js';
import type { WindowStats } from './soak-load.js';

/** One window as reported: load figures and the resident memory of every process at its end. */
export interface SoakWindow {
  t: number;
  requests: number;
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
  /** VmRSS in bytes, of the gateway and of each worker (by model). */
  gatewayRss: number;
  workerRss: Record<string, number>;
}

export interface Drift {
  /** Mean over the first and the last third of the windows after warm-up. */
  start: number;
  end: number;
  /** end / start. */
  ratio: number;
  /** Least-squares slope per minute over the windows after warm-up. */
  perMinute: number;
}

export interface SoakReport {
  startedAt: string;
  machine: Machine;
  seconds: number;
  concurrency: number;
  requests: number;
  throughput: number;
  errors: Record<string, number>;
  errorCount: number;
  workerRestarts: number;
  serverAlive: boolean;
  p99: Drift;
  gatewayRss: Drift;
  workerRss: Record<string, Drift>;
  windows: SoakWindow[];
}

/** Windows left out of the drift figures: the JIT and the heaps are still warming up in them. */
export function warmupWindows(count: number): number {
  return Math.min(2, Math.floor(count / 5));
}

export function windowOf(stats: WindowStats, seconds: number, gatewayRss: number, workerRss: Record<string, number>): SoakWindow {
  const sorted = Float64Array.from(stats.latencies).sort();
  const errors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
  return { t: stats.t, requests: stats.requests, throughput: stats.requests / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors, gatewayRss, workerRss };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** How a figure moved over the run, from the first third of the windows after warm-up to the last. */
export function drift(windows: readonly SoakWindow[], value: (w: SoakWindow) => number): Drift {
  const kept = windows.slice(warmupWindows(windows.length));
  const third = Math.max(1, Math.floor(kept.length / 3));
  const start = mean(kept.slice(0, third).map(value));
  const end = mean(kept.slice(-third).map(value));
  const ts = kept.map((w) => w.t / 60);
  const vs = kept.map(value);
  const tm = mean(ts);
  const vm = mean(vs);
  let num = 0;
  let den = 0;
  ts.forEach((t, i) => {
    num += (t - tm) * (vs[i]! - vm);
    den += (t - tm) ** 2;
  });
  return { start, end, ratio: end / start, perMinute: den === 0 ? 0 : num / den };
}

const MB = 1024 * 1024;
const mb = (b: number): string => `${(b / MB).toFixed(1)} MB`;
const ms = (v: number): string => `${v.toFixed(1)} ms`;

/** The report as Markdown: the summary, the drift figures, and the windows (at most 30 rows). */
export function renderSoak(r: SoakReport): string {
  const m = r.machine;
  const lines = [
    `Soak of ${r.startedAt}: ${(r.seconds / 60).toFixed(1)} min, ${r.concurrency} closed-loop clients (no-op, mnist PNG, mnist v2 tensors), ${r.requests} requests, ${Math.round(r.throughput)} req/s`,
    `on ${m.cpus} x ${m.cpuModel}, ${m.os}, Node ${m.node}; load average ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end?.toFixed(2) ?? '?'} at end.`,
    '',
    '| Figure | Start | End | Drift | Per minute |',
    '| --- | --- | --- | --- | --- |',
    `| p99 latency | ${ms(r.p99.start)} | ${ms(r.p99.end)} | ${r.p99.ratio.toFixed(2)}x | ${r.p99.perMinute >= 0 ? '+' : ''}${r.p99.perMinute.toFixed(2)} ms |`,
    `| gateway RSS | ${mb(r.gatewayRss.start)} | ${mb(r.gatewayRss.end)} | ${r.gatewayRss.ratio.toFixed(2)}x | ${r.gatewayRss.perMinute >= 0 ? '+' : ''}${(r.gatewayRss.perMinute / MB).toFixed(2)} MB |`,
    ...Object.entries(r.workerRss).map(([m, d]) => `| ${m} worker RSS | ${mb(d.start)} | ${mb(d.end)} | ${d.ratio.toFixed(2)}x | ${d.perMinute >= 0 ? '+' : ''}${(d.perMinute / MB).toFixed(2)} MB |`),
    '',
    `Errors: ${r.errorCount}${r.errorCount > 0 ? ` (${Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}; worker restarts: ${r.workerRestarts}; server ${r.serverAlive ? 'alive' : 'DEAD'} at the end.`,
    '',
    `| t (s) | req/s | p50 | p99 | errors | gateway RSS | ${Object.keys(r.workerRss).map((m) => `${m} RSS`).join(' | ')} |`,
    `| --- | --- | --- | --- | --- | --- | ${Object.keys(r.workerRss).map(() => '---').join(' | ')} |`,
  ];
  const step = Math.max(1, Math.ceil(r.windows.length / 30));
  for (let i = 0; i < r.windows.length; i += step) {
    const w = r.windows[i]!;
    lines.push(`| ${w.t.toFixed(0)} | ${Math.round(w.throughput)} | ${ms(w.p50)} | ${ms(w.p99)} | ${w.errors} | ${mb(w.gatewayRss)} | ${Object.keys(r.workerRss).map((m) => mb(w.workerRss[m] ?? 0)).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
