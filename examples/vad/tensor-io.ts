import {
  ONNX_PLATFORM,
  PredictionError,
  requestedOutputs,
  tensorFeeds,
  tensorResponse,
  type Context,
  type HandlerRequest,
  type OutputTensor,
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

/** Request `i`'s answer as output tensors, only those the request asked for (all by default). */
export function tensorAnswer(context: Context, i: number, answer: TensorAnswer, request: HandlerRequest): Uint8Array {
  const all: OutputTensor[] = [
    { name: 'segments', datatype: 'FP64', shape: [answer.segments.length, 2], data: answer.segments.flatMap((s) => [s.start, s.end ?? -1]) },
    { name: 'speaking', datatype: 'BOOL', shape: [1], data: [answer.speaking] },
    { name: 'received_seconds', datatype: 'FP64', shape: [1], data: [answer.receivedSeconds] },
    { name: 'probabilities', datatype: 'FP32', shape: [answer.probabilities.length], data: answer.probabilities },
  ];
  const wanted = requestedOutputs(request);
  return tensorResponse(context, i, wanted ? all.filter((t) => wanted.includes(t.name)) : all);
}
