import { ModelServerError } from '@model-server/protocol';
import type { ResponsePart } from '../scheduling/job.js';

const decoder = new TextDecoder();

/**
 * A successful answer on which the handler set an error status itself (setResponseStatus >= 400),
 * for the APIs whose error shape is `{"error": ...}`: the status is kept and the body's text is the
 * message. (Handlers fail a request properly by putting an Error in its slot; this covers the rest.)
 */
export function handlerStatusError(part: ResponsePart): ModelServerError {
  const text = decoder.decode(part.body).trim();
  return new ModelServerError('HANDLER_ERROR', { message: text || `the handler answered ${part.status}` }, { status: part.status });
}
