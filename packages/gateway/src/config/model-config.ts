import { z } from 'zod';
import { ModelServerError } from '@model-server/protocol';
import type { ServerConfig } from './server-config.js';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().min(0);

/**
 * The keys of model-config.yaml the gateway reads. TorchServe's camelCase names are native; Triton's
 * dynamic-batcher names are accepted too. When both name the same setting, TorchServe's key wins
 * (documented in docs/configuration.md). Other keys (`handler:`, `onnx:`) are for the worker.
 */
export const modelConfigSchema = z.looseObject({
  minWorkers: nonNegInt.optional(),
  maxWorkers: nonNegInt.optional(),
  batchSize: posInt.optional(),
  maxBatchDelay: nonNegInt.optional(),
  responseTimeout: posInt.optional(),
  startupTimeout: posInt.optional(),
  maxRetryTimeoutInSec: nonNegInt.optional(),
  jobQueueSize: posInt.optional(),
  // Triton vocabulary
  max_batch_size: nonNegInt.optional(),
  max_queue_delay_microseconds: nonNegInt.optional(),
  preferred_batch_size: z.array(posInt).optional(),
  max_queue_size: nonNegInt.optional(),
});

/** A model version's resolved settings, all in milliseconds. */
export interface ModelSettings {
  minWorkers: number;
  maxWorkers: number;
  batchSize: number;
  maxBatchDelayMs: number;
  preferredBatchSizes: readonly number[];
  responseTimeoutMs: number;
  startupTimeoutMs: number;
  maxRetryTimeoutMs: number;
  jobQueueSize: number;
}

/** Values given at registration (management API, `--models`), which win over the archive's yaml. */
export interface ModelOverrides {
  minWorkers?: number | undefined;
  maxWorkers?: number | undefined;
  batchSize?: number | undefined;
  maxBatchDelayMs?: number | undefined;
  responseTimeoutMs?: number | undefined;
  startupTimeoutMs?: number | undefined;
}

/**
 * The settings of a model version from its archive's model-config.yaml and the registration's
 * overrides. A bad value is the archive's fault, refused with 400 INVALID_MODEL_ARCHIVE naming the key
 * (`file` is the archive's config file as the operator knows it).
 */
export function resolveModelSettings(
  raw: Record<string, unknown>,
  server: ServerConfig,
  file: string,
  overrides: ModelOverrides = {},
): ModelSettings {
  const parsed = modelConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: `${key}: ${issue.message} (got ${JSON.stringify(raw[key])})` });
  }
  const c = parsed.data;
  const minWorkers = overrides.minWorkers ?? c.minWorkers ?? server.default_workers_per_model;
  const maxWorkers = Math.max(minWorkers, overrides.maxWorkers ?? c.maxWorkers ?? minWorkers);
  const tritonDelayMs = c.max_queue_delay_microseconds === undefined ? undefined : c.max_queue_delay_microseconds / 1000;
  const tritonQueue = c.max_queue_size === undefined || c.max_queue_size === 0 ? undefined : c.max_queue_size;
  const settings: ModelSettings = {
    minWorkers,
    maxWorkers,
    batchSize: overrides.batchSize ?? c.batchSize ?? (c.max_batch_size || undefined) ?? 1,
    maxBatchDelayMs: overrides.maxBatchDelayMs ?? c.maxBatchDelay ?? tritonDelayMs ?? 100,
    preferredBatchSizes: [...(c.preferred_batch_size ?? [])].sort((a, b) => b - a),
    responseTimeoutMs: overrides.responseTimeoutMs ?? (c.responseTimeout ?? server.default_response_timeout) * 1000,
    startupTimeoutMs: overrides.startupTimeoutMs ?? (c.startupTimeout ?? server.default_startup_timeout) * 1000,
    maxRetryTimeoutMs: (c.maxRetryTimeoutInSec ?? 300) * 1000,
    jobQueueSize: c.jobQueueSize ?? tritonQueue ?? server.job_queue_size,
  };
  if (settings.maxWorkers < settings.minWorkers) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: 'maxWorkers cannot be less than minWorkers' });
  }
  // Refused rather than clamped: an archive asking for more workers than the server allows any model
  // would otherwise run with fewer than it says, and nobody would notice.
  for (const key of ['minWorkers', 'maxWorkers'] as const) {
    if (settings[key] > server.max_workers_per_model) {
      throw new ModelServerError('INVALID_MODEL_ARCHIVE', {
        archive: file,
        reason: `${key}: ${settings[key]} exceeds the server's max_workers_per_model (${server.max_workers_per_model})`,
      });
    }
  }
  return Object.freeze(settings);
}
