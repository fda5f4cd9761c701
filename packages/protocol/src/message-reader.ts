import { decodeBody } from './codec.js';
import { FrameDecoder } from './frame.js';

/**
 * Frame decoding plus message decoding and validation, still without I/O: the transport feeds
 * chunks in, validated messages come out. Any error (FRAME_TOO_LARGE, FRAME_MALFORMED,
 * MESSAGE_INVALID) is thrown and leaves the reader unusable; the transport must close the connection.
 */
export class MessageReader<T> {
  private readonly frames: FrameDecoder;

  constructor(
    maxFrameBytes: number,
    private readonly parse: (value: unknown) => T,
  ) {
    this.frames = new FrameDecoder(maxFrameBytes);
  }

  push(chunk: Uint8Array): T[] {
    return this.frames.push(chunk).map((body) => this.parse(decodeBody(body)));
  }
}
