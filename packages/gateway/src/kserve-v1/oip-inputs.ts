import type { InferenceInput } from '@model-server/protocol';
import { decodeInferRequest } from '../oip/decode-request.js';

/** Whether a `:predict` body is an Open Inference Protocol request (`"inputs": [{name, datatype, shape, data}]`). */
export function isOipRequest(body: unknown): body is { inputs: unknown[] } {
  if (typeof body !== 'object' || body === null || !('inputs' in body)) return false;
  const inputs = (body as { inputs: unknown }).inputs;
  return Array.isArray(inputs) && inputs.length > 0 && inputs.every((i) => typeof i === 'object' && i !== null && 'datatype' in i && 'name' in i);
}

/**
 * The inputs of an Open Inference Protocol request sent to KServe v1's `:predict` (clients written for
 * TorchServe's KServe images post v2 request files there too): decoded as `/v2/.../infer` decodes them,
 * as one request whose inputs the handler reads (BYTES elements, typed tensors).
 */
export function oipInputs(body: { inputs: unknown[] }): InferenceInput[] {
  return decodeInferRequest(Buffer.from(JSON.stringify(body)), undefined, undefined).inputs;
}
