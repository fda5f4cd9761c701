/**
 * The life of one worker process, as the gateway sees it:
 *
 *   created ─▶ starting ─▶ ready ⇄ busy
 *                 │          │      │
 *                 ├──────────┴──────┴─▶ stopping ─▶ stopped      (a deliberate stop)
 *                 └──────────┴──────┴─▶ failed                   (it died, or never loaded)
 *
 * `stopping` is entered only by a deliberate stop; an exit seen there is `stopped`, never a crash.
 */
export type WorkerState = 'created' | 'starting' | 'ready' | 'busy' | 'stopping' | 'stopped' | 'failed';

export const WORKER_STATES: readonly WorkerState[] = ['created', 'starting', 'ready', 'busy', 'stopping', 'stopped', 'failed'];

const LEGAL: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  created: ['starting', 'stopped'],
  starting: ['ready', 'stopping', 'failed'],
  ready: ['busy', 'stopping', 'failed'],
  busy: ['ready', 'stopping', 'failed'],
  stopping: ['stopped'],
  stopped: [],
  failed: [],
};

/** Loaded and serving: counts for health and readiness (TorchServe's READY). The one definition. */
export function isLive(state: WorkerState): boolean {
  return state === 'ready' || state === 'busy';
}

/** Counts towards the size of a pool: not on its way out (starting ones included). */
export function isActive(state: WorkerState): boolean {
  return state === 'starting' || state === 'ready' || state === 'busy';
}

export function isFinal(state: WorkerState): boolean {
  return state === 'stopped' || state === 'failed';
}

/** A worker's state with its legal transitions; an illegal one is a bug in the gateway and throws. */
export class WorkerLifecycle {
  private current: WorkerState = 'created';

  constructor(private readonly id: string) {}

  get state(): WorkerState {
    return this.current;
  }

  to(next: WorkerState): void {
    if (!LEGAL[this.current].includes(next)) {
      throw new Error(`worker ${this.id}: illegal transition ${this.current} -> ${next}: this is a bug`);
    }
    this.current = next;
  }
}
