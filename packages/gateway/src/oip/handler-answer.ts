import { ModelServerError, TENSOR_BUNDLE_CONTENT_TYPE, decodeTensorBundle, type WireTensor } from '@model-server/protocol';
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

/**
 * The tensors of a handler's successful answer to a tensor request. A handler that answered anything
 * but a tensor bundle does not speak the inference protocol: HANDLER_ERROR saying so.
 */
export function tensorsFromPart(part: ResponsePart, modelName: string): WireTensor[] {
  if (!part.contentType?.startsWith(TENSOR_BUNDLE_CONTENT_TYPE)) {
    throw new ModelServerError('HANDLER_ERROR', {
      message: `model ${modelName} answered ${part.contentType ?? 'untyped data'} instead of tensors; its handler does not speak the inference protocol`,
    });
  }
  return decodeTensorBundle(part.body);
}
