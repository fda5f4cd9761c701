// Types for onnx-builder.mjs, so strict TypeScript code can build test models.

import type { onnx } from 'onnx-proto';

export declare const DataType: typeof onnx.TensorProto.DataType;
export declare const DEFAULT_OPSET: 13;
export declare const DEFAULT_IR_VERSION: 8;

/** A DataType value, or its name ('FLOAT', 'INT64', 'STRING', ...; case-insensitive). */
export type ElemType = onnx.TensorProto.DataType | keyof typeof onnx.TensorProto.DataType | Lowercase<keyof typeof onnx.TensorProto.DataType>;

/** number = fixed size, string = symbolic ('N'), null = anonymous unknown. */
export type Dim = number | string | null;

export type NumericTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/**
 * Integral numbers infer INT(S), others FLOAT(S); use the explicit form to
 * force a type (e.g. { type: 'FLOAT', value: 1 } for Gemm's alpha).
 */
export type AttributeValue =
  | number
  | bigint
  | string
  | readonly number[]
  | readonly string[]
  | onnx.TensorProto
  | { type: 'FLOAT' | 'INT'; value: number }
  | { type: 'STRING'; value: string }
  | { type: 'FLOATS' | 'INTS'; value: readonly number[] }
  | { type: 'STRINGS'; value: readonly string[] }
  | { type: 'TENSOR'; value: onnx.TensorProto };

export declare function valueInfo(name: string, elemType: ElemType, shape?: readonly Dim[]): onnx.ValueInfoProto;

/** Initializer stored as little-endian raw_data; elemType defaults from the typed array class. */
export declare function tensor(
  name: string,
  data: NumericTypedArray,
  dims: readonly number[],
  elemType?: ElemType,
): onnx.TensorProto;

export declare function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes?: Record<string, AttributeValue>,
  options?: { name?: string; domain?: string },
): onnx.NodeProto;

export interface ModelSpec {
  name: string;
  inputs: onnx.ValueInfoProto[];
  outputs: onnx.ValueInfoProto[];
  nodes: onnx.NodeProto[];
  initializers?: onnx.TensorProto[];
  docString?: string;
  /** Default DEFAULT_OPSET. */
  opset?: number;
  /** Default DEFAULT_IR_VERSION. */
  irVersion?: number;
  producerName?: string;
}

/** Serialized ModelProto bytes. */
export declare function buildModel(spec: ModelSpec): Uint8Array;

/** Writes bytes to path, creating parent directories. */
export declare function writeModel(path: string, bytes: Uint8Array): Promise<void>;
