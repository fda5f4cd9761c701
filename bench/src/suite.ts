import type { WindowPlan } from './windows.js';

export type Mode = 'full' | 'quick' | 'tiny';
export type WorkloadId = 'noop' | 'mnist' | 'heavy' | 'stream' | 'mnist-tensor' | 'vad' | 'ocr';
/**
 * Servers a load generator can be pointed at. `ours-grpc` is our gateway too, through its gRPC
 * inference port (TorchServe's Predictions; ModelInfer for mnist-tensor), measured beside `ours` (HTTP).
 * `bare-grpc-js` and `bare-h2` are the gRPC floors (no-op only), as `bare-http` is HTTP's. `in-process`
 * is no server but the OCR pipeline run in the load process itself (examples/ocr/pipeline.ts: the same
 * node functions, no HTTP, no IPC).
 */
export type ServerId = 'ours' | 'ours-grpc' | 'bare-http' | 'bare-grpc-js' | 'bare-h2' | 'express' | 'node-batched' | 'in-process';

export const WORKLOAD_IDS: readonly WorkloadId[] = ['noop', 'mnist', 'heavy', 'stream', 'mnist-tensor', 'vad', 'ocr'];

/** The in-process limit at one batch size. */
export interface LimitSpec {
  batchSize: number;
  /**
   * `model`: session runs only; `decode+model`: the handler's image decoding included; `handler`: the
   * whole handler in-process (the VAD: decoding, framing, ONNX runs, segmenting).
   */
  variant: 'model' | 'decode+model' | 'handler';
}

export interface WorkloadPlan {
  id: WorkloadId;
  title: string;
  /** Closed-loop concurrency levels. */
  concurrency: number[];
  /** Servers measured at each level, side by side (the order alternates from level to level). */
  servers: ServerId[];
  limits: LimitSpec[];
  /** Its own windows, for requests far slower than the suite's (OCR: a third of a second each). */
  plan?: WindowPlan;
  /**
   * Rounds per level: every server measured this many times, alternating, so that ratios can be taken
   * between measurements made back to back (a shared machine's load drifts within a run). Default 1.
   */
  rounds?: number;
}

/** model-config.yaml of each bench model, as the archive carries it. */
export interface ModelSettings {
  /** Worker processes (minWorkers = maxWorkers). */
  workers: number;
  batchSize: number;
  maxBatchDelay: number;
  intraOpNumThreads: number;
  /** Extra YAML lines (the handler section). */
  extra?: string;
}

export interface Suite {
  mode: Mode;
  plan: WindowPlan;
  workloads: WorkloadPlan[];
  models: Record<WorkloadId, ModelSettings>;
  /** Lines each streaming response carries before its final `done`. */
  streamChunks: number;
  /** Distinct request bodies cycled through by the image and tensor workloads. */
  payloadCount: number;
  /** Audio per request of the VAD's sequences. */
  vadChunkMs: number;
}

/**
 * The models' serving settings. mnist keeps the example's shipped model-config.yaml values. The others
 * batch opportunistically (maxBatchDelay 0): a batch leaves as soon as the worker is free, with
 * whatever is queued, so concurrency 1 never waits for a batch to fill and streams interleave.
 */
const MODELS: Record<WorkloadId, ModelSettings> = {
  noop: { workers: 1, batchSize: 32, maxBatchDelay: 0, intraOpNumThreads: 1 },
  mnist: { workers: 1, batchSize: 8, maxBatchDelay: 0, intraOpNumThreads: 1 },
  heavy: { workers: 1, batchSize: 32, maxBatchDelay: 0, intraOpNumThreads: 1 },
  stream: { workers: 1, batchSize: 8, maxBatchDelay: 0, intraOpNumThreads: 1 },
  // The mnist example again, sent tensors (Open Inference Protocol) instead of PNGs.
  'mnist-tensor': { workers: 1, batchSize: 8, maxBatchDelay: 0, intraOpNumThreads: 1 },
  // The vad example's serving settings on one worker (the limit runs on one core too): sequence
  // batching, a batch of up to 16 sequences' chunks.
  vad: {
    workers: 1,
    batchSize: 16,
    maxBatchDelay: 0,
    intraOpNumThreads: 1,
    extra: ['sequenceBatching: true', 'sequenceMaxIdleMSec: 60000', 'maxNumSequence: 64', 'maxSequenceJobQueueSize: 1', 'handler:', '  minSilenceMs: 300'].join('\n'),
  },
  // The OCR workflow as it ships (examples/ocr/workflow): one worker per node, no batching delay; the
  // batch size is the rec node's (det 2, crop 1), the one that pools requests.
  ocr: { workers: 1, batchSize: 8, maxBatchDelay: 0, intraOpNumThreads: 1 },
};

/** Concurrent sequences of the VAD workload (the 16), at every level but tiny's. */
const VAD_SEQUENCES = 16;

const PLANS: Record<Mode, WindowPlan> = {
  full: { warmupMs: 2000, windowMs: 1500, stableWindows: 3, maxWindows: 6, stabilityPct: 10 },
  quick: { warmupMs: 1000, windowMs: 1000, stableWindows: 3, maxWindows: 5, stabilityPct: 10 },
  tiny: { warmupMs: 100, windowMs: 150, stableWindows: 2, maxWindows: 2, stabilityPct: 10 },
};

/**
 * OCR requests take about 330 ms each in one process (the sample invoice), 8 in flight about 2.6 s:
 * windows long enough to hold a dozen answers or more at either level, and several short rounds per
 * level rather than one long measurement per server, so that each ratio compares two measurements
 * made back to back.
 */
const OCR_PLANS: Record<Mode, { plan: WindowPlan; rounds: number }> = {
  full: { plan: { warmupMs: 4000, windowMs: 6000, stableWindows: 2, maxWindows: 2, stabilityPct: 10 }, rounds: 5 },
  quick: { plan: { warmupMs: 3000, windowMs: 5000, stableWindows: 2, maxWindows: 2, stabilityPct: 10 }, rounds: 3 },
  tiny: { plan: { warmupMs: 500, windowMs: 3000, stableWindows: 1, maxWindows: 1, stabilityPct: 10 }, rounds: 1 },
};

/** (g) The OCR workflow through the server against the same pipeline in one process, at 1 and 8. */
function ocrWorkload(mode: Mode): WorkloadPlan {
  const concurrency = mode === 'tiny' ? [1] : [1, 8];
  const { plan, rounds } = OCR_PLANS[mode];
  return { id: 'ocr', title: '(g) OCR workflow (det -> crop -> rec), the sample invoice', concurrency, servers: ['ours', 'in-process'], limits: [], plan, rounds };
}

function workloads(mode: Mode): WorkloadPlan[] {
  return [...modelWorkloads(mode), ocrWorkload(mode)];
}

function modelWorkloads(mode: Mode): WorkloadPlan[] {
  const heavyBatch = MODELS.heavy.batchSize;
  const mnistBatch = MODELS.mnist.batchSize;
  if (mode === 'tiny') {
    return [
      { id: 'noop', title: '(a) no-op handler', concurrency: [2], servers: ['ours', 'ours-grpc', 'bare-http'], limits: [] },
      { id: 'mnist', title: '(b) mnist, one PNG per request', concurrency: [2], servers: ['ours', 'express'], limits: [{ batchSize: 2, variant: 'decode+model' }] },
      { id: 'heavy', title: '(c) heavy MLP', concurrency: [2], servers: ['ours', 'node-batched'], limits: [{ batchSize: 2, variant: 'model' }] },
      { id: 'stream', title: '(d) streaming', concurrency: [2], servers: ['ours', 'bare-http'], limits: [] },
      { id: 'mnist-tensor', title: '(e) mnist, one FP32 tensor per request (OIP)', concurrency: [2], servers: ['ours', 'ours-grpc'], limits: [] },
      { id: 'vad', title: '(f) VAD sequences, 100 ms chunks', concurrency: [2], servers: ['ours'], limits: [{ batchSize: 2, variant: 'handler' }] },
    ];
  }
  const vad: WorkloadPlan = {
    id: 'vad',
    title: `(f) VAD, ${VAD_SEQUENCES} sequences of 100 ms chunks`,
    concurrency: [VAD_SEQUENCES],
    servers: ['ours'],
    limits: [{ batchSize: VAD_SEQUENCES, variant: 'handler' }],
  };
  if (mode === 'quick') {
    // Only the levels the targets name, plus two streaming levels.
    return [
      { id: 'noop', title: '(a) no-op handler', concurrency: [1, 32], servers: ['ours', 'ours-grpc', 'bare-http', 'bare-grpc-js', 'bare-h2'], limits: [] },
      {
        id: 'mnist',
        title: '(b) mnist, one PNG per request',
        concurrency: [64],
        servers: ['ours', 'express', 'bare-http'],
        limits: [{ batchSize: mnistBatch, variant: 'decode+model' }],
      },
      { id: 'heavy', title: '(c) heavy MLP, batched', concurrency: [64], servers: ['ours', 'ours-grpc', 'bare-http', 'node-batched'], limits: [{ batchSize: heavyBatch, variant: 'model' }] },
      { id: 'stream', title: '(d) streaming', concurrency: [1, 8], servers: ['ours', 'bare-http'], limits: [] },
      { id: 'mnist-tensor', title: '(e) mnist, one FP32 tensor per request (OIP)', concurrency: [1, 64], servers: ['ours', 'ours-grpc'], limits: [] },
      vad,
    ];
  }
  return [
    { id: 'noop', title: '(a) no-op handler', concurrency: [1, 4, 16, 32, 64], servers: ['ours', 'ours-grpc', 'bare-http', 'bare-grpc-js', 'bare-h2', 'express'], limits: [] },
    {
      id: 'mnist',
      title: '(b) mnist, one PNG per request',
      concurrency: [1, 8, 32, 64],
      servers: ['ours', 'express', 'bare-http'],
      limits: [
        { batchSize: 1, variant: 'model' },
        { batchSize: mnistBatch, variant: 'model' },
        { batchSize: 1, variant: 'decode+model' },
        { batchSize: mnistBatch, variant: 'decode+model' },
      ],
    },
    {
      id: 'heavy',
      title: '(c) heavy MLP, batched',
      concurrency: [1, 8, 32, 64],
      servers: ['ours', 'ours-grpc', 'express', 'node-batched', 'bare-http'],
      limits: [1, 8, heavyBatch, 64].filter((b, i, all) => all.indexOf(b) === i).map((batchSize) => ({ batchSize, variant: 'model' as const })),
    },
    { id: 'stream', title: '(d) streaming', concurrency: [1, 8, 32], servers: ['ours', 'bare-http'], limits: [] },
    { id: 'mnist-tensor', title: '(e) mnist, one FP32 tensor per request (OIP)', concurrency: [1, 8, 32, 64], servers: ['ours', 'ours-grpc'], limits: [] },
    vad,
  ];
}

/** Baselines that serve one workload only (they hold that workload's model). */
const SINGLE_WORKLOAD_SERVERS: Partial<Record<ServerId, WorkloadId>> = { 'node-batched': 'heavy', 'bare-grpc-js': 'noop', 'bare-h2': 'noop' };

export function buildSuite(mode: Mode, only?: readonly WorkloadId[]): Suite {
  for (const w of workloads(mode)) {
    for (const server of w.servers) {
      const served = SINGLE_WORKLOAD_SERVERS[server];
      if (served !== undefined && served !== w.id) throw new Error(`${mode} suite: ${server} serves ${served} only, not ${w.id}`);
    }
  }
  return {
    mode,
    plan: PLANS[mode],
    workloads: workloads(mode).filter((w) => !only || only.includes(w.id)),
    models: MODELS,
    streamChunks: 16,
    payloadCount: mode === 'tiny' ? 8 : 64,
    vadChunkMs: 100,
  };
}
