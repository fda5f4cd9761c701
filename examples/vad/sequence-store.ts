/**
 * The open sequences of one worker, bounded: a safety net for sequences whose end never comes (a client
 * gone, an expiry the worker is not told of). Past `max`, the sequence idle longest is dropped.
 * Map order is recency: every use moves a sequence to the back.
 */
export class SequenceStore<T> {
  private readonly states = new Map<string, T>();

  constructor(
    private readonly max: number,
    private readonly onDrop: (id: string, state: T) => void,
  ) {}

  get size(): number {
    return this.states.size;
  }

  /** The state of `id`, marked as just used. */
  use(id: string): T | undefined {
    const state = this.states.get(id);
    if (state === undefined) return undefined;
    this.states.delete(id);
    this.states.set(id, state);
    return state;
  }

  /** Opens (or reopens) `id`. Sequences in `busy` (the running batch) are never dropped to make room. */
  open(id: string, state: T, busy: ReadonlySet<string>): void {
    this.states.delete(id);
    for (const [oldId, old] of this.states) {
      if (this.states.size < this.max) break;
      if (busy.has(oldId)) continue;
      this.states.delete(oldId);
      this.onDrop(oldId, old);
    }
    this.states.set(id, state);
  }

  close(id: string): void {
    this.states.delete(id);
  }
}
