import { elementCount, parseTensorContentType, splitBytesElements, type TensorDatatype } from '@model-server/protocol/wire';
import type { RequestInput } from './request.js';

/** A tensor's elements as JavaScript holds them: a typed array, or one Uint8Array per BYTES element. */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[];

/** One tensor input of an Open Inference Protocol request (`POST /v2/models/{m}/infer`), decoded. */
export interface RequestTensor {
  readonly name: string;
  readonly datatype: TensorDatatype;
  readonly shape: readonly number[];
  /**
   * The elements, row-major: BOOL and UINT8 as Uint8Array, FP16 as Uint16Array (IEEE half bits), the
   * 64-bit types as BigInt arrays, BYTES as one Uint8Array per element (UTF-8 text, or any bytes).
   */
  readonly data: TensorData;
}

type Ctor = { new (buffer: ArrayBuffer, offset?: number, length?: number): Exclude<TensorData, Uint8Array[]>; BYTES_PER_ELEMENT: number };

const ARRAYS: Readonly<Record<Exclude<TensorDatatype, 'BYTES'>, Ctor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/**
 * An input as a tensor, or undefined when it is not one (a raw body, a multipart field). The bytes are
 * copied into a fresh typed array: wire data may start at any offset, typed arrays need alignment.
 */
export function decodeRequestTensor(input: RequestInput): RequestTensor | undefined {
  const header = parseTensorContentType(input.contentType);
  if (!header) return undefined;
  const count = elementCount(header.shape);
  if (header.datatype === 'BYTES') return { name: input.name, datatype: 'BYTES', shape: header.shape, data: splitBytesElements(input.data, count) };
  const ctor = ARRAYS[header.datatype];
  const copy = new ArrayBuffer(count * ctor.BYTES_PER_ELEMENT);
  new Uint8Array(copy).set(input.data.subarray(0, copy.byteLength));
  return { name: input.name, datatype: header.datatype, shape: header.shape, data: new ctor(copy) };
}

/** The first element of a BYTES tensor input, which handlers read as the request's payload. */
export function firstBytesElement(input: RequestInput): Uint8Array | undefined {
  if (!/^\s*application\/x-tensor\s*;/i.test(input.contentType)) return undefined;
  const header = parseTensorContentType(input.contentType);
  if (header?.datatype !== 'BYTES') return undefined;
  return splitBytesElements(input.data)[0];
}
