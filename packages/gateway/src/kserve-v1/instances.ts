import { ModelServerError, type InferenceInput } from '@model-server/protocol';
import type { ResponsePart } from '../scheduling/job.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const decoder = new TextDecoder();

function invalid(reason: string): ModelServerError {
  return new ModelServerError('INVALID_INPUT', { reason });
}

function base64(value: string, where: string): Uint8Array {
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) throw invalid(`${where} is not base64`);
  return Buffer.from(compact, 'base64');
}

function isB64(value: unknown): value is { b64: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { b64?: unknown }).b64 === 'string' && Object.keys(value).length === 1;
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

/**
 * One KServe v1 instance as the named inputs a handler reads, following TorchServe's KServe envelope,
 * where each instance is a row of named fields:
 *
 * - `{"b64": "..."}` is binary (TF Serving's form): the input `data`, decoded;
 * - an object's fields become inputs by name: `{"b64": ...}` values are binary, a string `data` is
 *   base64 (TorchServe's `{"data": "<base64 image>"}`), other strings are text, anything else JSON;
 * - any other instance (a number, a list) is the input `data` as JSON.
 */
export function instanceInputs(instance: unknown, index: number): InferenceInput[] {
  const where = `instances[${index}]`;
  if (isB64(instance)) return [{ name: 'data', contentType: 'application/octet-stream', data: base64(instance.b64, `${where}.b64`) }];
  if (typeof instance !== 'object' || instance === null || Array.isArray(instance)) {
    return [{ name: 'data', contentType: 'application/json', data: json(instance) }];
  }
  const inputs = Object.entries(instance).map(([name, value]): InferenceInput => {
    if (isB64(value)) return { name, contentType: 'application/octet-stream', data: base64(value.b64, `${where}.${name}.b64`) };
    if (name === 'data' && typeof value === 'string') return { name, contentType: 'application/octet-stream', data: base64(value, `${where}.data`) };
    if (typeof value === 'string') return { name, contentType: 'text/plain; charset=utf-8', data: Buffer.from(value) };
    return { name, contentType: 'application/json', data: json(value) };
  });
  if (inputs.length === 0) throw invalid(`${where} is an empty object`);
  return inputs;
}

/** A handler's answer for one instance as a JSON value: JSON as is, text as a string, bytes as `{"b64"}`. */
export function predictionValue(part: ResponsePart): unknown {
  const type = part.contentType ?? '';
  if (/json/i.test(type)) {
    try {
      return JSON.parse(decoder.decode(part.body));
    } catch {
      return decoder.decode(part.body);
    }
  }
  if (/^text\//i.test(type)) return decoder.decode(part.body);
  return { b64: Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength).toString('base64') };
}
