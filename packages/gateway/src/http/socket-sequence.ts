import { ModelServerError } from '@model-server/protocol';
import type { InferenceJob } from '../scheduling/job.js';
import type { SequenceBatcher, SequenceWorker } from '../scheduling/sequence-batcher.js';
import { checkedId, type SequenceRequest } from '../scheduling/sequence-request.js';

type Sequences = Pick<SequenceBatcher<SequenceWorker>, 'isOpen' | 'end'>;

/**
 * The one sequence a WebSocket carries to a stateful model. It is named by the `sequence_id` query
 * parameter, or by the socket's first request (`sequence_id` in the message, or the
 * `ts_request_sequence_id` header); with neither, the first request opens one under a fresh id. The
 * first request opens the sequence unless it is already open (a socket may take over a sequence
 * begun elsewhere); every later request continues it. It ends when the socket closes.
 */
export class SocketSequence {
  private id: string | undefined;
  /** A request of this socket has been accepted into the sequence. */
  private begun = false;

  constructor(queryId: string | undefined) {
    this.id = queryId;
  }

  /** The sequence of the socket's next request; throws when it names another one. */
  next(named: string | undefined, end: boolean, sequences: Sequences): SequenceRequest {
    if (named !== undefined && this.id !== undefined && named !== this.id) {
      throw new ModelServerError('BAD_REQUEST', {
        reason: `this WebSocket carries sequence ${this.id}; open another WebSocket for sequence ${named}`,
      });
    }
    // Checked as HTTP headers and OIP parameters are (the query's id at the socket's first request).
    if (named !== undefined) checkedId(named, 'sequence_id');
    if (!this.begun && this.id !== undefined) checkedId(this.id, 'sequence_id');
    const id = this.id ?? named;
    const start = !this.begun && (id === undefined || !sequences.isOpen(id));
    return { id, start, end, withoutId: 'open' };
  }

  /** Its request was accepted: the sequence is the socket's from now on. */
  accepted(job: InferenceJob): void {
    if (job.sequence === undefined) return;
    this.id = job.sequence.id;
    this.begun = true;
  }

  /** The socket closed: its sequence ends (its requests were cancelled first). */
  close(sequences: Sequences | undefined): void {
    if (this.begun && this.id !== undefined) sequences?.end(this.id, 'closed');
  }
}
