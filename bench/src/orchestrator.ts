import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildArchives, buildWorkflows, ensureHeavyModel, HEAVY_ONNX, MNIST_ONNX, modelBytes } from './fixtures.js';
import { startGateway } from './gateway-launch.js';
import type { LoadConfig } from './loads/load-config.js';
import { currentLoad, describeMachine } from './machine.js';
import { measure, startServer, type Server } from './measure.js';
import { script } from './paths.js';
import { collectProfiles } from './profiling/collect-profiles.js';
import { DashboardClient } from './dashboard-client.js';
import { grpcRequestsFor, limitConfig, loadPayloads, requestsFor, type Payloads } from './requests.js';
import type { LimitResult, MemoryResult, PointResult, SuiteResult } from './results.js';
import { RssSampler } from './rss.js';
import type { ServerId, Suite, WorkloadId, WorkloadPlan } from './suite.js';
import type { ExpressTargetConfig, NodeBatchedTargetConfig, PidsMessage, StatsMessage } from './targets/target-messages.js';
import type { Measurement } from './windows.js';

const MB = 1024 * 1024;
/** Issue 6: a worker may use its model's size plus this much. */
const WORKER_HEADROOM_BYTES = 100 * MB;
const GATEWAY_LIMIT_BYTES = 150 * MB;

export interface RunOptions {
  /** Write CPU profiles of the gateway and its workers here. */
  profileDir?: string;
  /** NODE_OPTIONS for the gateway process, which its workers inherit (e.g. `--import` a preload). */
  gatewayNodeOptions?: string;
  /** config.properties `vmargs` / `worker_vmargs` instead of the product's defaults. */
  vmargs?: string;
  workerVmargs?: string;
  /** Keep one status page's feed (GET /status/events) open on our gateway for the whole run. */
  dashboard?: boolean;
  logLevel: string;
  log: (line: string) => void;
}

function fmt(m: Measurement, units = false): string {
  const rate = units ? `${m.unitsPerSec.toFixed(0)} inf/s` : `${m.throughput.toFixed(0)} req/s`;
  const ttfc = m.ttfc ? ` ttfc p50 ${m.ttfc.p50.toFixed(2)} ms,` : '';
  const errors = m.errors > 0 ? ` ${m.errors} errors` : '';
  return `${rate},${ttfc} p50 ${m.latency.p50.toFixed(2)} ms, p99 ${m.latency.p99.toFixed(2)} ms${m.stable ? '' : ' (unstable)'}${errors}`;
}

function fmtPoint(p: PointResult): string {
  const cpu = Object.entries(p.cpuUsPerRequest).map(([k, v]) => `${k} ${v}`);
  const nodes = p.nodeBatchSizes ? `, mean batch ${Object.entries(p.nodeBatchSizes).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' ')}` : '';
  const batch = p.meanBatchSize !== undefined ? `, mean batch ${p.meanBatchSize.toFixed(1)}` : nodes;
  return `${fmt(p.measurement)}${cpu.length > 0 ? ` [CPU us/req: ${cpu.join(', ')}${batch}]` : ''}`;
}

/** The load of one point: gRPC calls for ours-grpc, streams for the stream workload, HTTP requests otherwise. */
function loadFor(id: WorkloadId, server: ServerId, target: Server, concurrency: number, suite: Suite, plan: Suite['plan'], payloads: Payloads): LoadConfig {
  if (server === 'ours-grpc' || server === 'bare-grpc-js' || server === 'bare-h2') {
    return { kind: 'grpc', address: target.grpc!, concurrency, ...grpcRequestsFor(id, payloads), plan };
  }
  if (id === 'stream') return { kind: 'stream', url: target.url, connections: concurrency, request: requestsFor('stream', server, payloads)[0]!, plan };
  if (id === 'vad') return { kind: 'sequence', url: target.url, path: '/predictions/vad', connections: concurrency, chunkMs: suite.vadChunkMs, plan };
  return { kind: 'http', url: target.url, connections: concurrency, requests: requestsFor(id, server, payloads), plan };
}

/**
 * One server's rounds at one level as one point: the round of median throughput stands for it (its
 * tables and chart), every round's figures are kept for paired ratios (round r of one server against
 * round r of another, measured back to back), CPU per request and batch sizes are averaged.
 */
function combineRounds(list: PointResult[]): PointResult {
  if (list.length === 1) return list[0]!;
  const byThroughput = [...list].sort((a, b) => a.measurement.throughput - b.measurement.throughput);
  const median = byThroughput[Math.floor((list.length - 1) / 2)]!;
  const mean = (values: (Record<string, number> | undefined)[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const key of new Set(values.flatMap((v) => Object.keys(v ?? {})))) {
      const present = values.filter((v) => v?.[key] !== undefined).map((v) => v![key]!);
      out[key] = Math.round((present.reduce((a, b) => a + b, 0) / present.length) * 10) / 10;
    }
    return out;
  };
  const point: PointResult = {
    ...median,
    cpuUsPerRequest: mean(list.map((p) => p.cpuUsPerRequest)),
    rounds: list.map((p) => ({ throughput: p.measurement.throughput, p50: p.measurement.latency.p50, p99: p.measurement.latency.p99, stable: p.measurement.stable })),
  };
  if (list.some((p) => p.nodeBatchSizes)) point.nodeBatchSizes = mean(list.map((p) => p.nodeBatchSizes));
  return point;
}

/**
 * Runs the suite: builds the archives, starts our gateway and every baseline server side by side,
 * then measures each workload level by level, the servers one after another (alternating their
 * order), and the in-process limit at each batch size. Ratios are only ever taken within one run.
 */
export async function runSuite(suite: Suite, options: RunOptions): Promise<Omit<SuiteResult, 'checks'>> {
  const started = Date.now();
  const machine = describeMachine();
  const { log } = options;
  const store = await mkdtemp(join(tmpdir(), 'ms-bench-'));
  const servers = new Map<string, Server>();
  const sampler = new RssSampler();
  const points: PointResult[] = [];
  const limits: LimitResult[] = [];
  const memory: MemoryResult[] = [];
  let flags: { vmargs?: string[]; workerVmargs?: string[] } = {};
  const dashboard = options.dashboard ? new DashboardClient() : undefined;
  let dashboardResult: { events: number; bytes: number } | undefined;
  try {
    if (suite.workloads.some((w) => w.id === 'heavy')) ensureHeavyModel();
    log(`building ${suite.workloads.length} model archives in ${store}`);
    const specs = await buildArchives(suite, store);
    const workflowSpecs = await buildWorkflows(suite, store);
    const payloads = await loadPayloads(suite.payloadCount);

    // Every server starts before any measurement, so idle ones cost the same in every run.
    const nodeOptions = [
      options.gatewayNodeOptions ?? '',
      options.profileDir ? `--import=${pathToFileURL(script('profiling/cpu-profile-preload')).href}` : '',
    ].filter((o) => o !== '');
    const env =
      nodeOptions.length > 0 || options.profileDir
        ? { ...process.env, NODE_OPTIONS: nodeOptions.join(' '), ...(options.profileDir ? { BENCH_CPU_PROF_DIR: options.profileDir } : {}) }
        : undefined;
    const starting: Promise<void>[] = [
      startGateway({ store, models: specs, workflows: workflowSpecs, logLevel: options.logLevel, vmargs: options.vmargs, workerVmargs: options.workerVmargs, env }).then((g) => {
        servers.set('ours', g.server);
        flags = { vmargs: g.vmargs, workerVmargs: g.workerVmargs };
      }),
    ];
    for (const implementation of ['grpc-js', 'http2'] as const) {
      const id = implementation === 'grpc-js' ? 'bare-grpc-js' : 'bare-h2';
      if (suite.workloads.some((w) => w.servers.includes(id))) {
        starting.push(startServer(id, 'targets/bare-grpc-target', { implementation }).then((s) => void servers.set(id, s)));
      }
    }
    if (suite.workloads.some((w) => w.servers.includes('bare-http'))) {
      starting.push(startServer('bare-http', 'targets/bare-http-target', { streamChunks: suite.streamChunks }).then((s) => void servers.set('bare-http', s)));
    }
    for (const w of suite.workloads.filter((w) => w.servers.includes('express'))) {
      const config: ExpressTargetConfig = {
        model: w.id === 'mnist' ? 'mnist' : w.id === 'heavy' ? 'heavy' : 'noop',
        intraOpNumThreads: suite.models[w.id].intraOpNumThreads,
        ...(w.id === 'mnist' ? { modelPath: MNIST_ONNX } : w.id === 'heavy' ? { modelPath: HEAVY_ONNX } : {}),
      };
      starting.push(startServer(`express-${w.id}`, 'targets/express-target', config).then((s) => void servers.set(`express-${w.id}`, s)));
    }
    for (const w of suite.workloads.filter((w) => w.servers.includes('node-batched'))) {
      const config: NodeBatchedTargetConfig = { modelPath: HEAVY_ONNX, intraOpNumThreads: suite.models.heavy.intraOpNumThreads, batchSize: suite.models.heavy.batchSize };
      starting.push(startServer(`node-batched-${w.id}`, 'targets/node-batched-target', config).then((s) => void servers.set(`node-batched-${w.id}`, s)));
    }
    const settled = await Promise.allSettled(starting);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    log(`servers up: ${[...servers].map(([k, s]) => `${k} ${s.url}`).join(', ')}`);

    const gateway = servers.get('ours')!;
    sampler.watch(gateway.child.pid, 'gateway');
    for (const [key, s] of servers) if (key !== 'ours') sampler.watch(s.child.pid, key);
    const workerPids = new Map<string, number>();
    const watchWorkers = async (): Promise<void> => {
      const { workers } = await gateway.child.request<PidsMessage>({ type: 'pids' }, 'pids', 10_000);
      for (const w of workers) {
        sampler.watch(w.pid, `worker ${w.model} (${w.workerId})`);
        workerPids.set(w.model, w.pid);
      }
    };
    const allBatchStats = async (): Promise<StatsMessage['models']> => (await gateway.child.request<StatsMessage>({ type: 'stats' }, 'stats', 10_000)).models;
    /** The models a workload's requests run on, by the label its point reports them under. */
    const servingModels = (w: WorkloadPlan): Record<string, string> =>
      w.id === 'ocr' ? { det: 'ocr__det', crop: 'ocr__crop', rec: 'ocr__rec' } : { worker: w.id };
    await watchWorkers();
    sampler.start();
    if (dashboard) {
      dashboard.start(gateway.management!);
      log(`dashboard feed open on ${gateway.management}/status/events`);
    }

    const measurePoint = async (workload: WorkloadPlan, server: ServerId, concurrency: number, plan: Suite['plan']): Promise<PointResult> => {
      if (server === 'in-process') {
        const { measurement, cpuUsPerRequest } = await measure({ kind: 'pipeline', connections: concurrency, images: payloads.ocr, plan });
        return { workload: workload.id, server, concurrency, measurement, cpuUsPerRequest };
      }
      // Model baselines run one process per workload; the others serve every workload. Both of ours
      // are the one gateway, through its HTTP and its gRPC port.
      const ours = server === 'ours' || server === 'ours-grpc';
      const target = servers.get(server === 'express' || server === 'node-batched' ? `${server}-${workload.id}` : ours ? 'ours' : server)!;
      const config = loadFor(workload.id, server, target, concurrency, suite, plan, payloads);
      const models = servingModels(workload);
      const metered: Record<string, number> = ours
        ? { gateway: gateway.child.pid, ...Object.fromEntries(Object.entries(models).map(([label, m]) => [label, workerPids.get(m) ?? 0])) }
        : { server: target.child.pid };
      const before = ours ? await allBatchStats() : undefined;
      const { measurement, cpuUsPerRequest } = await measure(config, metered);
      const point: PointResult = { workload: workload.id, server, concurrency, measurement, cpuUsPerRequest };
      if (before) {
        const after = await allBatchStats();
        const mean = (m: string): number | undefined => {
          const batches = (after[m]?.batches ?? 0) - (before[m]?.batches ?? 0);
          return batches > 0 ? ((after[m]?.batchedRequests ?? 0) - (before[m]?.batchedRequests ?? 0)) / batches : undefined;
        };
        if (workload.id === 'ocr') {
          point.nodeBatchSizes = {};
          for (const [label, m] of Object.entries(models)) {
            const b = mean(m);
            if (b !== undefined) point.nodeBatchSizes[label] = b;
          }
        } else {
          const b = mean(workload.id);
          if (b !== undefined) point.meanBatchSize = b;
        }
      }
      return point;
    };

    for (const workload of suite.workloads) {
      log(`== ${workload.title}`);
      for (const [i, concurrency] of workload.concurrency.entries()) {
        const rounds = workload.rounds ?? 1;
        const measured = new Map<ServerId, PointResult[]>(workload.servers.map((s) => [s, []]));
        for (let round = 0; round < rounds; round++) {
          // Alternating the order level by level (and round by round) keeps a slow drift of the
          // machine's load from favouring one server.
          const order = (i + round) % 2 === 0 ? workload.servers : [...workload.servers].reverse();
          for (const server of order) {
            const point = await measurePoint(workload, server, concurrency, workload.plan ?? suite.plan);
            measured.get(server)!.push(point);
            log(`${workload.id} c=${concurrency} ${server}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ''}: ${fmtPoint(point)}`);
          }
        }
        for (const list of measured.values()) points.push(combineRounds(list));
      }
      for (const spec of workload.limits) {
        const { measurement } = await measure(limitConfig(workload.id, spec, suite, payloads));
        limits.push({ workload: workload.id, batchSize: spec.batchSize, variant: spec.variant, measurement });
        log(`${workload.id} limit ${spec.variant} batch ${spec.batchSize}: ${fmt(measurement, true)}`);
      }
      await watchWorkers();
    }

    if (dashboard) {
      dashboardResult = await dashboard.stop();
      log(`dashboard feed: ${dashboardResult.events} events, ${Math.round(dashboardResult.bytes / 1024)} KB`);
    }
    const sizes = new Map<string, number>();
    for (const w of suite.workloads) if (w.id !== 'ocr') sizes.set(w.id, await modelBytes(w.id));
    for (const r of sampler.stop()) {
      const role = r.label === 'gateway' ? 'gateway' : r.label.startsWith('worker ') ? 'worker' : 'baseline';
      const model = role === 'worker' ? r.label.split(' ')[1]! : undefined;
      // Issue 6's ceilings are for its own models; the OCR nodes' workers are reported without one.
      const limitBytes = role === 'gateway' ? GATEWAY_LIMIT_BYTES : model !== undefined && sizes.has(model) ? sizes.get(model)! + WORKER_HEADROOM_BYTES : undefined;
      memory.push({ role, label: r.label, pid: r.pid, maxSampledBytes: r.maxSampled, peakBytes: r.peak, maxPrivateBytes: r.maxAnon, ...(limitBytes !== undefined ? { limitBytes } : {}) });
    }
    if (options.profileDir) await collectProfiles(options.profileDir, memory.filter((m) => m.role !== 'baseline').map((m) => m.pid));
  } finally {
    sampler.stop();
    // The gateway stops its workers gracefully before it exits.
    await Promise.allSettled([...servers.values()].map((s) => s.child.stop()));
    await rm(store, { recursive: true, force: true });
  }
  machine.loadAverage.end = currentLoad();
  const ocrPlan = suite.workloads.find((w) => w.id === 'ocr')?.plan;
  return {
    schema: 1,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 100) / 10,
    mode: suite.mode,
    machine,
    plan: suite.plan,
    ...(ocrPlan ? { ocrPlan } : {}),
    models: suite.models,
    streamChunks: suite.streamChunks,
    vadChunkMs: suite.vadChunkMs,
    gatewayNodeOptions: options.gatewayNodeOptions ?? '',
    ...flags,
    ...(dashboardResult ? { dashboard: dashboardResult } : {}),
    points,
    limits,
    memory,
  };
}
