import { encodeMessages } from './codec.js';

/**
 * What a writer needs of a byte stream: node's `net.Socket` fits it. Kept structural so the protocol
 * stays free of I/O and of node's types.
 */
export interface ByteSink {
  readonly destroyed: boolean;
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Raised by `send` once the connection is gone: nothing more can be delivered. */
export class ConnectionClosedError extends Error {
  constructor() {
    super('connection closed');
    this.name = 'ConnectionClosedError';
  }
}

/**
 * The one writer of typed messages onto a connection, used by both ends of the wire. Messages sent
 * before the connection exists are held and go out, in order, when it is attached. The messages of one
 * `send` leave in one write (a batch's answers, say). `send` resolves at once while the socket takes
 * more, and otherwise on its `drain`, so a caller that awaits it honours backpressure.
 */
export class MessageWriter<T> {
  private sink: ByteSink | undefined;
  private held: T[][] = [];
  private closed = false;
  private draining: Promise<void> | undefined;

  /** Whether a connection is attached and open. */
  get connected(): boolean {
    return this.sink !== undefined && !this.sink.destroyed && !this.closed;
  }

  /** Attaches the connection and writes what was held for it. Call once. */
  attach(sink: ByteSink): void {
    if (this.sink) throw new Error('MessageWriter.attach called twice: this is a bug');
    this.sink = sink;
    const held = this.held;
    this.held = [];
    for (const messages of held) void this.send(...messages).catch(() => undefined);
  }

  /** No more messages: held ones are dropped and later sends reject. */
  close(): void {
    this.closed = true;
    this.held = [];
  }

  send(...messages: T[]): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionClosedError());
    const sink = this.sink;
    if (!sink) {
      this.held.push(messages);
      return RESOLVED;
    }
    if (sink.destroyed) return Promise.reject(new ConnectionClosedError());
    const frames = encodeMessages(messages);
    const corked = frames.length > 1;
    if (corked) sink.cork();
    let ok = true;
    for (const frame of frames) ok = sink.write(frame);
    if (corked) sink.uncork();
    if (ok) return RESOLVED;
    // One wait shared by every send made while the socket is full (no listener per send).
    this.draining ??= new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        sink.off('close', onClose);
        this.draining = undefined;
        resolve();
      };
      const onClose = (): void => {
        sink.off('drain', onDrain);
        this.draining = undefined;
        reject(new ConnectionClosedError());
      };
      sink.once('drain', onDrain);
      sink.once('close', onClose);
    });
    return this.draining;
  }
}
