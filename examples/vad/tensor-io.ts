import {
  ONNX_PLATFORM,
  PredictionError,
  encodeTensorBundle,
  requestedOutputs,
  tensorFeeds,
  type HandlerRequest,
  type WireTensor,
} from '@model-server/sdk';
import type { ModelMetadata } from '@model-server/protocol';

/**
 * The vad example through the Open Inference Protocol (`POST /v2/models/vad/infer`, with Triton's
 * `sequence_id`, `sequence_start`, `sequence_end` parameters): a chunk is the FP32 tensor `audio`
 * (16 kHz mono samples in [-1, 1], shape [n]); the answer is the same facts as the JSON answer, as
 * tensors: `segments` FP64 [k, 2] (start, end in seconds; end -1 for a segment still open),
 * `speaking` BOOL [1], `received_seconds` FP64 [1], `probabilities` FP32 [frames].
 */
export const AUDIO_INPUT = 'audio';

export const VAD_METADATA: ModelMetadata = {
  platform: ONNX_PLATFORM,
  inputs: [{ name: AUDIO_INPUT, datatype: 'FP32', shape: [-1] }],
  outputs: [
    { name: 'segments', datatype: 'FP64', shape: [-1, 2] },
    { name: 'speaking', datatype: 'BOOL', shape: [1] },
    { name: 'received_seconds', datatype: 'FP64', shape: [1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1] },
  ],
};

/** A tensor request's samples (the gateway checked name, datatype and rank against VAD_METADATA). */
export function tensorSamples(request: HandlerRequest): Float32Array {
  const audio = tensorFeeds(request)[AUDIO_INPUT];
  if (!audio || audio.type !== 'float32') throw new PredictionError(`input '${AUDIO_INPUT}' (FP32, shape [n]) is required`, 400);
  return audio.data as Float32Array;
}

export interface TensorAnswer {
  segments: { start: number; end?: number }[];
  receivedSeconds: number;
  speaking: boolean;
  probabilities: number[];
}

function bytesOf(array: Float64Array | Float32Array | Uint8Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The answer as a tensor bundle, with only the outputs the request asked for (all by default). */
export function encodeTensorAnswer(answer: TensorAnswer, request: HandlerRequest): Uint8Array {
  const segments = new Float64Array(answer.segments.length * 2);
  answer.segments.forEach((s, i) => {
    segments[2 * i] = s.start;
    segments[2 * i + 1] = s.end ?? -1;
  });
  const all: WireTensor[] = [
    { name: 'segments', datatype: 'FP64', shape: [answer.segments.length, 2], data: bytesOf(segments) },
    { name: 'speaking', datatype: 'BOOL', shape: [1], data: Uint8Array.of(answer.speaking ? 1 : 0) },
    { name: 'received_seconds', datatype: 'FP64', shape: [1], data: bytesOf(Float64Array.of(answer.receivedSeconds)) },
    { name: 'probabilities', datatype: 'FP32', shape: [answer.probabilities.length], data: bytesOf(Float32Array.from(answer.probabilities)) },
  ];
  const wanted = requestedOutputs(request);
  return encodeTensorBundle(wanted ? all.filter((t) => wanted.includes(t.name)) : all);
}
