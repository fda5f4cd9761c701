import type { LimitResult, PointResult, SuiteResult } from '../results.js';
import type { ServerId, WorkloadId } from '../suite.js';

export function findPoint(r: Pick<SuiteResult, 'points'>, workload: WorkloadId, server: ServerId, concurrency: number): PointResult | undefined {
  return r.points.find((p) => p.workload === workload && p.server === server && p.concurrency === concurrency);
}

export function findLimit(
  r: Pick<SuiteResult, 'limits'>,
  workload: WorkloadId,
  batchSize: number,
  variant: LimitResult['variant'],
): LimitResult | undefined {
  return r.limits.find((l) => l.workload === workload && l.batchSize === batchSize && l.variant === variant);
}

/** The limit the target compares a workload with: decode included for images, model only otherwise. */
export function limitVariant(workload: WorkloadId): LimitResult['variant'] {
  return workload === 'mnist' ? 'decode+model' : workload === 'vad' ? 'handler' : 'model';
}

/**
 * The limit a workload's level is compared with: the model's batch size in-process, or for the VAD the
 * handler with one chunk of each of the level's sequences per batch.
 */
export function limitFor(r: Pick<SuiteResult, 'limits' | 'models'>, workload: WorkloadId, concurrency: number): LimitResult | undefined {
  return findLimit(r, workload, workload === 'vad' ? concurrency : r.models[workload].batchSize, limitVariant(workload));
}

/**
 * What any server could reach on this machine for a model workload, from figures of the same run:
 * the model costs 1/limit seconds of a core per inference, and the HTTP floor (bare node:http server
 * plus the load generator, CPU per request at the same concurrency) comes on top; all of it shares
 * the machine's cores. Capped by the limit itself, since one worker runs the model on one core.
 * Undefined when the run lacks the bare server or the limit at this level.
 */
export function floorBound(r: Pick<SuiteResult, 'points' | 'limits' | 'models' | 'machine'>, workload: WorkloadId, concurrency: number): number | undefined {
  const bare = findPoint(r, workload, 'bare-http', concurrency);
  const limit = findLimit(r, workload, r.models[workload].batchSize, limitVariant(workload));
  const server = bare?.cpuUsPerRequest['server'];
  const client = bare?.cpuUsPerRequest['client'];
  if (!limit || server === undefined || client === undefined || !(limit.measurement.unitsPerSec > 0)) return undefined;
  const modelUs = 1e6 / limit.measurement.unitsPerSec;
  return Math.min(limit.measurement.unitsPerSec, (r.machine.cpus * 1e6) / (modelUs + server + client));
}

export const MB = 1024 * 1024;

export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

export function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

export function rate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}
