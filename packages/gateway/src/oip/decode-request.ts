import {
  ModelServerError,
  TENSOR_DATATYPES,
  checkTensorData,
  elementCount,
  formatTensorContentType,
  isTensorDatatype,
  type InferenceInput,
  type ModelMetadata,
  type TensorHeader,
} from '@model-server/protocol';
import { z } from 'zod';
import { BinaryCursor } from './binary-data.js';
import { binaryElementCount, resolveWildcardShape } from './shape-wildcard.js';
import { flatten, jsonToTensorBytes } from './tensor-json.js';

const parameters = z.record(z.string(), z.unknown());

/** The inference request object of the Open Inference Protocol (plus Triton's binary parameters). */
const inferRequestSchema = z.object({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        // -1 (one dimension, solved from the data) and a bare number, as KServe's clients send them.
        shape: z.union([z.array(z.number().int().min(-1)), z.number().int().min(-1).transform((n) => [n])]),
        datatype: z.string(),
        parameters: parameters.optional(),
        data: z.unknown().optional(),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
});

/** An output the client asked for, and whether it wants it as binary data. */
export interface RequestedOutput {
  name: string;
  binary: boolean | undefined;
}

export interface DecodedInferRequest {
  id: string | undefined;
  parameters: Record<string, unknown>;
  /** One tensor input per request input, raw bytes with an `application/x-tensor` content type. */
  inputs: InferenceInput[];
  /** The outputs asked for, in order; undefined = all outputs. */
  outputs: RequestedOutput[] | undefined;
  /** `binary_data_output`, or true for a raw binary request: outputs default to binary. */
  binaryByDefault: boolean;
}

function invalid(reason: string): ModelServerError {
  return new ModelServerError('INVALID_INPUT', { reason });
}

function parseJson(text: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'));
  } catch (err) {
    throw invalid(`the body is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Registers one input's datatype (any case) and shape, refusing an unknown datatype and a name given
 * twice. Shared by every encoding of an inference request (REST JSON and binary, gRPC raw and typed).
 */
export function inputHeader(headers: Map<string, TensorHeader>, name: string, datatype: string, shape: number[]): TensorHeader {
  const upper = datatype.toUpperCase();
  if (!isTensorDatatype(upper)) throw invalid(`input '${name}' has unknown datatype ${datatype}`);
  if (headers.has(name)) throw invalid(`input '${name}' is given more than once`);
  const header = { datatype: upper, shape };
  headers.set(name, header);
  return header;
}

/** One decoded input as the worker takes it: raw bytes with an `application/x-tensor` content type. */
export function tensorInput(name: string, header: TensorHeader, data: Uint8Array): InferenceInput {
  return { name, contentType: formatTensorContentType(header), data };
}

/** Refuses a request that names an output twice. */
export function checkRequestedOutputs(outputs: readonly RequestedOutput[] | undefined): void {
  if (outputs && new Set(outputs.map((o) => o.name)).size !== outputs.length) throw invalid('an output is requested more than once');
}

/**
 * Checks the inputs against the model's signature before anything is queued: names, datatypes, rank
 * and fixed dimensions, and that every input is there. A mismatch is the client's error (400), found
 * without a trip to the worker.
 */
export function checkSignature(inputs: readonly InferenceInput[], headers: ReadonlyMap<string, TensorHeader>, metadata: ModelMetadata, outputs: readonly RequestedOutput[] | undefined): void {
  const known = new Map(metadata.inputs.map((m) => [m.name, m]));
  for (const input of inputs) {
    const meta = known.get(input.name);
    if (!meta) throw invalid(`unknown input '${input.name}'; the model's inputs are: ${metadata.inputs.map((m) => m.name).join(', ')}`);
    const h = headers.get(input.name)!;
    if (h.datatype !== meta.datatype) throw invalid(`input '${input.name}' must be ${meta.datatype}, got ${h.datatype}`);
    if (h.shape.length !== meta.shape.length || meta.shape.some((d, i) => d !== -1 && d !== h.shape[i])) {
      throw invalid(`input '${input.name}' has shape [${h.shape.join(',')}] where the model takes [${meta.shape.join(',')}]`);
    }
  }
  const missing = metadata.inputs.filter((m) => !headers.has(m.name)).map((m) => m.name);
  if (missing.length > 0) throw invalid(`missing input(s): ${missing.join(', ')}`);
  const outputNames = new Set(metadata.outputs.map((m) => m.name));
  const unknown = (outputs ?? []).filter((o) => !outputNames.has(o.name)).map((o) => o.name);
  if (unknown.length > 0) {
    throw invalid(`unknown output(s): ${unknown.join(', ')}; the model's outputs are: ${[...outputNames].join(', ')}`);
  }
}

/**
 * A raw binary request (`Inference-Header-Content-Length: 0`): the whole body is the one input of a
 * single-input model, treated as one example; its shape is the model's with the one variable
 * dimension solved from the byte count (BYTES: shape [1]).
 */
function decodeRawBinary(body: Uint8Array, metadata: ModelMetadata | undefined): DecodedInferRequest {
  if (!metadata || metadata.inputs.length !== 1) throw invalid('a raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input');
  const meta = metadata.inputs[0]!;
  if (!isTensorDatatype(meta.datatype)) throw invalid(`input '${meta.name}' has datatype ${meta.datatype}, which has no binary form`);
  const datatype = meta.datatype;
  let shape: number[];
  if (datatype === 'BYTES') {
    shape = meta.shape.map(() => 1);
  } else {
    const variable = meta.shape.filter((d) => d === -1).length;
    if (variable > 1) throw invalid(`a raw binary request needs at most one variable dimension; input '${meta.name}' has [${meta.shape.join(',')}]`);
    const fixed = elementCount(meta.shape.filter((d) => d !== -1));
    const elements = body.byteLength / TENSOR_DATATYPES[datatype];
    const solved = elements / fixed;
    if (!Number.isInteger(solved)) throw invalid(`${body.byteLength} bytes do not fill input '${meta.name}' of shape [${meta.shape.join(',')}] of ${datatype}`);
    shape = meta.shape.map((d) => (d === -1 ? solved : d));
  }
  const header = { datatype, shape };
  checkTensorData(meta.name, header, body);
  return {
    id: undefined,
    parameters: {},
    inputs: [tensorInput(meta.name, header, body)],
    outputs: undefined,
    binaryByDefault: true,
  };
}

/**
 * An `/infer` body (JSON, or JSON header plus binary tensors) to tensor inputs for the worker.
 * `jsonLength` is `Inference-Header-Content-Length` (undefined: the whole body is JSON). `metadata`,
 * when the model reported it, lets bad requests fail here with 400.
 */
export function decodeInferRequest(
  body: Uint8Array,
  jsonLength: number | undefined,
  metadata: ModelMetadata | undefined,
  options: { handlerDecides?: boolean } = {},
): DecodedInferRequest {
  if (jsonLength === 0) return decodeRawBinary(body, metadata);
  const json = jsonLength === undefined ? body : body.subarray(0, jsonLength);
  const parsed = inferRequestSchema.safeParse(parseJson(json));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.length > 0 ? issue.path.join('.') : 'request'}: ${issue.message}`);
  }
  const request = parsed.data;
  const cursor = new BinaryCursor(jsonLength === undefined ? new Uint8Array(0) : body.subarray(jsonLength));
  const headers = new Map<string, TensorHeader>();
  const inputs: InferenceInput[] = request.inputs.map((input) => {
    const { datatype } = inputHeader(headers, input.name, input.datatype, input.shape);
    const binarySize = input.parameters?.['binary_data_size'];
    let data: Uint8Array;
    let header: TensorHeader;
    if (binarySize !== undefined) {
      if (input.data !== undefined) throw invalid(`input '${input.name}' has both "data" and binary_data_size`);
      data = cursor.take(input.name, binarySize);
      header = { datatype, shape: resolveWildcardShape(input.name, input.shape, binaryElementCount(datatype, data)) };
      checkTensorData(input.name, header, data);
    } else {
      if (input.data === undefined) throw invalid(`input '${input.name}' has no "data" (and no binary_data_size)`);
      // A lone value for a one-element input (tobytes.py writes "data": "<base64>").
      const values = Array.isArray(input.data) ? input.data : [input.data];
      header = { datatype, shape: resolveWildcardShape(input.name, input.shape, input.shape.includes(-1) ? flatten(values, input.name).length : 0) };
      data = jsonToTensorBytes(input.name, datatype, header.shape, values);
    }
    // The shape as solved (a -1 replaced), for the signature check below.
    headers.set(input.name, header);
    return tensorInput(input.name, header, data);
  });
  cursor.finish();
  const binaryByDefault = request.parameters?.['binary_data_output'] === true;
  // An empty list asks for nothing in particular, as an absent one: every output (as Triton does).
  const outputs = request.outputs?.length === 0 ? undefined : request.outputs?.map((o) => {
    const flag = o.parameters?.['binary_data'];
    return { name: o.name, binary: typeof flag === 'boolean' ? flag : undefined };
  });
  checkRequestedOutputs(outputs);
  // A handler with code of its own may take what its model does not: a BYTES input the model has no
  // name for (an image as base64 text for an FP32 model, as KServe's clients send) is the handler's to
  // read. Anything else is checked against the model's signature.
  const forHandler =
    options.handlerDecides === true && metadata !== undefined && inputs.some((i) => headers.get(i.name)!.datatype === 'BYTES' && !metadata.inputs.some((m) => m.name === i.name));
  if (metadata && !forHandler) checkSignature(inputs, headers, metadata, outputs);
  return { id: request.id, parameters: request.parameters ?? {}, inputs, outputs, binaryByDefault };
}
