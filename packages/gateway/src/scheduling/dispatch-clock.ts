import { clearTimer, setTimer, type Timer } from './timers.js';

/**
 * When a batcher (the plain one and the sequence one) dispatches: at the end of the event-loop turn
 * in which work arrived, every call of that turn coalesced into one dispatch (so requests parsed
 * together leave together, one write and one worker wake-up, even with maxBatchDelay 0), or at the
 * earliest time a waiting batch is due; never after `stop`.
 */
export class DispatchClock {
  private timer: Timer | undefined;
  private timerAt = 0;
  private scheduled = false;
  private halted = false;
  // Made once: no closure per schedule or per timer.
  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.dispatch();
  };
  private readonly onDue = (): void => {
    this.timer = undefined;
    this.dispatch();
  };

  constructor(private readonly dispatch: () => void) {}

  get stopped(): boolean {
    return this.halted;
  }

  /** Dispatches once the current event-loop turn is over (coalesced). Costs one turn. */
  schedule(): void {
    if (this.scheduled || this.halted) return;
    this.scheduled = true;
    setImmediate(this.onTurnEnd);
  }

  /** Dispatches at `at` (performance.now() time), unless a dispatch is already due no later. */
  armAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimer(this.timer);
    this.timerAt = at;
    this.timer = setTimer(this.onDue, Math.max(0, at - performance.now()));
  }

  stop(): void {
    this.halted = true;
    clearTimer(this.timer);
    this.timer = undefined;
  }
}
