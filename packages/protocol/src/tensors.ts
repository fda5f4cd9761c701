import { decodeBody, encodeBody } from './codec.js';
import { ModelServerError } from './errors.js';
import { arr, bytes, int, invalidAt, obj, str } from './shape-checks.js';

/**
 * Tensors between the gateway and the worker. They always travel as raw little-endian bytes, never as
 * JSON numbers or base64:
 *
 * - a request input is one named input whose content type is `application/x-tensor; datatype=FP32;
 *   shape=1,784` and whose data is the tensor's bytes (row-major, no padding);
 * - a handler's tensor result for one request is a msgpack "bundle" of named tensors
 *   (content type {@link TENSOR_BUNDLE_CONTENT_TYPE}).
 *
 * Byte layout per datatype is the one of Triton's binary tensor extension: BOOL is one byte (0/1),
 * FP16 is IEEE half bits, and each BYTES element is a u32 little-endian length followed by its bytes.
 */

/** The Open Inference Protocol datatypes and their element sizes in bytes (BYTES is variable: 0). */
export const TENSOR_DATATYPES = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
} as const;

export type TensorDatatype = keyof typeof TENSOR_DATATYPES;

export function isTensorDatatype(value: string): value is TensorDatatype {
  return Object.hasOwn(TENSOR_DATATYPES, value);
}

/** Content type of one tensor input; parameters `datatype` and `shape` (comma-separated, may be empty). */
export const TENSOR_CONTENT_TYPE = 'application/x-tensor';

/** Content type of a handler result that is a set of named tensors (see {@link encodeTensorBundle}). */
export const TENSOR_BUNDLE_CONTENT_TYPE = 'application/x-tensor-bundle+msgpack';

/** Request header naming the outputs a client asked for, as a JSON array of names (absent = all). */
export const TENSOR_OUTPUTS_HEADER = 'x-tensor-outputs';

/** A tensor's type and shape, as carried by a tensor input's content type. */
export interface TensorHeader {
  datatype: TensorDatatype;
  shape: number[];
}

/** A named tensor as raw little-endian bytes. */
export interface WireTensor extends TensorHeader {
  name: string;
  data: Uint8Array;
}

/** Number of elements of a tensor of this shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatTensorContentType(header: TensorHeader): string {
  return `${TENSOR_CONTENT_TYPE}; datatype=${header.datatype}; shape=${header.shape.join(',')}`;
}

function invalid(reason: string): ModelServerError {
  return new ModelServerError('INVALID_INPUT', { reason });
}

/**
 * Reads a tensor input's content type. Returns undefined for any other content type; throws
 * INVALID_INPUT when it is a tensor content type with a bad datatype or shape.
 */
export function parseTensorContentType(contentType: string): TensorHeader | undefined {
  const [essence, ...params] = contentType.split(';');
  if (essence!.trim().toLowerCase() !== TENSOR_CONTENT_TYPE) return undefined;
  let datatype: string | undefined;
  let shapeText: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const key = param.slice(0, eq).trim().toLowerCase();
    const value = param.slice(eq + 1).trim();
    if (key === 'datatype') datatype = value.toUpperCase();
    else if (key === 'shape') shapeText = value;
  }
  if (datatype === undefined || !isTensorDatatype(datatype)) throw invalid(`tensor content type has an unknown datatype: ${contentType}`);
  if (shapeText === undefined) throw invalid(`tensor content type has no shape: ${contentType}`);
  const shape = shapeText === '' ? [] : shapeText.split(',').map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw invalid(`tensor content type has a bad shape: ${contentType}`);
  return { datatype, shape };
}

/** Splits serialized BYTES data into its elements (views, no copy); throws INVALID_INPUT when malformed. */
export function splitBytesElements(data: Uint8Array, expected?: number): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < data.byteLength) {
    if (at + 4 > data.byteLength) throw invalid('BYTES data ends inside an element length');
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > data.byteLength) throw invalid('BYTES element runs past the end of its data');
    out.push(data.subarray(at, at + length));
    at += length;
  }
  if (expected !== undefined && out.length !== expected) {
    throw invalid(`BYTES data holds ${out.length} elements where the shape needs ${expected}`);
  }
  return out;
}

/** Serializes BYTES elements: for each, a u32 little-endian length, then its bytes. */
export function joinBytesElements(elements: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of elements) total += 4 + e.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of elements) {
    view.setUint32(at, e.byteLength, true);
    out.set(e, at + 4);
    at += 4 + e.byteLength;
  }
  return out;
}

/**
 * Checks that `data` holds exactly the elements `shape` calls for; throws INVALID_INPUT naming the
 * tensor otherwise.
 */
export function checkTensorData(name: string, header: TensorHeader, data: Uint8Array): void {
  const count = elementCount(header.shape);
  const size = TENSOR_DATATYPES[header.datatype];
  if (size === 0) {
    try {
      splitBytesElements(data, count);
    } catch (err) {
      throw invalid(`input '${name}': ${(err as ModelServerError).message.replace(/^Invalid input: /, '')}`);
    }
    return;
  }
  if (data.byteLength !== count * size) {
    throw invalid(
      `input '${name}' has ${data.byteLength} bytes of data but shape [${header.shape.join(',')}] of ${header.datatype} needs ${count * size}`,
    );
  }
}

/** Encodes named tensors as one msgpack value; the data travels as msgpack `bin`. */
export function encodeTensorBundle(tensors: readonly WireTensor[]): Uint8Array {
  return encodeBody({ tensors: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })) });
}

/** Decodes and validates a tensor bundle (MESSAGE_INVALID naming the field when it is not one). */
export function decodeTensorBundle(bytesIn: Uint8Array): WireTensor[] {
  const root = obj(decodeBody(bytesIn), 'tensor bundle');
  return arr(root.tensors, 'tensor bundle tensors').map((raw, i): WireTensor => {
    const at = `tensor bundle tensors.${i}`;
    const t = obj(raw, at);
    const datatype = str(t.datatype, `${at}.datatype`);
    if (!isTensorDatatype(datatype)) throw invalidAt(`${at}.datatype`, 'unknown datatype');
    return {
      name: str(t.name, `${at}.name`),
      datatype,
      shape: arr(t.shape, `${at}.shape`).map((d, j) => int(d, `${at}.shape.${j}`, 0)),
      data: bytes(t.data, `${at}.data`),
    };
  });
}
