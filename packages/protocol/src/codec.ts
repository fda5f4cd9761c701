import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { ModelServerError } from './errors.js';
import { FRAME_HEADER_BYTES } from './frame.js';

// Plain maps (no record extension) keep frames readable by any msgpack implementation, which makes
// a worker in another language possible later. Binary payloads travel as msgpack `bin`, never base64.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

export function encodeBody(message: unknown): Uint8Array {
  return packr.pack(message);
}

/**
 * Encodes a message and frames it in one step: msgpack is written after room left for the length
 * prefix, so the frame is never copied.
 */
export function encodeMessage(message: unknown): Uint8Array {
  const frame = packr.pack(message, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
  new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES).setUint32(0, frame.byteLength - FRAME_HEADER_BYTES, false);
  return frame;
}

/** Up to this many bytes, consecutive frames are copied into one buffer rather than written one by one. */
const COALESCE_BYTES = 64 * 1024;

/**
 * Encodes messages as consecutive frames, for one write: small ones (a batch's answers, its
 * batch_end) joined into a single buffer, since a corked write of one buffer per message costs more in
 * the stream machinery than the copy; large ones left as they are, so big payloads are never copied.
 */
export function encodeMessages(messages: readonly unknown[]): Uint8Array[] {
  const frames = messages.map(encodeMessage);
  if (frames.length === 1) return frames;
  let total = 0;
  for (const f of frames) total += f.byteLength;
  if (total > COALESCE_BYTES) return frames;
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.byteLength;
  }
  return [out];
}

/** Decodes one frame body; anything that is not exactly one msgpack value is FRAME_MALFORMED. */
export function decodeBody(body: Uint8Array): unknown {
  let values: unknown[];
  try {
    values = packr.unpackMultiple(body) as unknown[];
  } catch (cause) {
    throw new ModelServerError('FRAME_MALFORMED', { reason: `not msgpack (${(cause as Error).message})` }, { cause });
  }
  if (values.length !== 1) {
    throw new ModelServerError('FRAME_MALFORMED', { reason: `expected one msgpack value, found ${values.length}` });
  }
  return values[0];
}
