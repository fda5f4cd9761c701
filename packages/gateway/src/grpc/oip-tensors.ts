import {
  ModelServerError,
  checkTensorData,
  type InferenceInput,
  type ModelMetadata,
  type TensorDatatype,
  type TensorHeader,
  type WireTensor,
} from '@model-server/protocol';
import { checkRequestedOutputs, checkSignature, inputHeader, tensorInput, type RequestedOutput } from '../oip/decode-request.js';
import { selectOutputs } from '../oip/encode-response.js';
import { jsonToTensorBytes, tensorBytesToValues } from '../oip/tensor-json.js';
import type { InferInputTensor, InferOutputTensor, InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse } from './messages.js';

/** The typed `contents` field of each datatype; FP16 travels only as raw bytes. */
const CONTENTS_FIELD: Record<TensorDatatype, keyof InferTensorContents | undefined> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const FIELDS = Object.keys({
  bool_contents: 0,
  int_contents: 0,
  int64_contents: 0,
  uint_contents: 0,
  uint64_contents: 0,
  fp32_contents: 0,
  fp64_contents: 0,
  bytes_contents: 0,
} satisfies Record<keyof InferTensorContents, 0>) as (keyof InferTensorContents)[];

function invalid(reason: string): ModelServerError {
  return new ModelServerError('INVALID_INPUT', { reason });
}

/** 64-bit integers arrive as decimal strings (SERVER_LOADER_OPTIONS); a shape or parameter is a small number. */
function toNumber(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

function shapeOf(tensor: InferInputTensor): number[] {
  return tensor.shape.map((d) => {
    const n = toNumber(d);
    if (!Number.isSafeInteger(n) || n < 0) throw invalid(`input '${tensor.name}' has a bad dimension ${String(d)} in its shape`);
    return n;
  });
}

function filledFields(contents: InferTensorContents | null): (keyof InferTensorContents)[] {
  return contents ? FIELDS.filter((f) => contents[f].length > 0) : [];
}

/** Typed contents to raw bytes, with the same element checks as JSON `data`. */
function typedBytes(tensor: InferInputTensor, header: TensorHeader, model: string): Uint8Array {
  const field = CONTENTS_FIELD[header.datatype];
  const filled = filledFields(tensor.contents);
  if (field === undefined) throw invalid(`input '${tensor.name}' of ${header.datatype} has no typed contents; send it in raw_input_contents`);
  if (filled.length === 0) {
    if (header.shape.some((d) => d === 0)) return new Uint8Array(0);
    throw invalid(`unable to find data for input tensor '${tensor.name}' for model '${model}' in request`);
  }
  if (filled.length > 1 || filled[0] !== field) {
    throw invalid(`input '${tensor.name}' of ${header.datatype} takes its contents in ${field}, not ${filled.join(', ')}`);
  }
  return jsonToTensorBytes(tensor.name, header.datatype, header.shape, tensor.contents![field]);
}

/** InferParameter maps as plain values (64-bit integers as numbers), as the REST protocol's `parameters`. */
export function plainParameters(parameters: Record<string, InferParameter>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in parameters) {
    const p = parameters[key]!;
    const choice = p.parameter_choice;
    if (choice === undefined) continue;
    const value = p[choice]!;
    out[key] = choice === 'int64_param' || choice === 'uint64_param' ? toNumber(value as string) : value;
  }
  return out;
}

export interface DecodedModelInfer {
  inputs: InferenceInput[];
  /** The outputs asked for, in order; undefined = all. */
  outputs: RequestedOutput[] | undefined;
  parameters: Record<string, unknown>;
  /** Whether the request sent raw_input_contents: the response then answers in raw_output_contents. */
  raw: boolean;
}

/**
 * A ModelInferRequest's tensors as inputs for the worker: raw_input_contents (one entry per input, in
 * order; what tritonclient always sends) or typed contents (KServe's and hand-written clients), never
 * both; then the same checks as the REST form (datatype, byte size, the model's signature).
 */
export function decodeModelInfer(request: ModelInferRequest, model: string, metadata: ModelMetadata | undefined): DecodedModelInfer {
  const raw = request.raw_input_contents;
  const useRaw = raw.length > 0;
  if (request.inputs.length === 0) throw invalid('the request has no inputs');
  if (useRaw && raw.length !== request.inputs.length) {
    throw invalid(`raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs; send one per input, in order`);
  }
  const headers = new Map<string, TensorHeader>();
  const inputs = request.inputs.map((tensor, i) => {
    if (tensor.name === '') throw invalid(`input ${i} has no name`);
    if (tensor.parameters['shared_memory_region'] !== undefined) throw invalid(`input '${tensor.name}': shared memory is not supported`);
    const header = inputHeader(headers, tensor.name, tensor.datatype, shapeOf(tensor));
    let data: Uint8Array;
    if (useRaw) {
      if (filledFields(tensor.contents).length > 0) {
        throw invalid(`contents field must not be specified when using raw_input_contents for '${tensor.name}' for model '${model}'`);
      }
      data = raw[i]!;
      checkTensorData(tensor.name, header, data);
    } else {
      data = typedBytes(tensor, header, model);
    }
    return tensorInput(tensor.name, header, data);
  });
  const outputs = request.outputs.length > 0 ? request.outputs.map((o) => ({ name: o.name, binary: undefined })) : undefined;
  checkRequestedOutputs(outputs);
  if (metadata) checkSignature(inputs, headers, metadata, outputs);
  return { inputs, outputs, parameters: plainParameters(request.parameters), raw: useRaw };
}

export interface ModelInferAnswer {
  modelName: string;
  modelVersion: string;
  /** The request's id, echoed. */
  id: string;
  outputs: RequestedOutput[] | undefined;
  raw: boolean;
}

function typedContents(tensor: WireTensor): Partial<InferTensorContents> {
  const field = CONTENTS_FIELD[tensor.datatype]!;
  const values = tensorBytesToValues(tensor.datatype, tensor.data);
  // 64-bit integers go as decimal strings, which protobuf encodes exactly.
  return { [field]: typeof values[0] === 'bigint' ? (values as bigint[]).map(String) : values };
}

/**
 * The model's tensors as a ModelInferResponse. As Triton, raw_output_contents (one entry per output,
 * in order, `contents` unset) when the request sent raw inputs, since tritonclient reads only those;
 * typed contents when it sent typed ones, unless an output has no typed form (FP16): then all raw.
 */
export function encodeModelInfer(tensors: readonly WireTensor[], answer: ModelInferAnswer): ModelInferResponse {
  const selected = selectOutputs(tensors, answer.outputs, false).map((s) => s.tensor);
  const raw = answer.raw || selected.some((t) => CONTENTS_FIELD[t.datatype] === undefined);
  const outputs = selected.map((t): InferOutputTensor => {
    const out: InferOutputTensor = { name: t.name, datatype: t.datatype, shape: t.shape };
    if (!raw) out.contents = typedContents(t);
    return out;
  });
  return {
    model_name: answer.modelName,
    model_version: answer.modelVersion,
    id: answer.id,
    outputs,
    raw_output_contents: raw ? selected.map((t) => t.data) : [],
  };
}
