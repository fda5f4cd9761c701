import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { writeError } from './send-error.js';

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
  writeError(res, error, (err) => JSON.stringify({ error: err.message, ...extra }), headers);
}

/** Express tail for the KServe routers: body-parser failures and thrown errors as `{"error": ...}`. */
export function oipErrorMiddleware() {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => sendOipError(res, err);
}
