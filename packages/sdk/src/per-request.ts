import type { Context } from './context.js';
import { PredictionError } from './errors.js';
import type { HandlerRequest } from './request.js';
import { SubsetContext } from './subset-context.js';

/**
 * Per-request failure, the SDK's one convention: an `Error` in a request's slot of an array a handler
 * returns (from `handle`, `preprocess` or `postprocess`) fails that request alone, with the error's
 * status (a PredictionError's, else 500) and message; its batch-mates get their answers.
 */

/**
 * Maps every request through `fn`, catching what it throws into that request's slot, so one bad input
 * (an image that does not decode, a malformed tensor) fails only itself. A thrown error that is not a
 * PredictionError becomes one with `status` (default 400: the request's content was at fault).
 */
export function mapRequests<T>(data: readonly HandlerRequest[], fn: (request: HandlerRequest, index: number) => T, status = 400): (T | PredictionError)[] {
  return data.map((request, i) => {
    try {
      return fn(request, i);
    } catch (err) {
      return asPredictionError(err, status);
    }
  });
}

/** `mapRequests` for an async `fn`; requests run one after another, in order. */
export async function mapRequestsAsync<T>(
  data: readonly HandlerRequest[],
  fn: (request: HandlerRequest, index: number) => Promise<T>,
  status = 400,
): Promise<(T | PredictionError)[]> {
  const out: (T | PredictionError)[] = [];
  for (let i = 0; i < data.length; i++) {
    try {
      out.push(await fn(data[i]!, i));
    } catch (err) {
      out.push(asPredictionError(err, status));
    }
  }
  return out;
}

export function asPredictionError(err: unknown, status: number): PredictionError {
  if (err instanceof PredictionError) return err;
  const e = new PredictionError(err instanceof Error ? err.message : String(err), status);
  if (err instanceof Error && err.stack) e.stack = err.stack;
  return e;
}

/**
 * Runs `rest` on the requests whose slot in `perRequest` is not an Error, with a context renumbered to
 * them, and puts its results back in place beside the errors. Returns undefined when there is no error
 * (the caller then runs the whole batch as usual).
 */
export async function runWithoutFailed<P>(
  perRequest: readonly (P | Error)[],
  context: Context,
  rest: (ok: P[], context: Context) => Promise<unknown[]> | unknown[],
): Promise<unknown[] | undefined> {
  if (!perRequest.some((p) => p instanceof Error)) return undefined;
  const results: unknown[] = [...perRequest];
  const positions: number[] = [];
  perRequest.forEach((p, i) => {
    if (!(p instanceof Error)) positions.push(i);
  });
  if (positions.length === 0) return results;
  const out = await rest(
    positions.map((i) => perRequest[i] as P),
    new SubsetContext(context, positions),
  );
  if (!Array.isArray(out) || out.length !== positions.length) {
    throw new Error(`number of batch response mismatched: ${Array.isArray(out) ? out.length : typeof out} results for ${positions.length} requests`);
  }
  positions.forEach((p, k) => (results[p] = out[k]));
  return results;
}
