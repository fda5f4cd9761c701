import type { NextFunction, Request, Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { sendError } from '../http/send-error.js';
import { isKnownPath } from '../routing/routes.js';

/**
 * The tail of every express app: an unknown path is 404 ResourceNotFoundException, a known path with
 * the wrong method is 405.
 */
export function notFoundOrMethod(knownPaths: readonly RegExp[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const known = isKnownPath(knownPaths, req.path);
    next(new ModelServerError(known ? 'METHOD_NOT_ALLOWED' : 'RESOURCE_NOT_FOUND'));
  };
}

/** Renders any error (thrown, or from express' body parsers) from the catalog as TorchServe's JSON. */
export function errorMiddleware() {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => sendError(res, err);
}
