/** A refusal with the exit code the CLI should use (2 = bad arguments, 3 = output exists). */
export class ArchiverError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'ArchiverError';
  }
}
