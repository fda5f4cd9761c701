/**
 * The abort signals of one batch, one per request, created only when someone asks for one (a handler
 * reading `signalFor(i)` or `context.signal`) or when a request is cancelled. An AbortController per
 * request was a tenth of an idle-handler worker's CPU, for signals that most handlers never read.
 */
export class BatchSignals {
  private readonly controllers: (AbortController | undefined)[];

  constructor(readonly size: number) {
    this.controllers = new Array<AbortController | undefined>(size);
  }

  signal(idx: number): AbortSignal {
    return (this.controllers[idx] ??= new AbortController()).signal;
  }

  aborted(idx: number): boolean {
    return this.controllers[idx]?.signal.aborted ?? false;
  }

  allAborted(): boolean {
    for (let i = 0; i < this.size; i++) if (!this.aborted(i)) return false;
    return true;
  }

  abort(idx: number, reason: unknown): void {
    (this.controllers[idx] ??= new AbortController()).abort(reason);
  }

  /** Every request's signal (creates the missing ones). */
  all(): AbortSignal[] {
    const out: AbortSignal[] = new Array<AbortSignal>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.signal(i);
    return out;
  }
}
