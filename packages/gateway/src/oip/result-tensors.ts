import { ModelServerError, TENSOR_BUNDLE_CONTENT_TYPE, decodeTensorBundle, type TensorDatatype, type WireTensor } from '@model-server/protocol';
import type { ResponsePart } from '../scheduling/job.js';
import { jsonToTensorBytes } from './tensor-json.js';

/**
 * The output name of a handler answer that is not tensors, as TorchServe's KServe v2 envelope names it
 * (`{"name": "predict", "shape": [1], "datatype": "INT64", "data": [0]}` for the mnist example).
 */
export const DEFAULT_OUTPUT_NAME = 'predict';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Shape of a rectangular nested array (a scalar: [1]); undefined when ragged. */
function shapeOf(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return [1];
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const check = (v: unknown, depth: number): boolean =>
    depth === shape.length ? !Array.isArray(v) : Array.isArray(v) && v.length === shape[depth] && v.every((x) => check(x, depth + 1));
  return check(value, 0) ? shape : undefined;
}

function leaves(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(leaves) : [value];
}

/** The datatype JSON leaves fit: BOOL, INT64, FP64 or BYTES (anything else as its JSON text). */
function datatypeOf(values: readonly unknown[]): TensorDatatype {
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'BOOL';
  if (values.length > 0 && values.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) return 'INT64';
  if (values.length > 0 && values.every((v) => typeof v === 'number' && Number.isFinite(v))) return 'FP64';
  return 'BYTES';
}

function bytesTensor(data: Uint8Array): WireTensor {
  const element = new Uint8Array(4 + data.byteLength);
  new DataView(element.buffer).setUint32(0, data.byteLength, true);
  element.set(data, 4);
  return { name: DEFAULT_OUTPUT_NAME, datatype: 'BYTES', shape: [1], data: element };
}

/** A JSON answer as one output tensor: a number `7` is INT64 [1], `[0.1, 0.9]` FP64 [2], strings BYTES. */
function jsonTensor(value: unknown): WireTensor {
  const shape = shapeOf(value);
  const flat = leaves(value);
  if (!shape) return bytesTensor(encoder.encode(JSON.stringify(value)));
  const datatype = datatypeOf(flat);
  const data = datatype === 'BYTES' ? flat.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : flat;
  return { name: DEFAULT_OUTPUT_NAME, datatype, shape, data: jsonToTensorBytes(DEFAULT_OUTPUT_NAME, datatype, shape, data) };
}

/**
 * A handler's answer to an Open Inference Protocol request as output tensors: its own tensors when it
 * answered some (SDK `tensorResponse`, every OnnxHandler), otherwise its JSON, text or bytes as one
 * output named `predict`, so a handler written for `/predictions` answers `/v2/.../infer` too.
 */
export function answerTensors(part: ResponsePart): WireTensor[] {
  const type = part.contentType ?? '';
  if (type.startsWith(TENSOR_BUNDLE_CONTENT_TYPE)) return decodeTensorBundle(part.body);
  if (/json/i.test(type)) {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(part.body));
    } catch (err) {
      throw new ModelServerError('HANDLER_ERROR', { message: `the handler answered invalid JSON: ${(err as Error).message}` });
    }
    return [jsonTensor(value)];
  }
  return [bytesTensor(part.body)];
}
