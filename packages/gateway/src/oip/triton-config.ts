import { maxOpenSequences } from '../config/model-config.js';
import type { ModelVersion } from '../models/model-version.js';
import { metadataOf } from './model-state.js';

/** Triton's `TYPE_*` names for the protocol's datatypes (BYTES is TYPE_STRING there). */
const TRITON_TYPES: Readonly<Record<string, string>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

const US_PER_MS = 1000;

/**
 * Triton's model configuration extension (`GET /v2/models/{m}/config`): the JSON form of config.pbtxt,
 * built from the session's signature and the version's settings. perf_analyzer reads `max_batch_size`,
 * `input`/`output` (`is_shape_tensor`, `optional`), `dynamic_batching`, `model_transaction_policy` and
 * `response_cache` from it.
 *
 * When every input has a dynamic first dimension the model batches, and `max_batch_size` is the
 * version's batchSize (which our batcher counts in requests, Triton in rows); `dims` then leave the
 * batch dimension out, as Triton's do. Otherwise `max_batch_size` is 0 and `dims` are the full shapes.
 * A stateful model shows `sequence_batching` instead of `dynamic_batching` (perf_analyzer then sends
 * sequences): Triton's `oldest` strategy is the nearest to ours, the oldest requests of different
 * sequences batched together, each sequence kept on one worker.
 */
export function tritonModelConfig(version: ModelVersion): Record<string, unknown> {
  const metadata = metadataOf(version);
  const inputs = metadata?.inputs ?? [];
  const outputs = metadata?.outputs ?? [];
  const batching = inputs.length > 0 && inputs.every((i) => i.shape.length > 0 && i.shape[0] === -1);
  const dims = (shape: readonly number[]): number[] => (batching ? shape.slice(1) : [...shape]);
  const s = version.settings;
  const config: Record<string, unknown> = {
    name: version.name,
    platform: metadata?.platform ?? 'node',
    backend: metadata?.platform === 'onnxruntime_onnx' ? 'onnxruntime' : 'model-server',
    version_policy: { specific: { versions: [version.version] } },
    max_batch_size: batching ? Math.max(1, s.batchSize) : 0,
    input: inputs.map((i) => ({
      name: i.name,
      data_type: TRITON_TYPES[i.datatype] ?? `TYPE_${i.datatype}`,
      format: 'FORMAT_NONE',
      dims: dims(i.shape),
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
    })),
    output: outputs.map((o) => ({
      name: o.name,
      data_type: TRITON_TYPES[o.datatype] ?? `TYPE_${o.datatype}`,
      dims: dims(o.shape),
      label_filename: '',
      is_shape_tensor: false,
    })),
    instance_group: [{ name: `${version.name}_0`, kind: 'KIND_CPU', count: s.minWorkers }],
    default_model_filename: version.archive.manifest.model.serializedFile ?? '',
    parameters: {},
    model_transaction_policy: { decoupled: false },
    response_cache: { enable: false },
  };
  if (s.sequence) {
    config['sequence_batching'] = {
      max_sequence_idle_microseconds: s.sequence.maxIdleMs * US_PER_MS,
      control_input: [],
      state: [],
      oldest: {
        max_candidate_sequences: maxOpenSequences(s),
        preferred_batch_size: [],
        max_queue_delay_microseconds: s.maxBatchDelayMs * US_PER_MS,
        preserve_ordering: true,
      },
    };
  } else if (s.batchSize > 1) {
    config['dynamic_batching'] = {
      preferred_batch_size: [...s.preferredBatchSizes].sort((a, b) => a - b),
      max_queue_delay_microseconds: s.maxBatchDelayMs * US_PER_MS,
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
      default_queue_policy: {
        timeout_action: 'REJECT',
        default_timeout_microseconds: s.responseTimeoutMs * US_PER_MS,
        allow_timeout_override: true,
        max_queue_size: s.jobQueueSize,
      },
    };
  }
  return config;
}
