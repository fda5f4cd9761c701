/**
 * The VAD's settings, from the `handler:` section of model-config.yaml. Defaults are silero's own
 * (its `get_speech_timestamps`): threshold 0.5, the end threshold 0.15 below it, 250 ms of speech to
 * count as a segment, 100 ms of silence to end one, 30 ms of padding on each side, 512-sample frames.
 */

/** The model's sample rate; other rates are refused, not resampled. */
export const SAMPLE_RATE = 16_000;

/** Window sizes silero VAD v4 was trained on at 16 kHz. */
export const FRAME_SIZES = [512, 1024, 1536] as const;

export interface VadConfig {
  /** A frame at or above this probability is speech. */
  readonly threshold: number;
  /** A frame below this probability is silence; between the two, a frame keeps the current state. */
  readonly negThreshold: number;
  /** Shorter speech is dropped (never reported). */
  readonly minSpeechMs: number;
  /** Silence this long ends a segment; shorter pauses stay inside it. */
  readonly minSilenceMs: number;
  /** Added before each start and after each end. */
  readonly speechPadMs: number;
  /** Samples per model run (32, 64 or 96 ms). */
  readonly frameSamples: (typeof FRAME_SIZES)[number];
  /** Open sequences kept by one worker; past it the longest idle one is dropped. */
  readonly maxSequences: number;
  /** Run the frames of different sequences as one ONNX batch (false: one run per frame, for comparison). */
  readonly batchFrames: boolean;
}

function num(raw: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`handler.${key} must be a number in [${min}, ${max}] (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** Reads and checks the settings; a wrong value fails the model load, naming its key. */
export function readVadConfig(raw: Readonly<Record<string, unknown>>): VadConfig {
  const r = raw as Record<string, unknown>;
  const threshold = num(r, 'threshold', 0.5, 0, 1);
  const negThreshold = num(r, 'negThreshold', Math.max(threshold - 0.15, 0.01), 0, threshold);
  const frameSamples = num(r, 'frameSamples', 512, 0, Infinity);
  if (!(FRAME_SIZES as readonly number[]).includes(frameSamples)) {
    throw new TypeError(`handler.frameSamples must be one of ${FRAME_SIZES.join(', ')} (got ${frameSamples})`);
  }
  const maxSequences = num(r, 'maxSequences', 1024, 1, 1_000_000);
  if (!Number.isInteger(maxSequences)) throw new TypeError(`handler.maxSequences must be an integer (got ${maxSequences})`);
  const batchFrames = r['batchFrames'] ?? true;
  if (typeof batchFrames !== 'boolean') throw new TypeError(`handler.batchFrames must be true or false (got ${JSON.stringify(batchFrames)})`);
  return Object.freeze({
    threshold,
    negThreshold,
    minSpeechMs: num(r, 'minSpeechMs', 250, 0, 60_000),
    minSilenceMs: num(r, 'minSilenceMs', 100, 0, 60_000),
    speechPadMs: num(r, 'speechPadMs', 30, 0, 10_000),
    frameSamples: frameSamples as VadConfig['frameSamples'],
    maxSequences,
    batchFrames,
  });
}
