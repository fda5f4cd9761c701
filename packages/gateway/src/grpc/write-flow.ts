import type { Writable } from 'node:stream';

/**
 * Bytes a call may hold unsent before it counts as backed up, as WebSocket's `bufferedAmount` bound
 * (http/websocket.ts). grpc-js's own signal, `write()` returning false, comes after 16 messages of any
 * size, so a handler's burst of small chunks to a client that reads them at once would look backed up.
 */
export const GRPC_HIGH_WATER_BYTES = 1 << 20;

/**
 * Tracks the bytes of a call's writes that have not gone out yet (grpc-js calls a write's callback
 * once HTTP/2 flow control let it through), so a stream's budget can count chunks only while a client
 * really does not read.
 */
export class WriteFlow {
  private pending = 0;
  private backedUp = false;

  /** `drained` runs when a backed-up call has fallen back under the bound. */
  constructor(private readonly drained: () => void) {}

  /** Writes one message of about `bytes` bytes; true when the call is backed up after it. */
  write(call: Writable, message: unknown, bytes: number): boolean {
    this.pending += bytes;
    call.write(message, () => {
      this.pending -= bytes;
      if (this.backedUp && this.pending <= GRPC_HIGH_WATER_BYTES) {
        this.backedUp = false;
        this.drained();
      }
    });
    if (this.pending > GRPC_HIGH_WATER_BYTES) this.backedUp = true;
    return this.backedUp;
  }
}
