import { PredictionError } from '@model-server/sdk';

/**
 * One request's input prepared, or its own refusal (a 4xx PredictionError) left in its slot, where
 * the SDK fails that request alone (its batch-mates go on). Anything else thrown is a fault of the
 * node and fails the whole batch.
 */
export async function settle<T>(work: () => Promise<T> | T): Promise<T | PredictionError> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PredictionError) return err;
    throw err;
  }
}
