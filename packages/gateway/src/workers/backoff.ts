/** TorchServe's restart delays in seconds (a Fibonacci run, capped); the index resets on a good load. */
export const BACKOFF_SECONDS = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597] as const;

export function backoffDelayMs(attempt: number): number {
  return BACKOFF_SECONDS[Math.min(attempt, BACKOFF_SECONDS.length - 1)]! * 1000;
}
