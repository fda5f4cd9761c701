import { ModelServerError } from '@model-server/protocol';
import type { ResponsePart } from '../scheduling/job.js';

const decoder = new TextDecoder();

/**
 * A successful answer on which the handler set an error status itself (setResponseStatus >= 400), as
 * an error for the APIs whose error shape is not a status with a body (KServe v1 and the Open
 * Inference Protocol's `{"error"}`, gRPC): the status is kept and the body's text is the message.
 * (A handler fails a request properly by putting an Error in its slot; this covers the rest.)
 * undefined for a successful part.
 */
export function errorFromPart(part: ResponsePart): ModelServerError | undefined {
  if (part.status < 400) return undefined;
  const text = decoder.decode(part.body).trim();
  return new ModelServerError('HANDLER_ERROR', { message: text || `the handler answered ${part.status}` }, { status: part.status });
}
