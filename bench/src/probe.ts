#!/usr/bin/env node
/**
 * One workload, one concurrency level, our gateway only, with every per-request cost the suite can
 * see: CPU time, syscalls and context switches per request for the gateway and its worker, and the
 * mean batch size. For checking a hot-path change before and after without the whole suite:
 *
 *   node bench/dist/src/probe.js noop 32 [--seconds 6] [--perf] [--workers N] [--batch-size N] [--max-batch-delay MS]
 *                                         [--vmargs=FLAGS] [--worker-vmargs=FLAGS] [--dashboard]
 *
 * `--dashboard` keeps one status page's feed open during the measurement (compare runs with and without).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DashboardClient } from './dashboard-client.js';
import { buildArchives, ensureHeavyModel } from './fixtures.js';
import { startGateway } from './gateway-launch.js';
import { measure } from './measure.js';
import { PerfCounter, type Counters } from './perf-counters.js';
import { loadPayloads, requestsFor } from './requests.js';
import { buildSuite, WORKLOAD_IDS, type WorkloadId } from './suite.js';
import type { PidsMessage, StatsMessage } from './targets/target-messages.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '6' },
    perf: { type: 'boolean', default: false },
    workers: { type: 'string' },
    'batch-size': { type: 'string' },
    'max-batch-delay': { type: 'string' },
    vmargs: { type: 'string' },
    'worker-vmargs': { type: 'string' },
    dashboard: { type: 'boolean', default: false },
  },
});
const workload = positionals[0] as WorkloadId;
const concurrency = Number(positionals[1] ?? 32);
if (!WORKLOAD_IDS.includes(workload) || workload === 'ocr' || !(concurrency > 0)) {
  if (workload === 'ocr') process.stderr.write('probe.js: the OCR workflow is measured by the suite: npm run bench -- --only ocr\n');
  process.stderr.write(`usage: probe.js <${WORKLOAD_IDS.join('|')}> <concurrency> [--seconds N] [--perf]\n`);
  process.exit(2);
}
const seconds = Number(values.seconds);
const plan = { warmupMs: 1000, windowMs: (seconds * 1000) / 3, stableWindows: 3, maxWindows: 3, stabilityPct: 10 };

const base = buildSuite('quick', [workload]);
// Settings to try without editing the suite, e.g. --workers 2 --batch-size 64.
const settings = { ...base.models[workload] };
if (values.workers) settings.workers = Number(values.workers);
if (values['batch-size']) settings.batchSize = Number(values['batch-size']);
if (values['max-batch-delay']) settings.maxBatchDelay = Number(values['max-batch-delay']);
const suite = { ...base, models: { ...base.models, [workload]: settings } };
const store = await mkdtemp(join(tmpdir(), 'ms-probe-'));
if (workload === 'heavy') ensureHeavyModel();
const specs = await buildArchives(suite, store);
const payloads = await loadPayloads(suite.payloadCount);
const { server: gateway } = await startGateway({ store, models: specs, logLevel: 'warn', vmargs: values.vmargs, workerVmargs: values['worker-vmargs'] });
try {
  const { workers } = await gateway.child.request<PidsMessage>({ type: 'pids' }, 'pids', 10_000);
  const workerPids = workers.map((w) => w.pid);
  const stats = async (): Promise<{ batches: number; batchedRequests: number }> =>
    (await gateway.child.request<StatsMessage>({ type: 'stats' }, 'stats', 10_000)).models[workload]!;
  const dashboard = values.dashboard ? new DashboardClient() : undefined;
  dashboard?.start(gateway.management!);
  const before = await stats();
  const perf = values.perf ? { gateway: new PerfCounter(gateway.child.pid), worker: new PerfCounter(workerPids[0]!) } : undefined;
  const requests = requestsFor(workload, 'ours', payloads);
  const { measurement: m, cpuUsPerRequest } = await measure(
    workload === 'stream'
      ? { kind: 'stream', url: gateway.url, connections: concurrency, request: requests[0]!, plan }
      : { kind: 'http', url: gateway.url, connections: concurrency, requests, plan },
    { gateway: gateway.child.pid, ...Object.fromEntries(workerPids.map((pid, i) => [i === 0 ? 'worker' : `worker${i + 1}`, pid])) },
  );
  const counted: Record<string, Counters | undefined> = {};
  if (perf) for (const [k, c] of Object.entries(perf)) counted[k] = await c.stop();
  const after = await stats();
  const feed = await dashboard?.stop();
  const batch = (after.batchedRequests - before.batchedRequests) / Math.max(1, after.batches - before.batches);
  const per = (n: number): string => (n / m.totalCompleted).toFixed(2);
  const lines = [
    `${workload} c=${concurrency}: ${m.throughput.toFixed(0)} req/s, p50 ${m.latency.p50.toFixed(2)} ms, p99 ${m.latency.p99.toFixed(2)} ms, mean batch ${batch.toFixed(1)}`,
    `  CPU us/request: ${Object.entries(cpuUsPerRequest).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  if (feed) lines.push(`  dashboard feed: ${feed.events} events, ${Math.round(feed.bytes / 1024)} KB`);
  for (const [k, c] of Object.entries(counted)) {
    if (c) lines.push(`  ${k}: ${per(c.syscalls)} syscalls/request, ${per(c.contextSwitches)} context switches/request`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await gateway.child.stop();
  await rm(store, { recursive: true, force: true });
}
