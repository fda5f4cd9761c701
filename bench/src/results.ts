import type { Machine } from './machine.js';
import type { ModelSettings, Mode, ServerId, WorkloadId } from './suite.js';
import type { Measurement, WindowPlan } from './windows.js';

/** One server at one closed-loop concurrency level. */
export interface PointResult {
  workload: WorkloadId;
  server: ServerId;
  concurrency: number;
  measurement: Measurement;
  /**
   * CPU microseconds per completed request, by process (`gateway`, `worker`, `server` for a baseline,
   * `client` for the load generator), over the whole run. On a 2-core machine their sum bounds throughput.
   */
  cpuUsPerRequest: Record<string, number>;
  /** Ours only: requests per batch the gateway sent its worker during the run (warm-up included). */
  meanBatchSize?: number;
  /** Ours, a workflow: the mean batch of each node's model (by node), as meanBatchSize. */
  nodeBatchSizes?: Record<string, number>;
  /**
   * A workload measured in rounds (OCR): each round's figures, in order; round r of every server at
   * this level ran back to back. `measurement` is then the round of median throughput.
   */
  rounds?: { throughput: number; p50: number; p99: number; stable: boolean }[];
}

/** The in-process limit at one batch size (throughput in `unitsPerSec` = inferences/s). */
export interface LimitResult {
  workload: WorkloadId;
  batchSize: number;
  variant: 'model' | 'decode+model' | 'handler';
  measurement: Measurement;
}

/** Resident memory of one process over the runs. */
export interface MemoryResult {
  role: 'gateway' | 'worker' | 'baseline';
  label: string;
  pid: number;
  maxSampledBytes: number;
  peakBytes: number;
  /** Largest private (anonymous) resident memory sampled; VmRSS minus shared file-backed pages. */
  maxPrivateBytes: number;
  /** The target's ceiling, when there is one. */
  limitBytes?: number;
}

/** One target of issue 6 with what this run measured. */
export interface TargetCheck {
  id: string;
  target: string;
  measured: string;
  /** The figure compared with the goal (a ratio, or milliseconds / megabytes where the goal is one). */
  value: number | null;
  goal: string;
  pass: boolean | null;
  /** Whether every measurement it depends on met the stability rule. */
  stable: boolean;
}

export interface SuiteResult {
  schema: 1;
  startedAt: string;
  durationS: number;
  mode: Mode;
  machine: Machine;
  plan: WindowPlan;
  /** The OCR workload's own windows (its requests are slow); absent before it existed. */
  ocrPlan?: WindowPlan;
  models: Record<WorkloadId, ModelSettings>;
  streamChunks: number;
  /** Audio per request of the VAD's sequences; absent before the VAD workload. */
  vadChunkMs?: number;
  /** NODE_OPTIONS the gateway (and so its workers) ran with; empty for Node's defaults. */
  gatewayNodeOptions: string;
  /** Node flags of the gateway process and of each worker (config `vmargs` / `worker_vmargs`); absent before 2026-11-27. */
  vmargs?: string[];
  workerVmargs?: string[];
  /** With `--dashboard`: what the status feed client received during the run. */
  dashboard?: { events: number; bytes: number };
  points: PointResult[];
  limits: LimitResult[];
  memory: MemoryResult[];
  checks: TargetCheck[];
}
