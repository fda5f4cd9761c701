/**
 * Speech/silence hysteresis over frame probabilities, streaming: the rules of silero's
 * `get_speech_timestamps`, decided frame by frame so each segment is reported as soon as it is certain.
 *
 * - Silence turns to (candidate) speech on a frame at or above `threshold`.
 * - A run of frames below `negThreshold` lasting `minSilence` ends the speech at the run's start;
 *   frames between the two thresholds neither end the speech nor break a run of silence.
 * - Speech shorter than `minSpeech` is dropped. A start is reported once the speech has lasted
 *   `minSpeech` (it can no longer be dropped), its end once the silence has lasted `minSilence`.
 * - Reported times are padded by `pad` on each side, but a start never goes before the previous
 *   segment's reported end (nor before 0) and an end never past the audio seen.
 *
 * All times are in samples since the sequence began.
 */
export interface SegmenterOptions {
  threshold: number;
  negThreshold: number;
  minSpeech: number;
  minSilence: number;
  pad: number;
}

/** A reported segment; `end` is absent while it is open. */
export interface Segment {
  start: number;
  end?: number;
}

export class Segmenter {
  private inSpeech = false;
  /** First frame of the current speech. */
  private speechStart = 0;
  /** Start of the current run of silent frames inside speech, or -1. */
  private silenceStart = -1;
  /** The padded start, once reported. */
  private reportedStart = -1;
  private lastReportedEnd = 0;

  constructor(private readonly options: SegmenterOptions) {}

  /** Whether a reported segment is open. */
  get speaking(): boolean {
    return this.reportedStart >= 0;
  }

  /** Feeds one frame; returns the segment this frame started (open) or ended, if any. */
  push(probability: number, frameStart: number, frameEnd: number): Segment | undefined {
    const o = this.options;
    if (!this.inSpeech) {
      if (probability < o.threshold) return undefined;
      this.inSpeech = true;
      this.speechStart = frameStart;
      this.silenceStart = -1;
    } else if (probability >= o.threshold) {
      this.silenceStart = -1;
    } else if (probability < o.negThreshold) {
      if (this.silenceStart < 0) this.silenceStart = frameStart;
      if (frameEnd - this.silenceStart >= o.minSilence) return this.close(this.silenceStart, frameEnd);
    }
    if (this.reportedStart < 0) {
      // The earliest the speech can still end: where the current silence began, else after this frame.
      const earliestEnd = this.silenceStart >= 0 ? this.silenceStart : frameEnd;
      if (earliestEnd - this.speechStart >= o.minSpeech) {
        this.reportedStart = Math.max(this.speechStart - o.pad, this.lastReportedEnd, 0);
        return { start: this.reportedStart };
      }
    }
    return undefined;
  }

  /** The sequence ended at `audioEnd`: closes the speech in progress, if it counts. */
  finish(audioEnd: number): Segment | undefined {
    if (!this.inSpeech) return undefined;
    return this.close(this.silenceStart >= 0 ? this.silenceStart : audioEnd, audioEnd);
  }

  private close(speechEnd: number, seen: number): Segment | undefined {
    this.inSpeech = false;
    this.silenceStart = -1;
    const reported = this.reportedStart;
    this.reportedStart = -1;
    if (speechEnd - this.speechStart < this.options.minSpeech) return undefined;
    const start = reported >= 0 ? reported : Math.max(this.speechStart - this.options.pad, this.lastReportedEnd, 0);
    const end = Math.min(speechEnd + this.options.pad, seen);
    this.lastReportedEnd = end;
    return { start, end };
  }
}
