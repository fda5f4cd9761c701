/**
 * Voice activity detection with silero VAD, streamed: each request is one chunk of a sequence's audio
 * (16 kHz mono PCM: s16le, float32 or WAV; see audio-decode.ts), and the answer lists the speech
 * segments that chunk started or ended, in seconds since the sequence began:
 *
 *   {"segments": [{"start": 0.93, "end": 2.41}, {"start": 3.2}], "receivedSeconds": 3.5, "speaking": true}
 *
 * A segment without `end` is open; its end comes in a later answer (with its start again). With the
 * header `x-vad-probabilities: true` the answer adds `frames`: the speech probability of each frame the
 * chunk completed. Every request of a sequence carries its id (see sequence-headers.ts); the first
 * carries the start flag, the last the end flag. A request with no id is a whole recording. Through the
 * Open Inference Protocol a chunk is an FP32 tensor and the answer tensors (see tensor-io.ts).
 *
 * Each sequence's state (LSTM state, audio not yet framed, time, hysteresis) stays in this worker
 * between requests (the gateway's sequence batching sends every chunk of a sequence here, in order)
 * and is freed when the gateway says the sequence ended (`endSequence`); requests of different
 * sequences that arrive in one batch run as one ONNX batch.
 * The response headers `x-vad-batch-size` (requests in the worker's batch) and `x-vad-onnx-batch` (the
 * most sequences one ONNX run of this chunk carried) show the batching.
 */
import { join } from 'node:path';
import type { ModelMetadata } from '@model-server/protocol';
import {
  PredictionError,
  flagValue,
  isTensorRequest,
  openSession,
  readOnnxOptions,
  type Context,
  type Handler,
  type HandlerRequest,
  type SequenceEndReason,
} from '@model-server/sdk';
import { AUDIO_FORMAT_HEADER, decodeAudio } from './audio-decode.js';
import { AudioFormatError } from './pcm.js';
import { sequenceOf, type SequenceInfo } from './sequence-headers.js';
import { SequenceStore } from './sequence-store.js';
import { SileroModel } from './silero-model.js';
import { newSequenceState, runChunks, type ChunkResult, type SequenceState } from './stream-batch.js';
import { VAD_METADATA, tensorAnswer, tensorSamples } from './tensor-io.js';
import { readVadConfig, SAMPLE_RATE, type VadConfig } from './vad-config.js';

export const PROBABILITIES_HEADER = 'x-vad-probabilities';
export const BATCH_SIZE_HEADER = 'x-vad-batch-size';
export const ONNX_BATCH_HEADER = 'x-vad-onnx-batch';
const RUN_SIZE_METRIC = 'vad_onnx_batch_size';
const RUN_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

interface Parsed {
  index: number;
  request: HandlerRequest;
  sequence: SequenceInfo;
  samples: Float32Array;
  probabilities: boolean;
  /** An Open Inference Protocol request: answered with tensors. */
  tensor: boolean;
}

class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface Answer {
  segments: { start: number; end?: number }[];
  receivedSeconds: number;
  speaking: boolean;
  frames?: { startSeconds: number; frameSeconds: number; probabilities: number[] };
}

const seconds = (samples: number): number => Math.round((samples * 1000) / SAMPLE_RATE) / 1000;

export default class VadHandler implements Handler {
  private config!: VadConfig;
  private model!: SileroModel;
  private sequences!: SequenceStore<SequenceState>;

  async initialize(context: Context): Promise<void> {
    this.config = readVadConfig(context.handlerConfig);
    const file = context.manifest.model.serializedFile;
    if (!file) throw new Error('the vad archive needs its serialized file (silero_vad.onnx)');
    this.model = new SileroModel(await openSession(join(context.modelDir, file), readOnnxOptions(context.modelConfig)));
    const max = this.config.maxSequences;
    this.sequences = new SequenceStore(max, (id) => {
      console.warn(`vad: dropped the state of sequence ${id}, idle longest, to stay within maxSequences=${max}`);
    });
  }

  async handle(data: HandlerRequest[], context: Context): Promise<unknown[]> {
    const results: unknown[] = new Array(data.length);
    const fail = (i: number, err: unknown): void => {
      const status = err instanceof RequestError || err instanceof AudioFormatError || err instanceof PredictionError ? err.status : 500;
      context.setResponseStatus(status, i);
      results[i] = { code: status, type: 'PredictionException', message: err instanceof Error ? err.message : String(err) };
    };
    // Requests of one sequence in one batch (a client that did not wait) run in arrival order: wave k
    // holds the k-th request of each sequence.
    const waves: Parsed[][] = [];
    const seen = new Map<string, number>();
    data.forEach((request, index) => {
      try {
        const sequence = sequenceOf(context, index);
        const tensor = isTensorRequest(request);
        let samples: Float32Array;
        if (tensor) {
          samples = tensorSamples(request);
        } else {
          const input = request.get('data') ?? request.get('body') ?? request.inputs[0];
          const body = input?.data ?? new Uint8Array(0);
          // An empty chunk, whatever its type, is no audio: how a client ends a sequence (a WebSocket's
          // text message with sequence_end) without sending more.
          samples = body.byteLength === 0 ? new Float32Array(0) : decodeAudio(body, input?.contentType ?? '', request.header(AUDIO_FORMAT_HEADER));
        }
        const wave = sequence.id === undefined ? 0 : (seen.get(sequence.id) ?? 0);
        if (sequence.id !== undefined) seen.set(sequence.id, wave + 1);
        const probabilities = tensor || flagValue(request.header(PROBABILITIES_HEADER));
        (waves[wave] ??= []).push({ index, request, sequence, samples, probabilities, tensor });
      } catch (err) {
        fail(index, err);
      }
    });
    for (const wave of waves) await this.runWave(wave, results, fail, context);
    context.metrics.gauge('vad_open_sequences', this.sequences.size, {}, 'Sequences whose state this worker holds');
    return results;
  }

  private async runWave(wave: Parsed[], results: unknown[], fail: (i: number, err: unknown) => void, context: Context): Promise<void> {
    const busy = new Set<string>();
    for (const p of wave) if (p.sequence.id !== undefined) busy.add(p.sequence.id);
    const work: { parsed: Parsed; state: SequenceState }[] = [];
    for (const p of wave) {
      const { id, start } = p.sequence;
      let state: SequenceState | undefined;
      if (id === undefined || start) {
        state = newSequenceState(this.config);
        if (id !== undefined) this.sequences.open(id, state, busy);
      } else {
        state = this.sequences.use(id);
      }
      if (state) work.push({ parsed: p, state });
      else fail(p.index, new RequestError(`sequence ${id} is not open in this worker: it was never started (ts_request_sequence_start), has ended, or was dropped`, 400));
    }
    if (work.length === 0) return;
    const ran = await runChunks(
      this.model,
      work.map((w) => ({ state: w.state, samples: w.parsed.samples, end: w.parsed.sequence.end })),
      this.config.batchFrames,
      (size) => context.metrics.histogram(RUN_SIZE_METRIC, size, {}, RUN_SIZE_BUCKETS, 'Sequences carried by one ONNX run of the VAD'),
    );
    work.forEach(({ parsed, state }, k) => {
      const i = parsed.index;
      if (parsed.sequence.end && parsed.sequence.id !== undefined) this.sequences.close(parsed.sequence.id);
      context.setResponseHeader(i, BATCH_SIZE_HEADER, String(context.requestIds.length));
      context.setResponseHeader(i, ONNX_BATCH_HEADER, String(ran[k]!.largestRun));
      const answer = this.answer(ran[k]!, state, parsed.probabilities);
      if (parsed.tensor) {
        results[i] = tensorAnswer(context, i, { ...answer, probabilities: answer.frames?.probabilities ?? [] }, parsed.request);
      } else {
        results[i] = answer;
      }
    });
  }

  private answer(result: ChunkResult, state: SequenceState, probabilities: boolean): Answer {
    const out: Answer = {
      segments: result.segments.map((s) =>
        s.end === undefined ? { start: seconds(s.start) } : { start: seconds(s.start), end: seconds(Math.min(s.end, result.received)) },
      ),
      receivedSeconds: seconds(result.received),
      speaking: state.segmenter.speaking,
    };
    if (probabilities) {
      out.frames = {
        startSeconds: seconds(result.firstFrame),
        frameSeconds: this.config.frameSamples / SAMPLE_RATE,
        probabilities: result.probabilities.map((p) => Math.round(p * 1e4) / 1e4),
      };
    }
    return out;
  }

  /** The gateway ended the sequence (its last chunk ran, it expired, its socket closed): free its state. */
  endSequence(sequenceId: string, _reason: SequenceEndReason): void {
    this.sequences.close(sequenceId);
  }

  /** The Open Inference Protocol's view: one FP32 audio input, the answer as tensors. */
  metadata(): ModelMetadata {
    return VAD_METADATA;
  }

  async close(): Promise<void> {
    await this.model?.release();
  }
}
