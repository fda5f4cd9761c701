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
  return workload === 'mnist' ? 'decode+model' : 'model';
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
