import { Float16Array } from '@petamoriken/float16';
import { MAX_JSON_DEPTH } from '../http/json-depth.js';
import { ModelServerError, elementCount, joinBytesElements, splitBytesElements, type TensorDatatype } from '@model-server/protocol';

/**
 * The JSON form of tensor data (`"data": [...]`, flat or nested, row-major) to and from the raw
 * little-endian bytes that travel to the worker. Typed arrays are used for speed; they have the
 * host's byte order, which is little-endian on every platform Node and ONNX Runtime ship for.
 *
 * 64-bit integers accept JSON numbers (exact up to 2^53) and decimal strings (exact always), and are
 * written back as exact JSON integers. FP16 has no JSON form of its own: numbers are rounded to half.
 */

type IntArrayCtor = Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;

const INT_TYPES: Partial<Record<TensorDatatype, { ctor: IntArrayCtor; min: number; max: number }>> = {
  UINT8: { ctor: Uint8Array, min: 0, max: 0xff },
  UINT16: { ctor: Uint16Array, min: 0, max: 0xffff },
  UINT32: { ctor: Uint32Array, min: 0, max: 0xffffffff },
  INT8: { ctor: Int8Array, min: -0x80, max: 0x7f },
  INT16: { ctor: Int16Array, min: -0x8000, max: 0x7fff },
  INT32: { ctor: Int32Array, min: -0x80000000, max: 0x7fffffff },
};

const BIGINT_RANGE = {
  INT64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  UINT64: { min: 0n, max: 2n ** 64n - 1n },
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bad(name: string, reason: string): ModelServerError {
  return new ModelServerError('INVALID_INPUT', { reason: `input '${name}': ${reason}` });
}

/**
 * Flattens nested arrays depth-first (row-major), as the protocol allows `[[1,2],[3,4]]` for
 * `[1,2,3,4]`. Iterative with a depth bound, so a hostile nesting is a 400, never a stack overflow.
 */
export function flatten(data: unknown, name: string): unknown[] {
  if (!Array.isArray(data)) throw bad(name, '"data" must be an array');
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: { items: unknown[]; at: number }[] = [{ items: data, at: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.at === top.items.length) {
      stack.pop();
      continue;
    }
    const v = top.items[top.at++];
    if (!Array.isArray(v)) out.push(v);
    else if (stack.length >= MAX_JSON_DEPTH) throw bad(name, `"data" nests deeper than ${MAX_JSON_DEPTH} levels`);
    else stack.push({ items: v, at: 0 });
  }
  return out;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function toBigInt(v: unknown, name: string, i: number): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  throw bad(name, `element ${i} (${JSON.stringify(v)}) is not an integer (64-bit values beyond 2^53 go as decimal strings)`);
}

/** JSON `data` of one input to raw bytes; INVALID_INPUT naming the input and element on any mismatch. */
export function jsonToTensorBytes(name: string, datatype: TensorDatatype, shape: readonly number[], data: unknown): Uint8Array {
  const values = flatten(data, name);
  const count = elementCount(shape);
  if (values.length !== count) {
    throw bad(name, `shape [${shape.join(',')}] needs ${count} elements, "data" has ${values.length}`);
  }
  const ints = INT_TYPES[datatype];
  if (ints) {
    const out = new ints.ctor(count);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < ints.min || v > ints.max) {
        throw bad(name, `element ${i} (${JSON.stringify(v)}) is not a ${datatype} value`);
      }
      out[i] = v;
    });
    return bytesOf(out);
  }
  switch (datatype) {
    case 'BOOL': {
      const out = new Uint8Array(count);
      values.forEach((v, i) => {
        if (typeof v === 'boolean') out[i] = v ? 1 : 0;
        else if (v === 0 || v === 1) out[i] = v;
        else throw bad(name, `element ${i} (${JSON.stringify(v)}) is not a BOOL value`);
      });
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      const { min, max } = BIGINT_RANGE[datatype];
      values.forEach((v, i) => {
        const n = toBigInt(v, name, i);
        if (n < min || n > max) throw bad(name, `element ${i} (${String(v)}) is out of range for ${datatype}`);
        out[i] = n;
      });
      return bytesOf(out);
    }
    case 'FP16':
    case 'FP32':
    case 'FP64': {
      values.forEach((v, i) => {
        if (typeof v !== 'number') throw bad(name, `element ${i} (${JSON.stringify(v)}) is not a number`);
      });
      const nums = values as number[];
      if (datatype === 'FP16') return bytesOf(new Float16Array(nums) as unknown as Uint16Array);
      return bytesOf(datatype === 'FP32' ? Float32Array.from(nums) : Float64Array.from(nums));
    }
    case 'BYTES': {
      // Strings from JSON; bytes from gRPC's typed bytes_contents.
      const elements = values.map((v, i) => {
        if (v instanceof Uint8Array) return v;
        if (typeof v !== 'string') throw bad(name, `element ${i} (${JSON.stringify(v)}) is not a string`);
        return encoder.encode(v);
      });
      return joinBytesElements(elements);
    }
    default:
      throw bad(name, `datatype ${datatype} is not supported`);
  }
}

/** A typed array over `data`, copying only when `data` is not aligned for the element size. */
function aligned<T>(data: Uint8Array, ctor: { new (buffer: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T {
  const size = ctor.BYTES_PER_ELEMENT;
  // new Uint8Array(view) copies; Buffer#slice would not (it returns a view at the same offset).
  const source = data.byteOffset % size === 0 ? data : new Uint8Array(data);
  return new ctor(source.buffer, source.byteOffset, source.byteLength / size);
}

/** The elements of raw tensor bytes, flat: numbers, booleans, bigints (64-bit integers) or byte strings (BYTES). */
export type TensorValues = number[] | boolean[] | bigint[] | Uint8Array[];

/** Raw tensor bytes to their elements, flat and row-major (JSON `data`, gRPC typed `contents`). */
export function tensorBytesToValues(datatype: TensorDatatype, data: Uint8Array): TensorValues {
  const ints = INT_TYPES[datatype];
  if (ints) return Array.from(aligned(data, ints.ctor as unknown as Uint8ArrayConstructor) as ArrayLike<number>);
  switch (datatype) {
    case 'BOOL':
      return Array.from(data, (b) => b !== 0);
    case 'INT64':
      return Array.from(aligned(data, BigInt64Array));
    case 'UINT64':
      return Array.from(aligned(data, BigUint64Array));
    case 'FP16': {
      const bits = aligned(data, Uint16Array);
      return Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
    }
    case 'FP32':
      return Array.from(aligned(data, Float32Array));
    case 'FP64':
      return Array.from(aligned(data, Float64Array));
    case 'BYTES':
      return splitBytesElements(data);
    default:
      throw new ModelServerError('INTERNAL', { message: `no element form for datatype ${datatype}` });
  }
}

/** Raw tensor bytes to the JSON text of a flat `data` array; 64-bit integers stay exact. */
export function tensorBytesToJson(datatype: TensorDatatype, data: Uint8Array): string {
  const values = tensorBytesToValues(datatype, data);
  if (datatype === 'INT64' || datatype === 'UINT64') return `[${values.join(',')}]`;
  if (datatype === 'BYTES') return JSON.stringify((values as Uint8Array[]).map((e) => decoder.decode(e)));
  return JSON.stringify(values);
}
