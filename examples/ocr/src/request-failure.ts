import { PredictionError, type Context } from '@model-server/sdk';

/**
 * What a node does with one request's input: prepared, or refused for a reason of its own (a 4xx
 * PredictionError). Anything else thrown is a fault of the node and fails the whole batch.
 */
export type Outcome<T> = T | PredictionError;

export async function settle<T>(work: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PredictionError) return err;
    throw err;
  }
}

/**
 * The answer for a request refused on its own, so that one bad image does not fail its batch-mates:
 * TorchServe's JSON error body with the request's status set. (Until the SDK takes an Error in a
 * result slot as a per-request failure; then this becomes `return error`.)
 */
export function failedAnswer(context: Context, index: number, error: PredictionError): unknown {
  context.setResponseStatus(error.status, index);
  context.setResponseContentType(index, 'application/json');
  return { code: error.status, type: 'PredictionException', message: error.message };
}
