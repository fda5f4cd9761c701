/**
 * One sequence's audio not yet cut into model frames. Chunks arrive in any size; frames leave in a fixed
 * size, and what is left over waits for the next chunk.
 */
export class FrameBuffer {
  private samples: Float32Array;
  private readAt = 0;
  private writeAt = 0;
  /** Samples already cut into frames: the sequence time (in samples) where the next frame starts. */
  framed = 0;

  constructor(readonly frameSamples: number) {
    this.samples = new Float32Array(frameSamples * 4);
  }

  /** Samples waiting, less than a frame between calls to `takeFrame` until exhaustion. */
  get pending(): number {
    return this.writeAt - this.readAt;
  }

  /** Whole frames ready to take. */
  get readyFrames(): number {
    return Math.floor(this.pending / this.frameSamples);
  }

  /** Sequence time (in samples) of the end of everything received. */
  get received(): number {
    return this.framed + this.pending;
  }

  append(chunk: Float32Array): void {
    if (this.writeAt + chunk.length > this.samples.length) {
      const pending = this.pending;
      // Compact first; grow only when the waiting audio itself does not fit.
      const target = pending + chunk.length > this.samples.length ? new Float32Array(2 * (pending + chunk.length)) : this.samples;
      target.set(this.samples.subarray(this.readAt, this.writeAt), 0);
      this.samples = target;
      this.readAt = 0;
      this.writeAt = pending;
    }
    this.samples.set(chunk, this.writeAt);
    this.writeAt += chunk.length;
  }

  /** Copies the next frame into `out` at `offset`; returns the frame's start in sequence samples. */
  takeFrame(out: Float32Array, offset: number): number {
    if (this.pending < this.frameSamples) throw new RangeError('no whole frame is ready (this is a bug in the caller)');
    out.set(this.samples.subarray(this.readAt, this.readAt + this.frameSamples), offset);
    this.readAt += this.frameSamples;
    const start = this.framed;
    this.framed += this.frameSamples;
    return start;
  }

  /**
   * At the end of a sequence: pads the leftover with silence to one whole frame (as silero does with
   * the tail of a file), so the last samples are heard too. Returns the real end, in sequence samples.
   */
  padTail(): number {
    const end = this.received;
    const rest = this.pending % this.frameSamples;
    if (rest > 0) this.append(new Float32Array(this.frameSamples - rest));
    return end;
  }
}
