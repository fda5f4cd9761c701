// Builds ONNX ModelProto bytes from plain JS descriptions, so the example
// models can be generated from source instead of committing opaque binaries
// produced by a Python toolchain we do not want as a dependency.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS; its named exports are not statically detectable.
const { onnx } = onnxProto;

/** TensorProto.DataType enum, e.g. DataType.FLOAT === 1. */
export const DataType = onnx.TensorProto.DataType;

// Opset 13: old enough for any ONNX runtime in use, new enough that every op we
// emit (MatMul, Add, Relu, Identity over all tensor types) has its current
// semantics. IR 8 is what the ONNX releases of that era wrote; onnxruntime-node
// 1.30 loads it (newer runtimes keep reading older IR versions).
export const DEFAULT_OPSET = 13;
export const DEFAULT_IR_VERSION = 8;

/** @param {number | string} type */
function resolveElemType(type) {
  const value = typeof type === 'string' ? DataType[/** @type {keyof typeof DataType} */ (type.toUpperCase())] : type;
  if (typeof value !== 'number' || DataType[value] === undefined) {
    throw new TypeError(`unknown ONNX element type: ${String(type)}`);
  }
  return value;
}

/**
 * A graph input/output declaration.
 * Shape entries: a number is a fixed dim, a string is a symbolic dim ('N'),
 * null is an anonymous unknown dim. Omit `shape` for unknown rank.
 * @param {string} name
 * @param {number | string} elemType DataType value or name ('FLOAT', 'INT64', ...)
 * @param {ReadonlyArray<number | string | null>} [shape]
 */
export function valueInfo(name, elemType, shape) {
  /** @type {Record<string, unknown>} */
  const tensorType = { elemType: resolveElemType(elemType) };
  if (shape !== undefined) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return onnx.ValueInfoProto.create({ name, type: { tensorType } });
}

// Default element type per typed array class (instanceof, so Buffer counts as
// Uint8Array). Uint8Array defaults to UINT8 and Uint16Array to UINT16; pass an
// explicit elemType for BOOL (one byte per value) or FLOAT16 (raw half bits).
const TYPED_ARRAY_ELEM_TYPES = [
  [Float32Array, DataType.FLOAT],
  [Float64Array, DataType.DOUBLE],
  [Int8Array, DataType.INT8],
  [Int16Array, DataType.INT16],
  [Int32Array, DataType.INT32],
  [BigInt64Array, DataType.INT64],
  [Uint8Array, DataType.UINT8],
  [Uint16Array, DataType.UINT16],
  [Uint32Array, DataType.UINT32],
  [BigUint64Array, DataType.UINT64],
];

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * ONNX raw_data is defined as little-endian; typed arrays use host order.
 * Copying also detaches the proto from the caller's (possibly larger) buffer.
 * @param {ArrayBufferView} view
 * @param {number} bytesPerElement
 */
function littleEndianBytes(view, bytesPerElement) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  if (!HOST_IS_LITTLE_ENDIAN && bytesPerElement > 1) {
    for (let i = 0; i < bytes.length; i += bytesPerElement) {
      bytes.subarray(i, i + bytesPerElement).reverse();
    }
  }
  return bytes;
}

/**
 * An initializer (constant tensor) stored as raw_data.
 * @param {string} name
 * @param {ArrayBufferView & { length: number, BYTES_PER_ELEMENT: number }} data typed array, row-major
 * @param {ReadonlyArray<number>} dims
 * @param {number | string} [elemType] defaults from the typed array class
 */
export function tensor(name, data, dims, elemType) {
  const type = elemType === undefined
    ? TYPED_ARRAY_ELEM_TYPES.find(([ctor]) => data instanceof ctor)?.[1]
    : resolveElemType(elemType);
  if (type === undefined) {
    throw new TypeError(`no default ONNX type for ${data.constructor.name}; pass elemType`);
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== data.length) {
    throw new RangeError(`tensor ${name}: dims [${dims}] need ${expected} values, got ${data.length}`);
  }
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: type,
    rawData: littleEndianBytes(data, data.BYTES_PER_ELEMENT),
  });
}

const utf8 = new TextEncoder();

/**
 * JS numbers cannot tell 1 from 1.0, so integral numbers become INT(S).
 * Pass { type: 'FLOAT', value: 1 } (or 'FLOATS', 'INT', ...) to force a type.
 * @param {string} name
 * @param {unknown} value
 */
function attribute(name, value) {
  const A = onnx.AttributeProto.AttributeType;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'type' in value && 'value' in value) {
    const { type, value: v } = /** @type {{ type: string, value: any }} */ (value);
    switch (type) {
      case 'FLOAT': return { name, type: A.FLOAT, f: v };
      case 'INT': return { name, type: A.INT, i: v };
      case 'STRING': return { name, type: A.STRING, s: utf8.encode(v) };
      case 'FLOATS': return { name, type: A.FLOATS, floats: v };
      case 'INTS': return { name, type: A.INTS, ints: v };
      case 'STRINGS': return { name, type: A.STRINGS, strings: v.map((/** @type {string} */ s) => utf8.encode(s)) };
      case 'TENSOR': return { name, type: A.TENSOR, t: v };
      default: throw new TypeError(`attribute ${name}: unsupported explicit type ${type}`);
    }
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: A.INT, i: value } : { name, type: A.FLOAT, f: value };
  }
  if (typeof value === 'bigint') {
    // protobufjs takes number|Long for int64; bigint only fits when it is a safe number.
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`attribute ${name}: ${value} exceeds the safe integer range`);
    }
    return { name, type: A.INT, i: Number(value) };
  }
  if (typeof value === 'string') return { name, type: A.STRING, s: utf8.encode(value) };
  if (value instanceof onnx.TensorProto) return { name, type: A.TENSOR, t: value };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return { name, type: A.STRINGS, strings: value.map((s) => utf8.encode(s)) };
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) {
    return value.every(Number.isInteger)
      ? { name, type: A.INTS, ints: value }
      : { name, type: A.FLOATS, floats: value };
  }
  throw new TypeError(`attribute ${name}: cannot infer type of ${String(value)}`);
}

/**
 * A graph node. Use '' in `inputs` for an omitted optional input.
 * @param {string} opType e.g. 'MatMul'
 * @param {ReadonlyArray<string>} inputs
 * @param {ReadonlyArray<string>} outputs
 * @param {Record<string, unknown>} [attributes]
 * @param {{ name?: string, domain?: string }} [options]
 */
export function node(opType, inputs, outputs, attributes = {}, options = {}) {
  return onnx.NodeProto.create({
    opType,
    // Stable, readable node names help when reading onnxruntime error messages.
    name: options.name ?? `${opType}_${outputs[0]}`,
    domain: options.domain ?? '',
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
  });
}

/**
 * Serializes a single-graph model.
 * @param {{
 *   name: string,
 *   inputs: ReturnType<typeof valueInfo>[],
 *   outputs: ReturnType<typeof valueInfo>[],
 *   nodes: ReturnType<typeof node>[],
 *   initializers?: ReturnType<typeof tensor>[],
 *   docString?: string,
 *   opset?: number,
 *   irVersion?: number,
 *   producerName?: string,
 * }} spec
 * @returns {Uint8Array} ModelProto bytes
 */
export function buildModel(spec) {
  const model = onnx.ModelProto.create({
    irVersion: spec.irVersion ?? DEFAULT_IR_VERSION,
    opsetImport: [{ domain: '', version: spec.opset ?? DEFAULT_OPSET }],
    producerName: spec.producerName ?? 'model-server/scripts',
    docString: spec.docString ?? '',
    graph: {
      name: spec.name,
      node: spec.nodes,
      initializer: spec.initializers ?? [],
      input: spec.inputs,
      output: spec.outputs,
    },
  });
  // verify() catches wrong field shapes that encode() would silently drop.
  const problem = onnx.ModelProto.verify(model);
  if (problem) throw new Error(`invalid ModelProto: ${problem}`);
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Writes model bytes, creating parent directories as needed.
 * @param {string} path
 * @param {Uint8Array} bytes
 */
export async function writeModel(path, bytes) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}
