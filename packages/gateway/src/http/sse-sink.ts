import type { ServerResponse } from 'node:http';
import type { ModelServerError } from '@model-server/protocol';
import type { ResponsePart, ResponseSink } from '../scheduling/job.js';
import { NO_CACHE_HEADERS, sendError } from './send-error.js';
import { responseBudget, type StreamBudget } from './stream-budget.js';

/** Content types whose bytes go into events as text; anything else is sent base64-encoded. */
export function isTextual(contentType: string | undefined): boolean {
  return contentType === undefined || /^text\/|[/+]json\b|^application\/(x-)?ndjson/i.test(contentType);
}

/** Formats one Server-Sent Event; multi-line payloads become several `data:` lines, as the spec asks. */
export function formatEvent(event: string, payload: string): string {
  return `event: ${event}\n${payload
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

/**
 * Streams a job as Server-Sent Events (`Accept: text/event-stream`): one `chunk` event per intermediate
 * result, then a `complete` event, or an `error` event once streaming has begun. Binary payloads are
 * base64 in `chunk-base64` / `complete-base64` events. Nothing is sent until the first result exists,
 * so a request that fails before producing anything still gets a real HTTP status and JSON error.
 */
export class SseSink implements ResponseSink {
  private readonly budget: StreamBudget;

  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    maxBufferedChunks: number,
  ) {
    this.budget = responseBudget(res, requestId, maxBufferedChunks);
  }

  private open(status: number, headers: Record<string, string>): void {
    if (this.res.headersSent) return;
    this.res.writeHead(status, {
      ...NO_CACHE_HEADERS,
      ...headers,
      'x-request-id': this.requestId,
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
    });
  }

  private event(name: string, part: ResponsePart): string {
    const text = isTextual(part.contentType);
    const payload = text ? Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength).toString('utf8') : Buffer.from(part.body).toString('base64');
    return formatEvent(text ? name : `${name}-base64`, payload);
  }

  chunk(part: ResponsePart): void {
    if (this.res.destroyed) return;
    this.open(part.status, part.headers);
    this.budget.wrote(!this.res.write(this.event('chunk', part)));
  }

  complete(part: ResponsePart): void {
    if (this.res.destroyed) return;
    this.open(part.status, part.headers);
    this.res.end(this.event('complete', part));
  }

  fail(error: ModelServerError): void {
    if (this.res.destroyed) return;
    if (!this.res.headersSent) {
      sendError(this.res, error, { ...NO_CACHE_HEADERS, 'x-request-id': this.requestId });
      return;
    }
    // The status line went out with the first event: the failure travels in-band, then the stream ends.
    this.res.end(formatEvent('error', JSON.stringify(error.toJSON())));
  }
}
