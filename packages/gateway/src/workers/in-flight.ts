import type { InferenceJob } from '../scheduling/job.js';

export interface SentBatch {
  id: number;
  jobs: InferenceJob[];
  sentAt: number;
  /** The worker said batch_end (possibly before its answers were routed). */
  ended: boolean;
}

/**
 * The ledger of what one worker holds: batches sent and not yet finished, and each of their jobs by
 * gateway-issued id until its answer arrives. Ids are keys here, so the same id twice in flight is a
 * bug in the gateway and throws; a reply naming an id that is not here is a protocol error for the
 * caller to report (see WorkerProcess), never silently dropped.
 */
export class InFlightLedger {
  private readonly jobs = new Map<string, InferenceJob>();
  /** In the order the worker runs them. */
  private readonly batches = new Map<number, SentBatch>();
  private lastBatchId = 0;
  /** Batches sent that the worker has not ended: the running one and at most one waiting behind it. */
  outstanding = 0;

  get size(): number {
    return this.jobs.size;
  }

  /** Records a batch about to be sent and returns its id. */
  add(jobs: InferenceJob[]): SentBatch {
    for (const job of jobs) {
      if (this.jobs.has(job.id)) throw new Error(`job id ${job.id} is already in flight on this worker: this is a bug`);
    }
    const batch: SentBatch = { id: ++this.lastBatchId, jobs, sentAt: performance.now(), ended: false };
    for (const job of jobs) this.jobs.set(job.id, job);
    this.batches.set(batch.id, batch);
    this.outstanding++;
    return batch;
  }

  has(id: string): boolean {
    return this.jobs.has(id);
  }

  get(id: string): InferenceJob | undefined {
    return this.jobs.get(id);
  }

  batch(id: number): SentBatch | undefined {
    return this.batches.get(id);
  }

  /** Removes a job once answered; undefined when it is not in flight. */
  settle(id: string): InferenceJob | undefined {
    const job = this.jobs.get(id);
    if (job) this.jobs.delete(id);
    return job;
  }

  /** Marks a batch ended (the worker is free of it); false when it already was, or is unknown. */
  end(batchId: number): boolean {
    const batch = this.batches.get(batchId);
    if (!batch || batch.ended) return false;
    batch.ended = true;
    this.outstanding--;
    return true;
  }

  /** The batch's jobs still unanswered. */
  unanswered(batchId: number): InferenceJob[] {
    return (this.batches.get(batchId)?.jobs ?? []).filter((job) => this.jobs.get(job.id) === job);
  }

  /** Forgets a batch whose every job has been answered. */
  forget(batchId: number): void {
    this.batches.delete(batchId);
  }

  /** The first batch sent that the worker has not ended (batches run in the order they were sent). */
  running(): SentBatch | undefined {
    for (const b of this.batches.values()) if (!b.ended) return b;
    return undefined;
  }

  /** Every job still in flight, removed from the ledger (the worker is gone). */
  takeAll(): InferenceJob[] {
    const all = [...this.jobs.values()];
    this.jobs.clear();
    this.batches.clear();
    this.outstanding = 0;
    return all;
  }
}
