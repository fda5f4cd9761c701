import type { NextFunction, Request, Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { sendError } from '../http/send-error.js';

/**
 * The tail of every express app: an unknown path is 404 ResourceNotFoundException, a known path with
 * the wrong method is 405, and any thrown error renders from the catalog as TorchServe's JSON.
 */
export function notFoundOrMethod(knownPaths: readonly RegExp[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const known = knownPaths.some((p) => p.test(req.path));
    next(new ModelServerError(known ? 'METHOD_NOT_ALLOWED' : 'RESOURCE_NOT_FOUND'));
  };
}

export function errorMiddleware() {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    // express' body parsers signal bad JSON and oversize bodies with `status`/`type`.
    const e = err as { status?: number; type?: string; message?: string };
    if (!(err instanceof ModelServerError) && e.type === 'entity.too.large') {
      sendError(res, new ModelServerError('REQUEST_TOO_LARGE', { limit: (err as { limit?: number }).limit ?? 0 }));
      return;
    }
    if (!(err instanceof ModelServerError) && e.status === 400) {
      sendError(res, new ModelServerError('BAD_REQUEST', { reason: e.message ?? 'bad request' }));
      return;
    }
    sendError(res, err);
  };
}
