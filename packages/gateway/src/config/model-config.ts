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
  // TorchServe's stateful sequences
  sequenceBatching: z.boolean().optional(),
  sequenceMaxIdleMSec: nonNegInt.optional(),
  sequenceTimeoutMSec: nonNegInt.optional(),
  maxNumSequence: posInt.optional(),
  maxSequenceJobQueueSize: posInt.optional(),
  // Triton vocabulary
  max_batch_size: nonNegInt.optional(),
  max_queue_delay_microseconds: nonNegInt.optional(),
  preferred_batch_size: z.array(posInt).optional(),
  max_queue_size: nonNegInt.optional(),
});

/** How a stateful model's sequences are bounded (model-config.yaml's sequence keys, resolved). */
export interface SequenceSettings {
  /** A sequence with nothing queued or running for this long ends (sequenceMaxIdleMSec). */
  maxIdleMs: number;
  /** A sequence ends this long after it started; 0: no limit (sequenceTimeoutMSec). */
  timeoutMs: number;
  /** maxNumSequence as configured; the bound is at least batchSize x maxWorkers (see maxOpenSequences). */
  maxNumSequence: number;
  /** Requests of one sequence waiting behind its running one (maxSequenceJobQueueSize). */
  maxQueue: number;
}

/** Keys that only mean something for a stateful model. */
const SEQUENCE_KEYS = ['sequenceMaxIdleMSec', 'sequenceTimeoutMSec', 'maxNumSequence', 'maxSequenceJobQueueSize'] as const;

/**
 * Sequences open at once, TorchServe's rule: at least batchSize x maxWorkers, so that every worker can
 * fill its batches with different sequences.
 */
export function maxOpenSequences(settings: Pick<ModelSettings, 'batchSize' | 'maxWorkers' | 'sequence'>): number {
  return Math.max(settings.sequence?.maxNumSequence ?? 0, settings.batchSize * settings.maxWorkers);
}

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
  /** Set for a stateful model (sequenceBatching: true): requests belong to sequences. */
  sequence: SequenceSettings | undefined;
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
    sequence: sequenceSettings(c, file),
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

function sequenceSettings(c: z.infer<typeof modelConfigSchema>, file: string): SequenceSettings | undefined {
  const invalid = (reason: string) => new ModelServerError('CONFIG_INVALID', { file, reason });
  if (c.sequenceBatching !== true) {
    // Refused rather than ignored: the model's author thinks it stateful, and served stateless its
    // sequences would be spread over workers that do not hold their state.
    const set = SEQUENCE_KEYS.find((k) => c[k] !== undefined);
    if (set) throw invalid(`${set} is set but sequenceBatching is not true`);
    return undefined;
  }
  if (!c.sequenceMaxIdleMSec) {
    throw invalid('sequenceBatching needs sequenceMaxIdleMSec > 0: without it a sequence whose client went away would hold its slot forever');
  }
  return Object.freeze({
    maxIdleMs: c.sequenceMaxIdleMSec,
    timeoutMs: c.sequenceTimeoutMSec ?? 0,
    maxNumSequence: c.maxNumSequence ?? 1,
    maxQueue: c.maxSequenceJobQueueSize ?? 1,
  });
}
