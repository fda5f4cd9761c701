import type { OpenedWorkflow, WorkflowSpec } from '@model-server/archive';
import { waitAtMost } from '../scheduling/timers.js';

/** One node as it is served. */
export interface WorkflowNode {
  readonly name: string;
  readonly kind: 'model' | 'function';
  /** The model serving it, `<workflow>__<node>`. */
  readonly model: string;
  /** Model nodes: the archive the spec names; function nodes: `handler.js:<function>`. */
  readonly source: string;
  /** Retries after a failed attempt. */
  readonly retryAttempts: number;
  /** Deadline of one attempt, milliseconds. */
  readonly timeoutMs: number;
}

/**
 * A registered workflow: its archive, spec and nodes, and the requests running through it, so that
 * unregistering and shutting down can wait for them before the node models go.
 */
export class Workflow {
  /** Requests in flight. */
  private active = 0;
  private whenIdle: (() => void) | undefined;
  /** Unregistering or shutting down: no new requests. */
  closed = false;

  constructor(
    readonly name: string,
    /** The `url` it was registered from, as given. */
    readonly url: string,
    readonly archive: OpenedWorkflow,
    readonly nodes: ReadonlyMap<string, WorkflowNode>,
  ) {}

  get spec(): WorkflowSpec {
    return this.archive.spec;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Counts a request in; pair with one {@link end}. */
  begin(): void {
    this.active++;
  }

  end(): void {
    if (--this.active === 0) this.whenIdle?.();
  }

  /** Takes no new requests and resolves once the running ones ended, or after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (this.active === 0) return;
    await waitAtMost(graceMs, (done) => (this.whenIdle = done));
    this.whenIdle = undefined;
  }
}
