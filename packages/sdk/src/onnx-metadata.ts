import type { ModelMetadata, TensorMetadata } from '@model-server/protocol';
import type { InferenceSession } from 'onnxruntime-node';
import { datatypeOf } from './tensor-codec.js';

/** Triton's platform string for ONNX models, which Triton tooling (perf_analyzer) expects. */
export const ONNX_PLATFORM = 'onnxruntime_onnx';

type ValueMetadata = InferenceSession['inputMetadata'][number];

function describe(meta: ValueMetadata): TensorMetadata | undefined {
  // Sequences and maps have no Open Inference Protocol form; they are left out of the metadata.
  if (!meta.isTensor) return undefined;
  return {
    name: meta.name,
    datatype: datatypeOf(meta.type) ?? meta.type.toUpperCase(),
    // Symbolic dimensions ('N', 'batch') and unknown ones are dynamic: -1 in the protocol.
    shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

/** The model's inputs and outputs as the ONNX Runtime session reports them. */
export function sessionMetadata(session: InferenceSession): ModelMetadata {
  const pick = (list: readonly ValueMetadata[]): TensorMetadata[] =>
    list.map(describe).filter((m): m is TensorMetadata => m !== undefined);
  return { platform: ONNX_PLATFORM, inputs: pick(session.inputMetadata), outputs: pick(session.outputMetadata) };
}
