import { FrameBuffer } from './frame-buffer.js';
import { Segmenter, type Segment } from './segmenter.js';
import { freshLstmState, type LstmState, type SileroModel } from './silero-model.js';
import { SAMPLE_RATE, type VadConfig } from './vad-config.js';

/** Everything one sequence carries from one chunk to the next. */
export interface SequenceState {
  readonly buffer: FrameBuffer;
  readonly lstm: LstmState;
  readonly segmenter: Segmenter;
}

export function newSequenceState(config: VadConfig): SequenceState {
  const ms = (v: number): number => Math.round((v * SAMPLE_RATE) / 1000);
  return {
    buffer: new FrameBuffer(config.frameSamples),
    lstm: freshLstmState(),
    segmenter: new Segmenter({
      threshold: config.threshold,
      negThreshold: config.negThreshold,
      minSpeech: ms(config.minSpeechMs),
      minSilence: ms(config.minSilenceMs),
      pad: ms(config.speechPadMs),
    }),
  };
}

/** One chunk of one sequence; chunks of one call must belong to different sequences. */
export interface ChunkWork {
  state: SequenceState;
  samples: Float32Array;
  /** The sequence ends with this chunk: its tail is padded to a frame and its open speech closed. */
  end: boolean;
}

export interface ChunkResult {
  /** Segments this chunk started or ended, in samples; one that started and ended here appears once. */
  segments: Segment[];
  /** One speech probability per frame this chunk completed. */
  probabilities: number[];
  /** Sequence sample where the first of those frames starts. */
  firstFrame: number;
  /** Sequence samples received so far (the real end of the audio, for an ending sequence). */
  received: number;
  /** The most sequences any ONNX run of this chunk's frames carried. */
  largestRun: number;
}

function record(segments: Segment[], segment: Segment | undefined): void {
  if (!segment) return;
  const last = segments[segments.length - 1];
  if (segment.end !== undefined && last && last.end === undefined && last.start === segment.start) last.end = segment.end;
  else segments.push(segment);
}

/**
 * Runs the frames that `work`'s chunks complete. Round r runs the r-th new frame of every sequence that
 * has one, as one ONNX batch (or, with `batch` false, one run per sequence), so B is the number of
 * sequences with a frame ready. `onRun` sees the size of each run (for metrics).
 */
export async function runChunks(model: SileroModel, work: readonly ChunkWork[], batch: boolean, onRun?: (size: number) => void): Promise<ChunkResult[]> {
  const frameSamples = work[0]?.state.buffer.frameSamples ?? 0;
  const results: ChunkResult[] = [];
  const ready: number[] = [];
  for (const w of work) {
    const buffer = w.state.buffer;
    if (buffer.frameSamples !== frameSamples) throw new RangeError('sequences of one batch must share a frame size (this is a bug)');
    buffer.append(w.samples);
    const received = w.end ? buffer.padTail() : buffer.received;
    results.push({ segments: [], probabilities: [], firstFrame: buffer.framed, received, largestRun: 0 });
    ready.push(buffer.readyFrames);
  }
  const rounds = Math.max(0, ...ready);
  const frames = new Float32Array(work.length * frameSamples);
  for (let r = 0; r < rounds; r++) {
    const active: number[] = [];
    for (let i = 0; i < work.length; i++) if (ready[i]! > r) active.push(i);
    const groups = batch && model.batchable ? [active] : active.map((i) => [i]);
    for (const group of groups) {
      const starts = group.map((i, b) => work[i]!.state.buffer.takeFrame(frames, b * frameSamples));
      const probs = await model.run(frames.subarray(0, group.length * frameSamples), group.map((i) => work[i]!.state.lstm));
      onRun?.(group.length);
      group.forEach((i, b) => {
        const result = results[i]!;
        const p = probs[b]!;
        result.probabilities.push(p);
        result.largestRun = Math.max(result.largestRun, group.length);
        record(result.segments, work[i]!.state.segmenter.push(p, starts[b]!, starts[b]! + frameSamples));
      });
    }
  }
  work.forEach((w, i) => {
    if (w.end) record(results[i]!.segments, w.state.segmenter.finish(results[i]!.received));
  });
  return results;
}
