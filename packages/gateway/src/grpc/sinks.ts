import type { ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import type { ModelServerError } from '@model-server/protocol';
import { asModelServerError } from '../http/send-error.js';
import { StreamBudget } from '../http/stream-budget.js';
import type { ResponsePart, ResponseSink } from '../scheduling/job.js';
import { errorFromPart } from '../oip/handler-answer.js';
import type { BidiStream } from './bidi-stream.js';
import { grpcStatusOf } from './status.js';
import { WriteFlow } from './write-flow.js';

/**
 * How job results are rendered on gRPC: the sinks below write a job's outcome to a call, and a
 * protocol's `render` turns one part into its response message (it may throw a ModelServerError for a
 * part the protocol cannot carry). A part a handler gave an error status (>= 400) becomes an error: gRPC
 * has no status-plus-body answer.
 */
export type Render<M> = (part: ResponsePart) => M;

/** The final part as a message, or the error it stands for. */
function renderFinal<M>(part: ResponsePart, render: Render<M>): { message: M } | { error: ModelServerError } {
  const refused = errorFromPart(part);
  if (refused) return { error: refused };
  try {
    return { message: render(part) };
  } catch (err) {
    return { error: asModelServerError(err) };
  }
}

/** A unary call: one message, or the call ends with the error's status. Intermediate chunks are dropped. */
export class UnarySink<M> implements ResponseSink {
  constructor(
    private readonly callback: sendUnaryData<M>,
    private readonly render: Render<M>,
  ) {}

  chunk(): void {}

  complete(part: ResponsePart): void {
    const out = renderFinal(part, this.render);
    if ('error' in out) this.fail(out.error);
    else this.callback(null, out.message);
  }

  fail(error: ModelServerError): void {
    this.callback(grpcStatusOf(error));
  }
}

/**
 * A server-streaming call: one message per intermediate chunk, then the final one and status OK; an
 * error at any point ends the call with its status. A client that stops reading gets at most
 * `stream_max_buffered_chunks` chunks buffered past the transport's own buffer, as an HTTP stream,
 * then STREAM_OVERFLOW (the job is cancelled in the worker).
 */
export class ServerStreamSink<Req, M> implements ResponseSink {
  private readonly budget: StreamBudget;
  private readonly flow: WriteFlow;

  constructor(
    private readonly call: ServerWritableStream<Req, M>,
    private readonly render: Render<M>,
    maxBufferedChunks: number,
    jobId: string,
  ) {
    this.budget = new StreamBudget(maxBufferedChunks, jobId);
    this.flow = new WriteFlow(() => this.budget.drained());
  }

  chunk(part: ResponsePart): void {
    if (this.call.cancelled) return;
    this.budget.wrote(this.flow.write(this.call, this.render(part), part.body.byteLength));
  }

  complete(part: ResponsePart): void {
    if (this.call.cancelled) return;
    const out = renderFinal(part, this.render);
    if ('error' in out) {
      this.fail(out.error);
      return;
    }
    this.call.write(out.message);
    this.call.end();
  }

  fail(error: ModelServerError): void {
    if (this.call.cancelled) return;
    this.call.emit('error', grpcStatusOf(error));
  }
}

/**
 * One request of a bidirectional stream: its messages go on the shared stream, its errors in band
 * (`renderError`), and the stream carries on. `render` may return undefined for a chunk the protocol
 * has no message for.
 */
export class TaggedStreamSink<M> implements ResponseSink {
  constructor(
    private readonly stream: BidiStream<unknown, M>,
    private readonly render: (part: ResponsePart, final: boolean) => M | undefined,
    private readonly renderError: (error: ModelServerError) => M,
  ) {}

  chunk(part: ResponsePart): void {
    const message = this.render(part, false);
    if (message !== undefined) this.stream.writeChunk(message, part.body.byteLength);
  }

  complete(part: ResponsePart): void {
    const out = renderFinal(part, (p) => this.render(p, true)!);
    if ('error' in out) this.fail(out.error);
    else this.stream.write(out.message, part.body.byteLength);
  }

  fail(error: ModelServerError): void {
    this.stream.writeError(this.renderError(error), error);
  }
}
