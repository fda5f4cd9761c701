import { ModelServerError } from './errors.js';

/**
 * Small hand-written checks for wire values, for the modules a worker loads: zod adds about 10 MB to
 * every process that imports it, and a worker needs none of its power. Each check returns the value
 * or throws MESSAGE_INVALID naming the field (`requests.0.inputs.1.data: expected bytes`).
 */
export type Obj = Record<string, unknown>;

/**
 * A plain data object: what msgpack decoding makes of a map. Arrays, bytes, dates (msgpack's timestamp
 * extension decodes to one) and class instances are not, as they are not for the zod schemas.
 */
export function isObj(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function invalidAt(path: string, message: string): ModelServerError {
  return new ModelServerError('MESSAGE_INVALID', { reason: path === '' ? message : `${path}: ${message}` });
}

/** A plain object of strings, for the guards that build no field paths. */
export function isStringRecord(v: unknown): v is Record<string, string> {
  if (!isObj(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

/** A safe integer, for the guards that build no field paths. */
export function isInt(v: unknown): v is number {
  return Number.isSafeInteger(v);
}

/** A plain data object (as msgpack decoding makes them). */
export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw invalidAt(path, 'expected object');
  return v;
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalidAt(path, 'expected string');
  return v;
}

export function int(v: unknown, path: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v)) throw invalidAt(path, 'expected integer');
  if ((v as number) < min) throw invalidAt(path, `expected integer >= ${min}`);
  return v as number;
}

export function bytes(v: unknown, path: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalidAt(path, 'expected bytes');
  return v;
}

export function arr(v: unknown, path: string, minLength = 0): unknown[] {
  if (!Array.isArray(v)) throw invalidAt(path, 'expected array');
  if (v.length < minLength) throw invalidAt(path, `expected at least ${minLength} item(s)`);
  return v;
}

/** A plain object of strings, returned as is (msgpack decoding made it, nobody else holds it). */
export function stringRecord(v: unknown, path: string): Record<string, string> {
  const o = obj(v, path);
  for (const k in o) if (typeof o[k] !== 'string') throw invalidAt(`${path}.${k}`, 'expected string');
  return o as Record<string, string>;
}
