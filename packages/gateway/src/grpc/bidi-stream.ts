import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ModelServerError } from '@model-server/protocol';
import { asModelServerError } from '../http/send-error.js';
import { StreamBudget } from '../http/stream-budget.js';
import type { InferenceJob } from '../scheduling/job.js';
import { MalformedMessage } from './malformed.js';
import { grpcStatusOf } from './status.js';
import { WriteFlow } from './write-flow.js';

export interface BidiOptions<Req, Res> {
  /** Starts one request (usually a job tracked with `track`); a throw is answered in band with `renderError`. */
  onRequest(request: Req, stream: BidiStream<Req, Res>): void;
  /** An error for one request as the protocol's in-band message. */
  renderError(error: ModelServerError): Res;
  /** Stream chunks a slow reader may leave buffered past the transport's buffer (stream_max_buffered_chunks). */
  maxBufferedChunks: number;
  /** End the call with the first error's status instead of answering in band (Triton's `triton_grpc_error` opt-in). */
  endOnError?: boolean;
}

/**
 * A bidirectional call that carries many requests (StreamPredictions2, ModelStreamInfer). Each request
 * is its own job; answers go out in the order they are produced; an error for one request is answered
 * in band and the stream carries on. The call ends with OK once the client has half-closed and every
 * job is over; a cancelled call (or one past its deadline) cancels every job it started.
 *
 * Bounded memory with a client that does not read: while the transport is backed up no further
 * requests are read (HTTP/2 flow control then holds the client back), and chunks written meanwhile
 * count against the same budget as an HTTP stream's, past which that request fails with STREAM_OVERFLOW.
 */
export class BidiStream<Req, Res> {
  private readonly jobs = new Set<InferenceJob>();
  private readonly budget: StreamBudget;
  private readonly flow: WriteFlow;
  private halfClosed = false;
  private ended = false;

  constructor(
    private readonly call: ServerDuplexStream<Req, Res>,
    private readonly options: BidiOptions<Req, Res>,
  ) {
    this.budget = new StreamBudget(options.maxBufferedChunks, 'stream');
    this.flow = new WriteFlow(() => {
      this.budget.drained();
      if (this.call.isPaused()) this.call.resume();
    });
    call.on('data', (request: Req | MalformedMessage) => this.receive(request));
    call.on('end', () => {
      this.halfClosed = true;
      this.maybeEnd();
    });
    call.on('cancelled', () => {
      this.ended = true;
      for (const job of [...this.jobs]) job.cancel('client cancelled the stream or its deadline passed');
    });
  }

  /** The call, for what a request needs of it (metadata, deadline). */
  get metadata(): ServerDuplexStream<Req, Res>['metadata'] {
    return this.call.metadata;
  }

  get deadline(): ReturnType<ServerDuplexStream<Req, Res>['getDeadline']> {
    return this.call.getDeadline();
  }

  private receive(request: Req | MalformedMessage): void {
    if (this.ended) return;
    try {
      if (request instanceof MalformedMessage) throw request.error();
      this.options.onRequest(request, this);
    } catch (err) {
      const e = asModelServerError(err);
      this.writeError(this.options.renderError(e), e);
    }
  }

  /** Keeps the call open until the job is over. */
  track(job: InferenceJob): void {
    this.jobs.add(job);
    // The job reaches its end state just before its sink writes the final answer: end after that.
    job.whenEnded(() =>
      queueMicrotask(() => {
        this.jobs.delete(job);
        this.maybeEnd();
      }),
    );
  }

  /** A final answer (or an in-band error) of about `bytes` bytes; true when the call is backed up after it. */
  write(message: Res, bytes = 0): boolean {
    if (this.ended || this.call.cancelled) return false;
    const backedUp = this.flow.write(this.call, message, bytes);
    // Stop reading requests while the client is not reading answers.
    if (backedUp && !this.call.isPaused()) this.call.pause();
    return backedUp;
  }

  /** An intermediate answer; throws STREAM_OVERFLOW past the budget (the job then fails in band). */
  writeChunk(message: Res, bytes: number): void {
    this.budget.wrote(this.write(message, bytes));
  }

  /** An error for one request: in band, or the end of the call when the client opted for that. */
  writeError(message: Res, error: ModelServerError): void {
    if (!this.options.endOnError) {
      this.write(message);
      return;
    }
    if (this.ended || this.call.cancelled) return;
    this.ended = true;
    for (const job of [...this.jobs]) job.cancel('the stream ended with an error');
    this.call.emit('error', grpcStatusOf(error));
  }

  private maybeEnd(): void {
    if (this.ended || !this.halfClosed || this.jobs.size > 0) return;
    this.ended = true;
    this.call.end();
  }
}
