import { ModelServerError } from './errors.js';

/** Bytes of the big-endian length prefix that precedes every frame body. */
export const FRAME_HEADER_BYTES = 4;

/** Wraps one encoded message body in a frame: u32 big-endian length, then the body. */
export function encodeFrame(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES).setUint32(0, body.byteLength, false);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental frame splitter. Feed it chunks in whatever sizes the transport delivers; it returns the
 * complete frame bodies found so far. A body that lies inside one chunk is returned as a view without
 * copying; only a body spanning chunks is assembled into a new buffer.
 *
 * The length is checked against `maxFrameBytes` as soon as the 4 header bytes are known, before any
 * allocation, so a hostile or corrupt peer cannot make us reserve gigabytes. After an error the decoder
 * is poisoned: a byte stream that lost its framing cannot be resynchronised, the owner must close it.
 */
export class FrameDecoder {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Length of the frame being read, or -1 while waiting for a header. */
  private nextFrameLength = -1;
  private failed: ModelServerError | undefined;

  constructor(private readonly maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes <= 0) {
      throw new RangeError('maxFrameBytes must be a positive integer');
    }
  }

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Appends a chunk and returns every frame body it completed. Throws FRAME_TOO_LARGE / FRAME_MALFORMED. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.nextFrameLength < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const header = this.take(FRAME_HEADER_BYTES);
        const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
        if (length === 0) this.fail(new ModelServerError('FRAME_MALFORMED', { reason: 'zero-length frame' }));
        if (length > this.maxFrameBytes) {
          this.fail(new ModelServerError('FRAME_TOO_LARGE', { length, limit: this.maxFrameBytes }));
        }
        this.nextFrameLength = length;
      }
      if (this.buffered < this.nextFrameLength) break;
      frames.push(this.take(this.nextFrameLength));
      this.nextFrameLength = -1;
    }
    return frames;
  }

  private fail(err: ModelServerError): never {
    this.failed = err;
    this.chunks.length = 0;
    this.buffered = 0;
    throw err;
  }

  /** Removes exactly `n` buffered bytes (n <= buffered). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const need = n - filled;
      if (head.byteLength <= need) {
        out.set(head, filled);
        filled += head.byteLength;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, need), filled);
        this.chunks[0] = head.subarray(need);
        filled += need;
      }
    }
    this.buffered -= n;
    return out;
  }
}
