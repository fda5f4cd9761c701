import type { ModelServerError } from '@model-server/protocol';
import type { ResponsePart, ResponseSink } from '../scheduling/job.js';

export type CollectedOutcome = { ok: true; part: ResponsePart } | { ok: false; error: ModelServerError };

/**
 * A sink that keeps a job's final outcome for a caller that answers several jobs at once (KServe v1
 * `instances`). Intermediate chunks are dropped: such callers answer with one body.
 */
export class CollectSink implements ResponseSink {
  /** Settles with the final part or the error; never rejects. */
  readonly outcome: Promise<CollectedOutcome>;
  private settle!: (outcome: CollectedOutcome) => void;

  constructor() {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  chunk(): void {}

  complete(part: ResponsePart): void {
    this.settle({ ok: true, part });
  }

  fail(error: ModelServerError): void {
    this.settle({ ok: false, error });
  }
}
