import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { ModelServerError } from '@model-server/protocol';
import { asModelServerError } from '../http/send-error.js';
import type { RpcStatus } from './messages.js';

/** Trailing metadata key carrying the catalog code (REST bodies carry it as `errorCode`). */
export const ERROR_CODE_KEY = 'x-error-code';

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const ERROR_DOMAIN = 'model-server';
const encoder = new TextEncoder();

/** The gRPC status a call ends with for an error from anywhere: the catalog's code and message. */
export function grpcStatusOf(err: unknown): Partial<StatusObject> {
  const e = asModelServerError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  return { code: e.grpcStatus, details: e.message, metadata };
}

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

function field(tag: number, value: Uint8Array, out: number[]): void {
  out.push(tag);
  varint(value.byteLength, out);
  for (const b of value) out.push(b);
}

/**
 * google.rpc.ErrorInfo{reason, domain, metadata{errorCode}} as bytes, for the `Any` in an in-band status.
 * Encoded here because an `Any` holds its message already serialized and proto-loader exposes no
 * message encoders; the layout is fixed and small (three length-delimited fields).
 */
function errorInfo(e: ModelServerError): Uint8Array {
  const out: number[] = [];
  field(0x0a, encoder.encode(e.type), out);
  field(0x12, encoder.encode(ERROR_DOMAIN), out);
  const entry: number[] = [];
  field(0x0a, encoder.encode('errorCode'), entry);
  field(0x12, encoder.encode(e.code), entry);
  field(0x1a, Uint8Array.from(entry), out);
  return Uint8Array.from(out);
}

/**
 * An error as TorchServe's in-band google.rpc.Status (StreamPredictions2): the gRPC code, the message,
 * and one ErrorInfo whose reason is TorchServe's exception type and whose metadata has the catalog code.
 */
export function inBandStatus(err: unknown): RpcStatus {
  const e = asModelServerError(err);
  return { code: e.grpcStatus, message: e.message, details: [{ type_url: ERROR_INFO_TYPE, value: errorInfo(e) }] };
}
