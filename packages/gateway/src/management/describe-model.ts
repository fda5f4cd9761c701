import { ModelServerError } from '@model-server/protocol';
import { maxOpenSequences } from '../config/model-config.js';
import type { ModelVersion } from '../models/model-version.js';
import type { WorkerProcess } from '../workers/worker-process.js';
import type { WorkerState } from '../workers/worker-state.js';
import { readProcessStats } from '../metrics/process-stats.js';
import type { ManagementContext } from './management-context.js';
import { modelConfigWarnings } from '../config/model-config-keys.js';

function configNotes(v: ModelVersion): { configWarnings?: string[] } {
  const warnings = modelConfigWarnings(v.archive.modelConfig, v.archive.manifest.model.configFile ?? 'model-config.yaml');
  return warnings.length > 0 ? { configWarnings: warnings } : {};
}

const MS_PER_S = 1000;

/** Worker states as describe shows them. TorchServe only knows READY and UNLOADING, and says READY for dead workers (its #2231). */
const STATUS: Record<WorkerState, string> = {
  created: 'STARTING',
  starting: 'STARTING',
  ready: 'READY',
  busy: 'READY',
  stopping: 'UNLOADING',
  stopped: 'STOPPED',
  failed: 'FAILED',
};

export interface DescribedWorker {
  id: string;
  startTime: string;
  status: string;
  memoryUsage: number;
  pid: number;
  gpu: boolean;
  gpuUsage: string;
}

/** TorchServe's worker id is its port number; ours is `W-<n>-<model>_<version>`, whose `<n>` plays that part. */
function workerNumber(id: string): string {
  return /^W-(\d+)-/.exec(id)?.[1] ?? id;
}

async function describeWorker(w: WorkerProcess): Promise<DescribedWorker> {
  const stats = w.pid === undefined ? undefined : await readProcessStats(w.pid);
  return {
    id: workerNumber(w.id),
    // TorchServe prints local time with a literal Z; this is true UTC in the same format.
    startTime: w.startedAt.toISOString(),
    status: STATUS[w.state],
    memoryUsage: stats?.rssBytes ?? w.rssBytes,
    pid: w.pid ?? -1,
    gpu: false,
    gpuUsage: 'N/A',
  };
}

/** One element of `GET /models/{m}[/{v}]`: TorchServe's DescribeModelResponse fields, in its order. */
export async function describeModel(v: ModelVersion, loadedAtStartup: boolean): Promise<Record<string, unknown>> {
  const s = v.settings;
  const workers = await Promise.all([...v.pool.workers].map(describeWorker));
  return {
    modelName: v.name,
    modelVersion: v.version,
    modelUrl: v.url,
    runtime: v.archive.manifest.runtime,
    minWorkers: s.minWorkers,
    maxWorkers: s.maxWorkers,
    batchSize: s.batchSize,
    maxBatchDelay: s.maxBatchDelayMs,
    responseTimeout: Math.round(s.responseTimeoutMs / MS_PER_S),
    startupTimeout: Math.round(s.startupTimeoutMs / MS_PER_S),
    maxRetryTimeoutInSec: Math.round(s.maxRetryTimeoutMs / MS_PER_S),
    clientTimeoutInMills: 0,
    parallelType: '',
    parallelLevel: 0,
    deviceType: 'cpu',
    continuousBatching: false,
    useJobTicket: false,
    useVenv: false,
    // maxNumSequence is the bound in force: at least batchSize x maxWorkers, as TorchServe computes it.
    stateful: s.sequence !== undefined,
    sequenceMaxIdleMSec: s.sequence?.maxIdleMs ?? 0,
    sequenceTimeoutMSec: s.sequence?.timeoutMs ?? 0,
    maxNumSequence: s.sequence ? maxOpenSequences(s) : 0,
    maxSequenceJobQueueSize: s.sequence?.maxQueue ?? 0,
    loadedAtStartup,
    // Ours (TorchServe has none): loading, ready, degraded, failing, failed, idle, stopped; and why.
    state: v.pool.state,
    ...(v.pool.state === 'failing' || v.pool.state === 'failed' ? { lastError: v.pool.lastError?.message } : {}),
    workers,
    jobQueueStatus: { remainingCapacity: Math.max(0, v.queueCapacity - v.queueSize), pendingRequests: v.queueSize },
    // Ours: sequences open now, for a stateful model.
    ...(v.sequences ? { openSequences: v.sequences.openCount } : {}),
    // What the archive's model-config.yaml asks for that the fields above do not reflect.
    ...configNotes(v),
  };
}

/**
 * `GET /models/{m}[/{v}]` (and gRPC DescribeModel): the default version, the one named, or with `all`
 * every version; MODEL_NOT_FOUND / MODEL_VERSION_NOT_FOUND otherwise.
 */
export async function describeVersions(ctx: ManagementContext, model: string, version: string | undefined): Promise<Record<string, unknown>[]> {
  const versions = version === 'all' ? ctx.registry.versionsOf(model) : [ctx.registry.resolve(model, version)];
  if (versions.length === 0) throw new ModelServerError('MODEL_NOT_FOUND', { model });
  return Promise.all(versions.map((v) => describeModel(v, ctx.loadedAtStartup(v))));
}
