import { ModelServerError, TENSOR_BUNDLE_CONTENT_TYPE, decodeTensorBundle, type WireTensor } from '@model-server/protocol';
import type { ResponsePart } from '../scheduling/job.js';

const decoder = new TextDecoder();

/** The message of a handler's error answer: `message` of a JSON error body, else the body as text. */
function errorMessage(part: ResponsePart): string {
  const text = decoder.decode(part.body);
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof json.message === 'string') return json.message;
    if (typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: the text itself is the message
  }
  return text || `handler answered ${part.status}`;
}

/**
 * A final part whose status a handler set to 400 or more, as an error for protocols that cannot send
 * a status with a body (the Open Inference Protocol, gRPC): 400 is INVALID_INPUT, anything else
 * HANDLER_ERROR with the handler's status. undefined for a successful part.
 */
export function errorFromPart(part: ResponsePart): ModelServerError | undefined {
  if (part.status < 400) return undefined;
  const message = errorMessage(part);
  if (part.status === 400) return new ModelServerError('INVALID_INPUT', { reason: message }, { status: 400 });
  return new ModelServerError('HANDLER_ERROR', { message }, { status: part.status });
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
