import type { NextFunction, Request, Response } from 'express';
import { ModelServerError } from '@model-server/protocol';
import { assertJsonDepth } from './json-depth.js';
import { readBody } from './read-inputs.js';

const decoder = new TextDecoder();

/** A client's JSON text as a value: INVALID_INPUT when it is not JSON or nests too deeply. */
export function parseClientJson(bytes: Uint8Array, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw new ModelServerError('INVALID_INPUT', { reason: `${where} is not valid JSON (${(err as Error).message})` });
  }
  assertJsonDepth(value, where);
  return value;
}

export interface JsonBodyOptions {
  maxBytes: number;
  /** Only bodies of this content type are parsed (others leave `req.body` undefined); all when absent. */
  onlyJsonContentType?: boolean;
}

/**
 * express middleware replacing express.json: a body declared over the limit is answered 413 at once
 * (body-parser reads, or waits for, the whole body before it answers), the body is read by the same
 * reader as the hot routes, and the JSON's depth is bounded. An empty body leaves `req.body` undefined.
 */
export function jsonBody(options: JsonBodyOptions) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (options.onlyJsonContentType && !req.is('application/json')) {
      next();
      return;
    }
    readBody(req, options.maxBytes, (err, data) => {
      if (err !== undefined) return next(err);
      try {
        if (data!.byteLength > 0) req.body = parseClientJson(data!, 'the request body');
        next();
      } catch (e) {
        next(e);
      }
    });
  };
}
