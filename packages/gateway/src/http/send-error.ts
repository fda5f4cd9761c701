import type { ServerResponse } from 'node:http';
import { ModelServerError, type ErrorCode } from '@model-server/protocol';

/** Headers TorchServe puts on every inference response; clients and caches rely on them. */
export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  pragma: 'no-cache',
  'cache-control': 'no-cache; no-store, must-revalidate, private',
  expires: 'Thu, 01 Jan 1970 00:00:00 UTC',
});

/**
 * Any thrown value as a catalog error. express' body parsers signal oversize and malformed bodies with
 * `type`/`status` fields; those become 413 and 400 here, so every API renders them alike.
 */
export function asModelServerError(err: unknown): ModelServerError {
  if (err instanceof ModelServerError) return err;
  const e = err as { status?: number; type?: string; message?: string; limit?: number } | undefined;
  if (e?.type === 'entity.too.large') return new ModelServerError('REQUEST_TOO_LARGE', { limit: e.limit ?? 0 }, { cause: err });
  if (e?.status === 400) return new ModelServerError('BAD_REQUEST', { reason: e.message ?? 'bad request' }, { cause: err });
  return new ModelServerError('INTERNAL', { message: err instanceof Error ? err.message : String(err) }, { cause: err });
}

/** Overload and unavailability: the client may retry, after Retry-After seconds. */
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set(['QUEUE_FULL', 'NO_WORKER', 'STREAM_OVERFLOW', 'MODEL_LOAD_FAILING', 'SERVER_DRAINING', 'SERVER_NOT_READY', 'SEQUENCE_LIMIT', 'SEQUENCE_QUEUE_FULL']);

/** Extra headers an error implies: `Retry-After` on overload, `WWW-Authenticate` on 401. */
export function errorHeaders(err: ModelServerError): Record<string, string> {
  if (RETRY_LATER.has(err.code)) return { 'retry-after': String(err.params['retryAfter'] ?? 1) };
  if (err.status === 401) return { 'www-authenticate': 'Bearer realm="model-server"' };
  return {};
}

/**
 * Writes an error response with the catalog's status and the headers it implies, the body rendered by
 * the API family (`render`). After the status line is out, no error response is possible any more:
 * the connection is ended without its terminating chunk, the only honest signal left. Ending (not
 * destroying) the socket still delivers what was written; a client that overflowed its stream is not
 * reading, so waiting to flush to it would hold the memory, and it is destroyed instead.
 */
export function writeError(
  res: ServerResponse,
  error: unknown,
  render: (err: ModelServerError) => string,
  extraHeaders: Record<string, string> = {},
): void {
  const err = asModelServerError(error);
  if (res.headersSent) {
    if (res.socket && !res.socket.destroyed && err.code !== 'STREAM_OVERFLOW') res.socket.end();
    else res.destroy(err);
    return;
  }
  const body = Buffer.from(render(err));
  res.writeHead(err.status, {
    ...extraHeaders,
    ...errorHeaders(err),
    'content-type': 'application/json',
    'content-length': body.byteLength,
  });
  res.end(body);
}

/** Writes TorchServe's error body `{code, type, message}` (plus our stable `errorCode`). */
export function sendError(res: ServerResponse, error: unknown, extraHeaders: Record<string, string> = {}): void {
  writeError(res, error, (err) => `${JSON.stringify(err.toJSON(), null, 2)}\n`, extraHeaders);
}
