/**
 * Node's timers take at most 2^31 - 1 ms (about 24.8 days); a longer delay is silently replaced by
 * 1 ms, so a 30-day request deadline would fire at once. Every timer whose delay comes from a client
 * or from config goes through `setTimer`, which waits in steps for longer delays.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

class LongTimeout {
  private handle: NodeJS.Timeout | undefined;

  constructor(
    private readonly fn: () => void,
    private readonly at: number,
  ) {
    this.arm();
  }

  private arm(): void {
    const left = this.at - performance.now();
    this.handle = setTimeout(() => (left > MAX_TIMER_MS ? this.arm() : this.fn()), Math.min(Math.max(left, 0), MAX_TIMER_MS));
  }

  clear(): void {
    clearTimeout(this.handle);
  }
}

export type Timer = NodeJS.Timeout | LongTimeout;

/** `setTimeout` for any delay (a plain node timer when it fits, so the common case costs nothing more). */
export function setTimer(fn: () => void, ms: number): Timer {
  return ms <= MAX_TIMER_MS ? setTimeout(fn, ms) : new LongTimeout(fn, performance.now() + ms);
}

export function clearTimer(timer: Timer | undefined): void {
  if (timer instanceof LongTimeout) timer.clear();
  else clearTimeout(timer);
}

/**
 * Resolves when `arm`'s callback is called or after `ms`, whichever comes first: a drain that waits
 * for its work to end, but never past its grace period.
 */
export async function waitAtMost(ms: number, arm: (done: () => void) => void): Promise<void> {
  let timer: Timer | undefined;
  await new Promise<void>((resolve) => {
    arm(resolve);
    timer = setTimer(resolve, ms);
  });
  clearTimer(timer);
}
