/**
 * Throw this from a handler to answer with a chosen HTTP status (TorchServe's `PredictionException`).
 * Any other thrown error answers 500 with its message.
 */
export class PredictionError extends Error {
  constructor(
    message: string,
    readonly status: number = 500,
  ) {
    super(message);
    this.name = 'PredictionError';
  }
}
