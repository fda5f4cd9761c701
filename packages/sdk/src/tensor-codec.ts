import {
  TENSOR_OUTPUTS_HEADER,
  checkTensorData,
  elementCount,
  joinBytesElements,
  parseTensorContentType,
  splitBytesElements,
  type TensorDatatype,
  type WireTensor,
} from '@model-server/protocol/wire';
import { Tensor } from 'onnxruntime-node';
import { PredictionError } from './errors.js';
import type { HandlerRequest, RequestInput } from './request.js';

/** ONNX Runtime's tensor type for each Open Inference Protocol datatype. */
export const ORT_TYPE_BY_DATATYPE: Readonly<Record<TensorDatatype, Tensor.Type>> = Object.freeze({
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  // onnxruntime-node holds float16 as raw IEEE half bits in a Uint16Array, which is the wire layout.
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
});

const DATATYPE_BY_ORT_TYPE: ReadonlyMap<string, TensorDatatype> = new Map(
  Object.entries(ORT_TYPE_BY_DATATYPE).map(([datatype, type]) => [type, datatype as TensorDatatype]),
);

/** The Open Inference Protocol datatype of an ONNX Runtime tensor type, or undefined when it has none. */
export function datatypeOf(ortType: string): TensorDatatype | undefined {
  return DATATYPE_BY_ORT_TYPE.get(ortType);
}

type TypedArrayCtor = new (length: number) => Exclude<Tensor.DataType, string[]>;

const ARRAY_BY_DATATYPE: Readonly<Record<Exclude<TensorDatatype, 'BYTES'>, TypedArrayCtor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const utf8 = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/**
 * Raw little-endian tensor bytes to an ONNX Runtime tensor. The bytes are copied into a fresh typed
 * array: wire data may start at any offset, while typed arrays need aligned memory. BYTES elements
 * become UTF-8 strings (ONNX string tensors hold text; bytes that are not UTF-8 are replaced).
 */
export function toOrtTensor(datatype: TensorDatatype, shape: readonly number[], data: Uint8Array): Tensor {
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    return new Tensor('string', splitBytesElements(data, count).map((e) => utf8.decode(e)), [...shape]);
  }
  const array = new ARRAY_BY_DATATYPE[datatype](count);
  new Uint8Array(array.buffer, 0, array.byteLength).set(data.subarray(0, array.byteLength));
  return new Tensor(ORT_TYPE_BY_DATATYPE[datatype], array as never, [...shape]);
}

/** An ONNX Runtime tensor as a named wire tensor (a view on its memory, not a copy, for numeric types). */
export function fromOrtTensor(name: string, tensor: Tensor): WireTensor {
  const datatype = datatypeOf(tensor.type);
  if (!datatype) throw new PredictionError(`output '${name}' has type ${tensor.type}, which has no Open Inference Protocol datatype`, 500);
  const shape = tensor.dims.map(Number);
  if (datatype === 'BYTES') {
    return { name, datatype, shape, data: joinBytesElements((tensor.data as string[]).map((s) => encoder.encode(s))) };
  }
  const array = tensor.data as Exclude<Tensor.DataType, string[]>;
  return { name, datatype, shape, data: new Uint8Array(array.buffer, array.byteOffset, array.byteLength) };
}

/** Whether an input carries a tensor (content type `application/x-tensor; datatype=..; shape=..`). */
export function isTensorInput(input: RequestInput): boolean {
  return /^\s*application\/x-tensor\s*(;|$)/i.test(input.contentType);
}

/** Whether every input of a request is a tensor (a `/v2/.../infer` request, or a raw tensor post). */
export function isTensorRequest(request: HandlerRequest): boolean {
  return request.inputs.length > 0 && request.inputs.every(isTensorInput);
}

/** A tensor request's inputs as ONNX Runtime tensors by name; PredictionError 400 when one is malformed. */
export function tensorFeeds(request: HandlerRequest): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of request.inputs) {
    let header;
    try {
      header = parseTensorContentType(input.contentType);
      if (!header) throw new Error(`input '${input.name}' is not a tensor (content type ${input.contentType})`);
      checkTensorData(input.name, header, input.data);
    } catch (err) {
      throw new PredictionError((err as Error).message, 400);
    }
    if (Object.hasOwn(feeds, input.name)) throw new PredictionError(`input '${input.name}' is given more than once`, 400);
    feeds[input.name] = toOrtTensor(header.datatype, header.shape, input.data);
  }
  return feeds;
}

/** The output names a request asked for (header `x-tensor-outputs`), or undefined for all of them. */
export function requestedOutputs(request: HandlerRequest): string[] | undefined {
  const raw = request.header(TENSOR_OUTPUTS_HEADER);
  if (raw === undefined) return undefined;
  let names: unknown;
  try {
    names = JSON.parse(raw);
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new PredictionError(`header ${TENSOR_OUTPUTS_HEADER} must be a JSON array of output names`, 400);
  }
  return names;
}
