import type { Measurement, WindowRecorder } from '../windows.js';

/** A retry pause after a failed request: a refused connection would otherwise spin and eat the CPU. */
export const RETRY_PAUSE_MS = 10;

/**
 * perf_analyzer's concurrency mode for load generators that are not autocannon: `concurrency` loops,
 * each sending one request at a time with `send`, which calls `next` once its request is over (with a
 * pause in milliseconds after a failure). Starts the recorder, and resolves with its measurement once
 * every loop has come back after the recorder stopped.
 */
export async function closedLoop(recorder: WindowRecorder, concurrency: number, send: (next: (pauseMs?: number) => void) => void): Promise<Measurement> {
  let active = 0;
  let allIdle: () => void = () => undefined;
  const idle = new Promise<void>((resolve) => {
    allIdle = resolve;
  });
  const loop = (): void => {
    if (recorder.stopped) {
      if (--active === 0) allIdle();
      return;
    }
    send((pauseMs) => (pauseMs === undefined ? loop() : setTimeout(loop, pauseMs)));
  };
  recorder.start();
  for (let i = 0; i < concurrency; i++) {
    active++;
    loop();
  }
  const measurement = await recorder.done;
  await idle;
  return measurement;
}
