import type { ServerResponse } from 'node:http';
import type { ModelServerError } from '@model-server/protocol';
import type { ResponsePart, ResponseSink } from '../scheduling/job.js';
import { NO_CACHE_HEADERS, sendError } from './send-error.js';
import { responseBudget, type StreamBudget } from './stream-budget.js';

/**
 * Writes a job's outcome as a plain HTTP response: one body, or, when the handler streams, HTTP/1.1
 * chunks as they arrive (the status of the first chunk becomes the response status) and then the final
 * part. A failure after streaming started cannot change the status any more; the connection is torn
 * down so the client sees an incomplete body rather than a truncated success.
 */
export class HttpSink implements ResponseSink {
  /** Made on the first chunk: most responses are one body and never need it (nor its drain listener). */
  private budget: StreamBudget | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly maxBufferedChunks: number,
  ) {}

  /**
   * Headers as a flat [name, value, ...] list: node takes it as it is, where an object would be
   * built here and walked again there (a per-response cost on the hot path).
   */
  private head(part: ResponsePart, streaming: boolean): void {
    const own = part.headers;
    const headers: (string | number)[] = [];
    // A handler's own headers may replace TorchServe's no-cache ones, never the request id; the content
    // type and length come from the part when it has them.
    for (const k in NO_CACHE_HEADERS) if (!(k in own)) headers.push(k, NO_CACHE_HEADERS[k]!);
    for (const k in own) {
      if (k === 'x-request-id' || (k === 'content-type' && part.contentType) || (k === 'content-length' && !streaming)) continue;
      headers.push(k, own[k]!);
    }
    headers.push('x-request-id', this.requestId);
    if (part.contentType) headers.push('content-type', part.contentType);
    if (!streaming) headers.push('content-length', part.body.byteLength);
    this.res.writeHead(part.status, headers);
  }

  chunk(part: ResponsePart): void {
    if (this.res.destroyed) return;
    if (!this.res.headersSent) this.head(part, true);
    this.budget ??= responseBudget(this.res, this.requestId, this.maxBufferedChunks);
    this.budget.wrote(!this.res.write(part.body));
  }

  complete(part: ResponsePart): void {
    if (this.res.destroyed) return;
    if (!this.res.headersSent) this.head(part, false);
    this.res.end(part.body);
  }

  fail(error: ModelServerError): void {
    if (this.res.destroyed) return;
    sendError(this.res, error, { ...NO_CACHE_HEADERS, 'x-request-id': this.requestId });
  }
}
