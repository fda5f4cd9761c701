import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { MessageReader, MessageWriter, parseFromWorker, type FromWorker, type ModelServerError, type ToWorker } from '@model-server/protocol';
import type { Logger } from '../logging/logger.js';

export interface ConnectionHandlers {
  /** The messages of one read, in order. */
  messages(messages: FromWorker[]): void;
  /** The worker broke the protocol (bad frame or message); the connection is unusable after this. */
  protocolError(error: ModelServerError): void;
  /** The worker's end closed (it exits, or crashed). */
  closed(): void;
}

/**
 * The gateway's end of one worker's Unix socket: listens on a fresh path, accepts the one connection
 * the worker makes, and from then on reads validated messages and writes typed ones. Sends made
 * before the worker connected are held and go out when it does. Socket errors are expected once the
 * gateway has decided to stop the worker (`expectClose`), and only logged at debug then.
 */
export class WorkerConnection {
  private server: Server | undefined;
  private socket: Socket | undefined;
  private readonly writer = new MessageWriter<ToWorker>();
  private expectingClose = false;
  private done = false;

  constructor(
    private readonly path: string,
    private readonly maxFrameBytes: number,
    private readonly logger: Logger,
    private readonly handlers: ConnectionHandlers,
  ) {}

  /** Listens and resolves once the worker has connected (rejects if listening fails or on close()). */
  accept(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => {
        server.close();
        void rm(this.path, { force: true });
        if (this.done) {
          socket.destroy();
          return;
        }
        this.attach(socket);
        resolve();
      });
      this.server = server;
      server.on('error', (err) => {
        if (!this.done) reject(err);
      });
      server.on('close', () => {
        if (!this.socket) reject(new Error('worker connection closed before the worker connected'));
      });
      server.listen(this.path);
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    const reader = new MessageReader<FromWorker>(this.maxFrameBytes, parseFromWorker);
    socket.on('data', (chunk: Buffer) => {
      let messages: FromWorker[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        socket.destroy();
        this.handlers.protocolError(err as ModelServerError);
        return;
      }
      this.handlers.messages(messages);
    });
    socket.on('error', (err) => {
      if (this.expectingClose) this.logger.debug({ err: err.message }, 'worker socket error while stopping');
      else this.logger.warn({ err: err.message }, 'worker socket error');
    });
    socket.on('close', () => {
      this.writer.close();
      this.handlers.closed();
    });
    this.writer.attach(socket);
  }

  /** Writes one message (held until the worker connects); a closed connection drops it. */
  send(message: ToWorker): void {
    this.writer.send(message).catch(() => undefined);
  }

  /** From now on the connection is expected to end (a deliberate stop). */
  expectClose(): void {
    this.expectingClose = true;
  }

  /** Tears the connection down now. Idempotent. */
  close(): void {
    this.done = true;
    this.expectingClose = true;
    this.writer.close();
    this.socket?.destroy();
    this.server?.close();
    void rm(this.path, { force: true });
  }
}
