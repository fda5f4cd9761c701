import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CpuMeter } from './cpu.js';
import { Child } from './ipc.js';
import { buildArchives, ensureHeavyModel, heavyRows, HEAVY_ONNX, MNIST_ONNX, mnistPngs, modelBytes } from './fixtures.js';
import type { LimitLoadConfig, LoadConfig, RequestSpec } from './loads/load-config.js';
import { currentLoad, describeMachine } from './machine.js';
import { mnistPixels } from './mnist-preprocess.js';
import { script } from './paths.js';
import type { LimitResult, MemoryResult, PointResult, SuiteResult } from './results.js';
import { RssSampler } from './rss.js';
import type { LimitSpec, ServerId, Suite, WorkloadId, WorkloadPlan } from './suite.js';
import type { ExpressTargetConfig, GatewayTargetConfig, PidsMessage, ReadyMessage } from './targets/target-messages.js';
import type { Measurement } from './windows.js';

const START_TIMEOUT_MS = 120_000;
const MB = 1024 * 1024;
/** Issue 6: a worker may use its model's size plus this much. */
const WORKER_HEADROOM_BYTES = 100 * MB;
const GATEWAY_LIMIT_BYTES = 150 * MB;

export interface RunOptions {
  /** Write --cpu-prof profiles of the gateway and its workers here. */
  profileDir?: string;
  logLevel: string;
  log: (line: string) => void;
}

interface Server {
  child: Child;
  url: string;
}

interface Payloads {
  mnist: Uint8Array[];
  heavy: Uint8Array[];
}

function fmtCpu(cpu: Record<string, number>): string {
  const parts = Object.entries(cpu).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? ` [CPU us/req: ${parts.join(', ')}]` : '';
}

function fmt(m: Measurement, units = false): string {
  const rate = units ? `${m.unitsPerSec.toFixed(0)} inf/s` : `${m.throughput.toFixed(0)} req/s`;
  const ttfc = m.ttfc ? ` ttfc p50 ${m.ttfc.p50.toFixed(2)} ms,` : '';
  const errors = m.errors > 0 ? ` ${m.errors} errors` : '';
  return `${rate},${ttfc} p50 ${m.latency.p50.toFixed(2)} ms, p99 ${m.latency.p99.toFixed(2)} ms${m.stable ? '' : ' (unstable)'}${errors}`;
}

async function startServer(name: string, file: string, config: unknown, env?: NodeJS.ProcessEnv): Promise<Server> {
  const child = Child.fork(name, script(file), env ? { env } : {});
  const ready = await child.request<ReadyMessage>({ type: 'start', config } as never, 'ready', START_TIMEOUT_MS);
  return { child, url: ready.url };
}

/**
 * Runs one load child to completion. `metered` names the server processes whose CPU time is read
 * around the run; the load generator itself is metered as `client`.
 */
async function measure(config: LoadConfig, suite: Suite, metered: Record<string, number> = {}): Promise<{ measurement: Measurement; cpuUsPerRequest: Record<string, number> }> {
  const file = config.kind === 'http' ? 'loads/http-load' : config.kind === 'stream' ? 'loads/stream-load' : 'loads/limit-load';
  const child = Child.fork(`${config.kind} load`, script(file));
  const { plan } = suite;
  const timeout = plan.warmupMs + plan.maxWindows * plan.windowMs + 60_000;
  const meter = new CpuMeter();
  try {
    meter.start({ ...metered, client: child.pid });
    const { measurement } = await child.request<{ type: 'result'; measurement: Measurement }>({ type: 'run', config } as never, 'result', timeout);
    const cpuMs = meter.stop();
    const cpuUsPerRequest: Record<string, number> = {};
    for (const [label, used] of Object.entries(cpuMs)) {
      if (measurement.totalCompleted > 0) cpuUsPerRequest[label] = Math.round((used * 1000) / measurement.totalCompleted);
    }
    return { measurement, cpuUsPerRequest };
  } finally {
    await child.stop();
  }
}

function requestsFor(id: WorkloadId, server: ServerId, payloads: Payloads): RequestSpec[] {
  const path = server === 'bare-http' ? (id === 'stream' ? '/stream' : '/predictions/noop') : `/predictions/${id}`;
  switch (id) {
    case 'mnist':
      return payloads.mnist.map((body) => ({ path, contentType: 'image/png', body }));
    case 'heavy':
      return payloads.heavy.map((body) => ({ path, contentType: 'application/octet-stream', body }));
    default:
      return [{ path, contentType: 'application/json', body: new TextEncoder().encode('{}') }];
  }
}

function limitConfig(workload: WorkloadPlan, spec: LimitSpec, suite: Suite, payloads: Payloads): LimitLoadConfig {
  const mnist = workload.id === 'mnist';
  const base = {
    kind: 'limit' as const,
    modelPath: mnist ? MNIST_ONNX : HEAVY_ONNX,
    intraOpNumThreads: suite.models[workload.id].intraOpNumThreads,
    batchSize: spec.batchSize,
    inputName: 'input',
    plan: suite.plan,
  };
  if (!mnist) return { ...base, input: 'tensor', payloads: payloads.heavy };
  if (spec.variant === 'decode+model') return { ...base, input: 'mnist-png', payloads: payloads.mnist };
  return {
    ...base,
    input: 'tensor',
    payloads: payloads.mnist.map((png) => {
      const pixels = mnistPixels(png);
      return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    }),
  };
}

/** Asks every profiled process (see profiling/cpu-profile-preload.ts) for its profile and waits for the files. */
async function collectProfiles(dir: string, pids: number[]): Promise<void> {
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 'SIGUSR2');
      return true;
    } catch {
      return false;
    }
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const written = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    if (alive.every((pid) => written.some((f) => f.includes(`.${pid}.`)))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
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
  try {
    if (suite.workloads.some((w) => w.id === 'heavy')) ensureHeavyModel();
    log(`building ${suite.workloads.length} model archives in ${store}`);
    const specs = await buildArchives(suite, store);
    const payloads: Payloads = { mnist: await mnistPngs(suite.payloadCount), heavy: heavyRows(suite.payloadCount) };

    // Every server starts before any measurement, so idle ones cost the same in every run.
    const env = options.profileDir
      ? { ...process.env, NODE_OPTIONS: `--import=${pathToFileURL(script('profiling/cpu-profile-preload')).href}`, BENCH_CPU_PROF_DIR: options.profileDir }
      : undefined;
    const gatewayConfig: GatewayTargetConfig = { store, models: specs, logLevel: options.logLevel };
    const starting: Promise<void>[] = [
      startServer('gateway', 'targets/gateway-target', gatewayConfig, env).then((s) => void servers.set('ours', s)),
    ];
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
    await watchWorkers();
    sampler.start();

    for (const workload of suite.workloads) {
      log(`== ${workload.title}`);
      for (const [i, concurrency] of workload.concurrency.entries()) {
        // Alternating the order level by level keeps a slow drift of the machine's load from favouring one server.
        const order = i % 2 === 0 ? workload.servers : [...workload.servers].reverse();
        for (const server of order) {
          const target = servers.get(server === 'express' ? `express-${workload.id}` : server)!;
          const config: LoadConfig =
            workload.id === 'stream'
              ? { kind: 'stream', url: target.url, connections: concurrency, request: requestsFor('stream', server, payloads)[0]!, plan: suite.plan }
              : { kind: 'http', url: target.url, connections: concurrency, requests: requestsFor(workload.id, server, payloads), plan: suite.plan };
          const metered: Record<string, number> =
            server === 'ours' ? { gateway: gateway.child.pid, worker: workerPids.get(workload.id) ?? 0 } : { server: target.child.pid };
          const { measurement, cpuUsPerRequest } = await measure(config, suite, metered);
          points.push({ workload: workload.id, server, concurrency, measurement, cpuUsPerRequest });
          log(`${workload.id} c=${concurrency} ${server}: ${fmt(measurement)}${fmtCpu(cpuUsPerRequest)}`);
        }
      }
      for (const spec of workload.limits) {
        const { measurement } = await measure(limitConfig(workload, spec, suite, payloads), suite);
        limits.push({ workload: workload.id, batchSize: spec.batchSize, variant: spec.variant, measurement });
        log(`${workload.id} limit ${spec.variant} batch ${spec.batchSize}: ${fmt(measurement, true)}`);
      }
      await watchWorkers();
    }

    const sizes = new Map<string, number>();
    for (const w of suite.workloads) sizes.set(w.id, await modelBytes(w.id));
    for (const r of sampler.stop()) {
      const role = r.label === 'gateway' ? 'gateway' : r.label.startsWith('worker ') ? 'worker' : 'baseline';
      const model = role === 'worker' ? r.label.split(' ')[1]! : undefined;
      const limitBytes = role === 'gateway' ? GATEWAY_LIMIT_BYTES : model !== undefined ? (sizes.get(model) ?? 0) + WORKER_HEADROOM_BYTES : undefined;
      memory.push({ role, label: r.label, pid: r.pid, maxSampledBytes: r.maxSampled, peakBytes: r.peak, ...(limitBytes !== undefined ? { limitBytes } : {}) });
    }
    if (options.profileDir) await collectProfiles(options.profileDir, memory.filter((m) => m.role !== 'baseline').map((m) => m.pid));
  } finally {
    sampler.stop();
    // The gateway stops its workers gracefully, so their CPU profiles get written.
    await Promise.allSettled([...servers.values()].map((s) => s.child.stop()));
    await rm(store, { recursive: true, force: true });
  }
  machine.loadAverage.end = currentLoad();
  return {
    schema: 1,
    startedAt: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 100) / 10,
    mode: suite.mode,
    machine,
    plan: suite.plan,
    models: suite.models,
    streamChunks: suite.streamChunks,
    points,
    limits,
    memory,
  };
}
