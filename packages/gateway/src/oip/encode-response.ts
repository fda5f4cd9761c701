import type { WireTensor } from '@model-server/protocol';
import { HEADER_LENGTH_HEADER } from './binary-data.js';
import type { RequestedOutput } from './decode-request.js';
import { tensorBytesToJson } from './tensor-json.js';

export interface InferResponseOptions {
  modelName: string;
  modelVersion: string;
  /** The request's `id`, echoed when given. */
  id: string | undefined;
  /** Outputs asked for, in order (undefined: every tensor the model returned, in its order). */
  outputs: RequestedOutput[] | undefined;
  binaryByDefault: boolean;
}

export interface EncodedResponse {
  headers: Record<string, string | number>;
  body: Buffer;
}

/**
 * The tensors to answer with, in order: those asked for (a name the model did not return is left out),
 * else every tensor the model returned; `binary` is whether each goes as binary data.
 */
export function selectOutputs(tensors: readonly WireTensor[], outputs: readonly RequestedOutput[] | undefined, binaryByDefault: boolean): { tensor: WireTensor; binary: boolean }[] {
  if (!outputs) return tensors.map((tensor) => ({ tensor, binary: binaryByDefault }));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return outputs.flatMap((o) => {
    const tensor = byName.get(o.name);
    return tensor ? [{ tensor, binary: o.binary ?? binaryByDefault }] : [];
  });
}

/**
 * The inference response: JSON, or (when any output is asked for as binary) Triton's binary form,
 * the JSON header followed by the binary outputs' bytes in the order they appear in it. JSON text is
 * assembled around each output's data text so 64-bit integers stay exact.
 */
export function encodeInferResponse(tensors: readonly WireTensor[], options: InferResponseOptions): EncodedResponse {
  const selected = selectOutputs(tensors, options.outputs, options.binaryByDefault);
  const binaries: Uint8Array[] = [];
  const outputTexts = selected.map(({ tensor, binary }) => {
    const head = `{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(',')}]`;
    if (binary) {
      binaries.push(tensor.data);
      return `${head},"parameters":{"binary_data_size":${tensor.data.byteLength}}}`;
    }
    return `${head},"data":${tensorBytesToJson(tensor.datatype, tensor.data)}}`;
  });
  const idPart = options.id !== undefined ? `,"id":${JSON.stringify(options.id)}` : '';
  const json = Buffer.from(
    `{"model_name":${JSON.stringify(options.modelName)},"model_version":${JSON.stringify(options.modelVersion)}${idPart},"outputs":[${outputTexts.join(',')}]}`,
  );
  if (binaries.length === 0) {
    return { headers: { 'content-type': 'application/json', 'content-length': json.byteLength }, body: json };
  }
  const body = Buffer.concat([json, ...binaries]);
  return {
    headers: {
      'content-type': 'application/octet-stream',
      [HEADER_LENGTH_HEADER]: json.byteLength,
      'content-length': body.byteLength,
    },
    body,
  };
}
