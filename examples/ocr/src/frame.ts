import { PredictionError } from '@model-server/sdk';

/**
 * How one node's output travels to the next as a request body, without base64:
 *
 *     "OCR1" (4 bytes) | header length n (u32, big-endian) | header (n bytes of UTF-8 JSON) | payload
 *
 * The header describes the payload (image sizes, boxes); the payload is raw bytes.
 */
export const FRAME_MAGIC = 'OCR1';
const PREFIX_BYTES = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const MAGIC_BYTES = encoder.encode(FRAME_MAGIC);

export interface Frame<H> {
  readonly header: H;
  readonly payload: Uint8Array;
}

/** Packs a header and payload parts into one frame (the parts are concatenated in order). */
export function encodeFrame(header: unknown, payload: readonly Uint8Array[]): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const total = PREFIX_BYTES + json.length + payload.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  out.set(MAGIC_BYTES, 0);
  new DataView(out.buffer).setUint32(4, json.length);
  out.set(json, PREFIX_BYTES);
  let at = PREFIX_BYTES + json.length;
  for (const part of payload) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Splits a frame into its parsed header and its payload (a view, no copy). Anything else is refused
 * with a 400 saying what was expected, so a node fed the wrong bytes says so.
 */
export function decodeFrame(bytes: Uint8Array, what: string): Frame<unknown> {
  const refuse = (why: string): never => {
    throw new PredictionError(`Input is not ${what} (${why})`, 400);
  };
  if (bytes.length < PREFIX_BYTES || MAGIC_BYTES.some((b, i) => bytes[i] !== b)) refuse(`no ${FRAME_MAGIC} frame`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4);
  if (PREFIX_BYTES + length > bytes.length) refuse(`header of ${length} bytes overruns a ${bytes.length}-byte frame`);
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + length)));
  } catch (err) {
    refuse(`header is not JSON: ${(err as Error).message}`);
  }
  return { header, payload: bytes.subarray(PREFIX_BYTES + length) };
}
