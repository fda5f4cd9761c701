import type { BatchStat, DurationStat } from '../models/inference-statistics.js';
import type { ModelVersion } from '../models/model-version.js';
import type { ModelRegistry } from '../registry/model-registry.js';

const copy = (d: DurationStat): DurationStat => ({ count: d.count, ns: d.ns });
const NONE: DurationStat = Object.freeze({ count: 0, ns: 0 });

function batchStat(b: BatchStat): Record<string, unknown> {
  return {
    batch_size: b.batchSize,
    compute_input: copy(b.computeInput),
    compute_infer: copy(b.computeInfer),
    compute_output: copy(b.computeOutput),
  };
}

/** One version's entry of Triton's statistics extension (`model_stats[]`); times in nanoseconds. */
export function tritonModelStats(version: ModelVersion): Record<string, unknown> {
  const s = version.statistics;
  return {
    name: version.name,
    version: version.version,
    last_inference: s.lastInferenceMs,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: copy(s.success),
      fail: copy(s.fail),
      queue: copy(s.queue),
      compute_input: copy(s.computeInput),
      compute_infer: copy(s.computeInfer),
      compute_output: copy(s.computeOutput),
      // There is no response cache: every request is a miss that costs nothing extra.
      cache_hit: copy(NONE),
      cache_miss: copy(NONE),
    },
    response_stats: {},
    batch_stats: s.batchStats().map(batchStat),
    memory_usage: [],
  };
}

/**
 * The versions a statistics request names, for REST and gRPC alike: every version of `model`, or the
 * one asked for; the registry's refusal (MODEL_NOT_FOUND, SERVER_NOT_READY while start-up models
 * load) when there is none.
 */
export function statsVersions(registry: ModelRegistry, model: string, version: string | undefined): ModelVersion[] {
  const versions = version === undefined ? registry.versionsOf(model) : [registry.resolve(model, version)];
  if (versions.length === 0) registry.resolve(model);
  return versions;
}
