import type { PredictionResponse, PredictionsRequest } from './messages.js';

/**
 * Hand-written protobuf codecs for the messages of TorchServe's hot rpcs (PredictionsRequest in,
 * PredictionResponse out), which grpc-js would otherwise run through proto-loader's generic decode +
 * toObject and fromObject + encode on every call. Same wire format as the .proto (a test compares them
 * with proto-loader's on many messages); anything else about a message falls back or is refused.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;
const EMPTY: Buffer = Buffer.alloc(0);

class Reader {
  pos = 0;

  constructor(
    private readonly buf: Buffer,
    readonly end: number = buf.length,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** A field key: field number and wire type. */
  tag(): { field: number; wire: number } {
    const key = this.varint();
    if (key > 0xffffffff || key < 8) throw new Error(`bad field key ${key}`);
    return { field: Math.floor(key / 8), wire: key % 8 };
  }

  bytes(): Buffer {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new Error(`length ${length} runs past the end of the message`);
    this.pos += length;
    return this.buf.subarray(start, this.pos);
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new Error('truncated field');
    this.pos += n;
  }
}

function mapEntry(entry: Buffer, into: Record<string, Buffer>): void {
  const r = new Reader(entry);
  let key = '';
  let value: Buffer = EMPTY;
  while (r.pos < r.end) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_BYTES) key = r.bytes().toString('utf8');
    else if (field === 2 && wire === WIRE_BYTES) value = r.bytes();
    else r.skip(wire);
  }
  into[key] = value;
}


/** PredictionsRequest from its bytes; throws on bytes that are not one (the caller answers INVALID_ARGUMENT). */
export function decodePredictionsRequest(buf: Buffer): PredictionsRequest {
  const request: PredictionsRequest = { model_name: '', model_version: '', input: {} };
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const { field, wire } = r.tag();
    if (wire !== WIRE_BYTES || field > 4) {
      r.skip(wire);
      continue;
    }
    const value = r.bytes();
    if (field === 1) request.model_name = value.toString('utf8');
    else if (field === 2) request.model_version = value.toString('utf8');
    else if (field === 3) mapEntry(value, request.input);
    else request.sequence_id = value.toString('utf8');
  }
  return request;
}

function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n > 0x7f) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n >>>= 7;
    size++;
  }
  return size;
}

/**
 * PredictionResponse as bytes, for the messages the server sends most: a prediction and perhaps a
 * sequence id. One with an in-band status goes through `fallback` (proto-loader's serializer).
 */
export function encodePredictionResponse(message: PredictionResponse, fallback: (m: PredictionResponse) => Buffer): Buffer {
  if (message.status !== undefined) return fallback(message);
  const prediction = message.prediction ?? EMPTY;
  const sequence = message.sequence_id === undefined ? undefined : Buffer.from(message.sequence_id, 'utf8');
  const p = prediction.byteLength;
  let size = p > 0 ? 1 + varintSize(p) + p : 0;
  if (sequence) size += 1 + varintSize(sequence.byteLength) + sequence.byteLength;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (p > 0) {
    out[pos++] = 0x0a;
    pos = writeVarint(out, pos, p);
    out.set(prediction, pos);
    pos += p;
  }
  if (sequence) {
    out[pos++] = 0x12;
    pos = writeVarint(out, pos, sequence.byteLength);
    out.set(sequence, pos);
  }
  return out;
}
