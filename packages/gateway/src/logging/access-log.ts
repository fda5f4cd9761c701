import type { IncomingMessage, ServerResponse } from 'node:http';
import { RotatingFile, type RotationOptions } from './rotating-file.js';

const kModel = Symbol('access.model');
const kRequestId = Symbol('access.requestId');
const kStart = Symbol('access.start');

type Tracked = ServerResponse & { [kStart]?: number; [kModel]?: string; [kRequestId]?: string; req: IncomingMessage };

/**
 * TorchServe's access log (`access_log.log`): one line per HTTP response, written when it ends,
 *   2026-12-01T10:00:00.123Z 127.0.0.1 "POST /predictions/mnist HTTP/1.1" 200 1.234ms model=mnist request_id=...
 * Time, client address, request line, status, duration (from the request's arrival to the last byte
 * handed to the socket), the model (when the route served one) and the request id. Batched writes
 * to a size-rotated file, so the cost per request is a string and an append to a buffer.
 */
export class AccessLog {
  private readonly file: RotatingFile;
  /** One listener for every response (no closure per request). */
  readonly onFinish: (this: ServerResponse) => void;

  constructor(path: string, rotation: RotationOptions) {
    this.file = new RotatingFile(path, rotation);
    const file = this.file;
    // Many responses end within one millisecond under load: their timestamp is formatted once.
    let lastMs = 0;
    let lastIso = '';
    this.onFinish = function (this: ServerResponse): void {
      const res = this as Tracked;
      const req = res.req;
      const ms = res[kStart] === undefined ? 0 : performance.now() - res[kStart];
      const model = res[kModel];
      // The hot routes hand node their headers in one list (getHeader cannot see them): they note the id.
      const id = res[kRequestId] ?? res.getHeader('x-request-id');
      // A client that left before its answer is logged as nginx does, 499.
      const status = res.writableFinished ? res.statusCode : 499;
      const now = Date.now();
      if (now !== lastMs) {
        lastMs = now;
        lastIso = new Date(now).toISOString();
      }
      file.write(
        `${lastIso} ${req.socket.remoteAddress ?? '-'} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${ms.toFixed(3)}ms` +
          `${model === undefined ? '' : ` model=${model}`}${id === undefined ? '' : ` request_id=${String(id)}`}\n`,
      );
    };
  }

  get path(): string {
    return this.file.path;
  }

  /** Starts timing a response and logs it when it finishes. */
  track(res: ServerResponse): void {
    (res as Tracked)[kStart] = performance.now();
    res.on('close', this.onFinish);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** Names the model a response served and the request's id, for its access log line. */
export function noteRequest(res: ServerResponse, model: string, requestId: string): void {
  const tracked = res as Tracked;
  tracked[kModel] = model;
  tracked[kRequestId] = requestId;
}
