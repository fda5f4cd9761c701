import { Packr } from 'msgpackr';
import { ModelServerError } from './errors.js';
import { encodeFrame } from './frame.js';

// Plain maps (no record extension) keep frames readable by any msgpack implementation, which makes
// a worker in another language possible later. Binary payloads travel as msgpack `bin`, never base64.
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

export function encodeBody(message: unknown): Uint8Array {
  return packr.pack(message);
}

/** Encodes a message and frames it in one step. */
export function encodeMessage(message: unknown): Uint8Array {
  return encodeFrame(packr.pack(message));
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
