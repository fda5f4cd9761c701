import { cpus } from 'node:os';
import { childPids, readCpuMs, readMachineCpuMs } from '../cpu.js';
import { summarize } from '../stats.js';
import type { Cluster, Fixture } from './cluster.js';
import { epochNow, startLoad } from './load.js';

export type Setup = 'direct-1' | 'nginx-1' | 'nginx-3';

export const SETUP_LABELS: Record<Setup, string> = {
  'direct-1': '1 replica, no balancer',
  'nginx-1': '1 replica behind nginx',
  'nginx-3': '3 replicas behind nginx',
};

export interface ThroughputOptions {
  clients: number;
  /** Measured window per setup, ms (after the warm-up). */
  windowMs: number;
  warmupMs: number;
  /** Each round measures every setup once, in turn, so slow drift on a shared machine hits all alike. */
  rounds: number;
  setups?: Setup[];
}

export interface ThroughputRow {
  setup: Setup;
  round: number;
  clients: number;
  /** Answers (200) whose end fell in the window. */
  requests: number;
  /** Anything else that ended in the window. */
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU per answered request, ms, by process kind: what one request costs the machine. */
  cpuMsPerRequest: { nginx: number; gateways: number; workers: number; client: number; total: number };
  /** Cores in use over the window (of `cpus`): by the processes measured, and by everything else on the machine. */
  cores: { ours: number; others: number; cpus: number };
}

/** The processes of a run and their CPU so far, ms. */
function sample(cluster: Cluster): { byKind: Record<'nginx' | 'gateways' | 'workers', number>; client: number; machine: number } {
  const sum = (pids: number[]): number => pids.reduce((n, p) => n + (readCpuMs(p) ?? 0), 0);
  const gateways = cluster.replicas.map((r) => r.pid);
  const { user, system } = process.cpuUsage();
  return {
    byKind: {
      nginx: sum([cluster.nginx.pid, ...cluster.nginx.workers()]),
      gateways: sum(gateways),
      workers: sum(gateways.flatMap((p) => childPids(p))),
    },
    client: (user + system) / 1000,
    machine: readMachineCpuMs().busy,
  };
}

/**
 * Closed-loop mnist load (a real digit PNG) at the same client count against one replica directly,
 * one replica behind nginx and three behind nginx, with the CPU every process of the run used.
 */
export async function throughput(cluster: Cluster, fixture: Fixture, options: ThroughputOptions): Promise<ThroughputRow[]> {
  const setups = options.setups ?? (['direct-1', 'nginx-1', 'nginx-3'] as Setup[]);
  const url: Record<Setup, string> = { 'direct-1': cluster.replicas[0]!.url, 'nginx-1': cluster.nginx.url('one'), 'nginx-3': cluster.nginx.url('all') };
  const rows: ThroughputRow[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const setup of setups) {
      const load = startLoad({ url: url[setup], path: '/predictions/mnist', body: fixture.digit, contentType: 'image/png', clients: options.clients });
      try {
        await load.until((rs) => rs.length >= options.clients * 2, 60_000, `${setup} to answer`);
        await new Promise((r) => setTimeout(r, options.warmupMs));
        const a = sample(cluster);
        const t1 = epochNow();
        await new Promise((r) => setTimeout(r, options.windowMs));
        const b = sample(cluster);
        const t2 = epochNow();
        const inWindow = load.results.filter((r) => r.end >= t1 && r.end < t2);
        const ok = inWindow.filter((r) => r.outcome === 'ok');
        const n = Math.max(1, ok.length);
        const per = (ms: number): number => Math.round((ms / n) * 1000) / 1000;
        const kinds = { nginx: b.byKind.nginx - a.byKind.nginx, gateways: b.byKind.gateways - a.byKind.gateways, workers: b.byKind.workers - a.byKind.workers, client: b.client - a.client };
        const ours = kinds.nginx + kinds.gateways + kinds.workers + kinds.client;
        const wall = t2 - t1;
        const latency = summarize(ok.map((r) => r.end - r.start));
        rows.push({
          setup,
          round,
          clients: options.clients,
          requests: ok.length,
          errors: inWindow.length - ok.length,
          rps: Math.round((ok.length / wall) * 1000),
          p50Ms: Math.round(latency.p50 * 10) / 10,
          p99Ms: Math.round(latency.p99 * 10) / 10,
          cpuMsPerRequest: { nginx: per(kinds.nginx), gateways: per(kinds.gateways), workers: per(kinds.workers), client: per(kinds.client), total: per(ours) },
          cores: { ours: Math.round((ours / wall) * 100) / 100, others: Math.round((Math.max(0, b.machine - a.machine - ours) / wall) * 100) / 100, cpus: cpus().length },
        });
      } finally {
        await load.stop();
      }
    }
  }
  return rows;
}
