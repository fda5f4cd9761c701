import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { asModelServerError, errorHeaders } from './send-error.js';

/**
 * Writes an error the way the Open Inference Protocol (KServe v2) and KServe v1 do: `{"error": "..."}`,
 * with the status and message of the same catalog entry the TorchServe APIs render. `extra` adds
 * fields next to `error` (readiness answers add `ready: false`).
 */
export function sendOipError(
  res: ServerResponse,
  error: unknown,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): void {
  const err = asModelServerError(error);
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = Buffer.from(JSON.stringify({ error: err.message, ...extra }));
  res.writeHead(err.status, {
    ...headers,
    ...errorHeaders(err),
    'content-type': 'application/json',
    'content-length': body.byteLength,
  });
  res.end(body);
}

/** Express tail for the KServe routers: body-parser failures and thrown errors as `{"error": ...}`. */
export function oipErrorMiddleware() {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const e = err as { status?: number; type?: string; message?: string; limit?: number };
    if (!(err instanceof ModelServerError) && e.type === 'entity.too.large') {
      sendOipError(res, new ModelServerError('REQUEST_TOO_LARGE', { limit: e.limit ?? 0 }));
      return;
    }
    if (!(err instanceof ModelServerError) && e.status === 400) {
      sendOipError(res, new ModelServerError('BAD_REQUEST', { reason: e.message ?? 'bad request' }));
      return;
    }
    sendOipError(res, err);
  };
}
