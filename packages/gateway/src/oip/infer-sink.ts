import type { ServerResponse } from 'node:http';
import { ModelServerError } from '@model-server/protocol';
import type { ResponsePart, ResponseSink } from '../scheduling/job.js';
import { NO_CACHE_HEADERS } from '../http/send-error.js';
import { sendOipError } from '../http/send-oip-error.js';
import { encodeInferResponse, type InferResponseOptions } from './encode-response.js';
import { errorFromPart } from './handler-answer.js';
import { answerTensors } from './result-tensors.js';

/**
 * Answers a v2 `infer` job: the handler's tensors (or its JSON answer as a `predict` output) become the
 * inference response (JSON or binary); an error (a request failed by its handler, or an error status it chose) becomes `{"error": "..."}`. A
 * handler's intermediate chunks have no place in this protocol and are dropped.
 */
export class InferSink implements ResponseSink {
  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly options: InferResponseOptions,
  ) {}

  chunk(): void {}

  complete(part: ResponsePart): void {
    if (this.res.destroyed) return;
    const refused = errorFromPart(part);
    if (refused) {
      this.fail(refused);
      return;
    }
    let encoded;
    try {
      encoded = encodeInferResponse(answerTensors(part), this.options);
    } catch (err) {
      this.fail(err instanceof ModelServerError ? err : new ModelServerError('INTERNAL', { message: (err as Error).message }));
      return;
    }
    this.res.writeHead(200, { ...NO_CACHE_HEADERS, 'x-request-id': this.requestId, ...encoded.headers });
    this.res.end(encoded.body);
  }

  fail(error: ModelServerError): void {
    if (this.res.destroyed) return;
    sendOipError(this.res, error, { ...NO_CACHE_HEADERS, 'x-request-id': this.requestId });
  }
}
