import type { ServerResponse } from 'node:http';
import { ModelServerError } from '@model-server/protocol';

/** Headers TorchServe puts on every inference response; clients and caches rely on them. */
export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  pragma: 'no-cache',
  'cache-control': 'no-cache; no-store, must-revalidate, private',
  expires: 'Thu, 01 Jan 1970 00:00:00 UTC',
});

export function asModelServerError(err: unknown): ModelServerError {
  if (err instanceof ModelServerError) return err;
  return new ModelServerError('INTERNAL', { message: err instanceof Error ? err.message : String(err) }, { cause: err });
}

/** Extra headers an error implies: `Retry-After` on overload, `WWW-Authenticate` on 401. */
export function errorHeaders(err: ModelServerError): Record<string, string> {
  if (err.code === 'QUEUE_FULL' || err.code === 'NO_WORKER' || err.code === 'STREAM_OVERFLOW') return { 'retry-after': '1' };
  if (err.status === 401) return { 'www-authenticate': 'Bearer realm="model-server"' };
  return {};
}

/** Writes TorchServe's error body `{code, type, message}` (plus our stable `errorCode`). */
export function sendError(res: ServerResponse, error: unknown, extraHeaders: Record<string, string> = {}): void {
  const err = asModelServerError(error);
  if (res.headersSent) {
    // The status line is gone already; ending the connection without the terminating chunk is the
    // only honest signal left. Ending (not destroying) the socket still delivers the chunks written.
    // A client that overflowed its stream is not reading: waiting to flush to it would hold the memory.
    if (res.socket && !res.socket.destroyed && err.code !== 'STREAM_OVERFLOW') res.socket.end();
    else res.destroy(err);
    return;
  }
  const body = Buffer.from(`${JSON.stringify(err.toJSON(), null, 2)}\n`);
  res.writeHead(err.status, {
    ...extraHeaders,
    ...errorHeaders(err),
    'content-type': 'application/json',
    'content-length': body.byteLength,
  });
  res.end(body);
}
