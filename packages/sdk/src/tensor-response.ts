import {
  TENSOR_BUNDLE_CONTENT_TYPE,
  TENSOR_DATATYPES,
  elementCount,
  encodeTensorBundle,
  joinBytesElements,
  type TensorDatatype,
  type WireTensor,
} from '@model-server/protocol/wire';
import type { Context } from './context.js';
import type { TensorData } from './request-tensor.js';

/** An output tensor a handler answers with: typed data, or plain values (numbers, booleans, strings). */
export interface OutputTensor {
  name: string;
  datatype: TensorDatatype;
  shape: readonly number[];
  data: TensorData | readonly number[] | readonly bigint[] | readonly boolean[] | readonly string[];
}

const encoder = new TextEncoder();

type NumericCtor = new (values: ArrayLike<number> | ArrayLike<bigint>) => ArrayBufferView;
const NUMERIC: Readonly<Record<Exclude<TensorDatatype, 'BYTES'>, NumericCtor>> = {
  BOOL: Uint8Array as NumericCtor,
  UINT8: Uint8Array as NumericCtor,
  INT8: Int8Array as NumericCtor,
  UINT16: Uint16Array as NumericCtor,
  INT16: Int16Array as NumericCtor,
  UINT32: Uint32Array as NumericCtor,
  INT32: Int32Array as NumericCtor,
  UINT64: BigUint64Array as unknown as NumericCtor,
  INT64: BigInt64Array as unknown as NumericCtor,
  FP16: Uint16Array as NumericCtor,
  FP32: Float32Array as NumericCtor,
  FP64: Float64Array as NumericCtor,
};

function toWire(t: OutputTensor): WireTensor {
  const count = elementCount(t.shape);
  if (t.data.length !== count) throw new Error(`output '${t.name}': shape [${t.shape.join(',')}] needs ${count} elements, got ${t.data.length}`);
  if (t.datatype === 'BYTES') {
    const elements = Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'string' ? encoder.encode(v) : v instanceof Uint8Array ? v : encoder.encode(String(v))));
    return { name: t.name, datatype: 'BYTES', shape: [...t.shape], data: joinBytesElements(elements) };
  }
  let view: ArrayBufferView;
  if (ArrayBuffer.isView(t.data)) view = t.data;
  else {
    const values = Array.from(t.data as ArrayLike<unknown>, (v) => (typeof v === 'boolean' ? Number(v) : v));
    const big = t.datatype === 'INT64' || t.datatype === 'UINT64';
    view = new NUMERIC[t.datatype]((big ? values.map((v) => BigInt(v as number | bigint)) : values) as ArrayLike<number>);
  }
  if (view.byteLength !== count * TENSOR_DATATYPES[t.datatype]) {
    throw new Error(`output '${t.name}': ${view.byteLength} bytes of data do not hold ${count} ${t.datatype} elements`);
  }
  return { name: t.name, datatype: t.datatype, shape: [...t.shape], data: new Uint8Array(view.buffer, view.byteOffset, view.byteLength) };
}

/**
 * The answer for request `idx` as output tensors, for a handler of its own answering an Open Inference
 * Protocol request (`/v2/models/{m}/infer` returns them as its `outputs`). Sets the request's content
 * type; return the value as that request's result.
 *
 *     return data.map((r, i) => tensorResponse(context, i, [{ name: 'digit', datatype: 'INT64', shape: [1], data: [7] }]));
 */
export function tensorResponse(context: Context, idx: number, outputs: readonly OutputTensor[]): Uint8Array {
  context.setResponseContentType(idx, TENSOR_BUNDLE_CONTENT_TYPE);
  return encodeTensorBundle(outputs.map(toWire));
}
