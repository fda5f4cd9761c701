import type { SequenceEndReason } from '@model-server/protocol';
import type { InferenceJob } from './job.js';
import type { SequencePolicy } from './sequence-batcher.js';
import type { Timer } from './timers.js';

/** One open sequence of a stateful model, as the sequence batcher keeps it. */
export class Sequence<W> {
  /** The worker holding its state: chosen when its first request is dispatched, then fixed. */
  worker: W | undefined;
  /** Accepted and not yet sent, in order. Jobs that end while here are removed at once. */
  readonly queue: InferenceJob[] = [];
  /** The one request sent to its worker and not yet ended. */
  running: InferenceJob | undefined;
  /** Its last request has been accepted: nothing more is taken. */
  closing = false;
  ended = false;
  /** When it last became idle (nothing queued or running). */
  idleSince = 0;
  idleTimer: Timer | undefined;
  lifeTimer: Timer | undefined;
  /** Called as each of its requests ends: made once per sequence, not per request. */
  readonly onJobEnded: (job: InferenceJob) => void;

  constructor(
    readonly id: string,
    onJobEnded: (seq: Sequence<W>, job: InferenceJob) => void,
  ) {
    this.onJobEnded = (job) => onJobEnded(this, job);
  }

  get idle(): boolean {
    return this.running === undefined && this.queue.length === 0;
  }
}

/** How each end reads in the answers to requests that come after it. */
export const END_TEXT: Readonly<Record<SequenceEndReason, (p: Pick<SequencePolicy, 'maxIdleMs' | 'timeoutMs'>) => string>> = {
  client: () => 'its last request (ts_request_sequence_end) was received',
  handler: () => 'the model ended it',
  idle: (p) => `it was idle for ${p.maxIdleMs} ms (sequenceMaxIdleMSec)`,
  timeout: (p) => `it reached sequenceTimeoutMSec (${p.timeoutMs} ms)`,
  restarted: () => 'a new request started it again (ts_request_sequence_start)',
  closed: () => 'its WebSocket closed',
};
