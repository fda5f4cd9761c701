import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  MessageReader,
  ModelServerError,
  encodeBody,
  encodeFrame,
  encodeMessage,
  encodeMessages,
  parseFromWorker,
  parseToWorker,
  PROTOCOL_VERSION,
  type ToWorker,
} from '@model-server/protocol';

/** Deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function predict(i: number, size: number): ToWorker {
  const data = new Uint8Array(size).map((_, j) => (i * 31 + j) & 0xff);
  return {
    type: 'predict',
    batchId: i,
    kind: 'predict',
    requests: [{ id: `r-${i}`, headers: { 'content-type': 'image/png' }, inputs: [{ name: 'data', contentType: 'image/png', data }] }],
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as ModelServerError).code;
  }
  return undefined;
}

describe('frame decoding', () => {
  it('reassembles frames fed in random chunk sizes, in order, bytes intact', () => {
    for (const maxChunk of [1, 7, 64, 1024, 70_000]) {
      const rand = prng(maxChunk);
      const messages = Array.from({ length: 50 }, (_, i) => predict(i, Math.floor(rand() * 5000)));
      const stream = concat(messages.map(encodeMessage));
      const reader = new MessageReader(1 << 20, parseToWorker);
      const got: ToWorker[] = [];
      for (let o = 0; o < stream.byteLength; ) {
        const n = 1 + Math.floor(rand() * maxChunk);
        got.push(...reader.push(stream.subarray(o, o + n)));
        o += n;
      }
      expect(got).toHaveLength(messages.length);
      got.forEach((m, i) => {
        expect(m.type).toBe('predict');
        const want = messages[i] as Extract<ToWorker, { type: 'predict' }>;
        const have = m as Extract<ToWorker, { type: 'predict' }>;
        expect(have.batchId).toBe(want.batchId);
        expect(Buffer.from(have.requests[0]!.inputs[0]!.data).equals(Buffer.from(want.requests[0]!.inputs[0]!.data))).toBe(true);
      });
    }
  });

  it('returns several frames found in one chunk', () => {
    const reader = new MessageReader(1 << 20, parseToWorker);
    const chunk = concat([encodeMessage({ type: 'stop' }), encodeMessage({ type: 'cancel', requestId: 'a', reason: 'x' }), encodeMessage({ type: 'stop' })]);
    expect(reader.push(chunk).map((m) => m.type)).toEqual(['stop', 'cancel', 'stop']);
  });

  it('frames a batch of messages for one write: small ones joined in one buffer, large ones left alone', () => {
    const small = [predict(1, 10), { type: 'stop' }, predict(2, 300)];
    const joined = encodeMessages(small);
    expect(joined).toHaveLength(1);
    expect(new MessageReader(1 << 20, parseToWorker).push(joined[0]!).map((m) => m.type)).toEqual(['predict', 'stop', 'predict']);

    // Past the coalescing size each frame is written as it is, so a large payload is never copied.
    const large = [predict(3, 40_000), predict(4, 40_000)];
    const frames = encodeMessages(large);
    expect(frames).toHaveLength(2);
    const got = new MessageReader(1 << 20, parseToWorker).push(concat(frames)) as Extract<ToWorker, { type: 'predict' }>[];
    expect(got.map((m) => m.batchId)).toEqual([3, 4]);
    expect(got[1]!.requests[0]!.inputs[0]!.data.byteLength).toBe(40_000);
  });

  it('keeps a partial frame until its last byte arrives', () => {
    const decoder = new FrameDecoder(100);
    const frame = encodeFrame(new Uint8Array([1, 2, 3]));
    expect(decoder.push(frame.subarray(0, 2))).toEqual([]);
    expect(decoder.push(frame.subarray(2, 6))).toEqual([]);
    expect(decoder.pendingBytes).toBe(2);
    expect(decoder.push(frame.subarray(6)).map((f) => [...f])).toEqual([[1, 2, 3]]);
  });

  it('refuses an oversized frame from its header alone, before the body arrives', () => {
    const decoder = new FrameDecoder(1024);
    const header = new Uint8Array([0x7f, 0xff, 0xff, 0xff]);
    expect(codeOf(() => decoder.push(header))).toBe('FRAME_TOO_LARGE');
    // Poisoned: the stream lost its framing and must be closed.
    expect(codeOf(() => decoder.push(encodeMessage({ type: 'stop' })))).toBe('FRAME_TOO_LARGE');
  });

  it('states the length and the limit in the oversize message', () => {
    const decoder = new FrameDecoder(10);
    try {
      decoder.push(encodeFrame(new Uint8Array(11)));
      expect.unreachable();
    } catch (err) {
      expect((err as ModelServerError).message).toBe('Frame of 11 bytes exceeds the limit of 10 bytes');
    }
  });

  it('refuses a zero-length frame', () => {
    expect(codeOf(() => new FrameDecoder(10).push(new Uint8Array(4)))).toBe('FRAME_MALFORMED');
  });

  it('refuses a body that is not msgpack', () => {
    const reader = new MessageReader(100, parseToWorker);
    expect(codeOf(() => reader.push(encodeFrame(new Uint8Array([0x92, 0x01]))))).toBe('FRAME_MALFORMED');
  });

  it('refuses a body with trailing bytes after one msgpack value', () => {
    const reader = new MessageReader(100, parseToWorker);
    const two = concat([encodeBody({ type: 'stop' }), encodeBody({ type: 'stop' })]);
    expect(codeOf(() => reader.push(encodeFrame(two)))).toBe('FRAME_MALFORMED');
  });

  it('refuses well-formed msgpack that is not a valid message, naming the field', () => {
    const reader = new MessageReader(1000, parseToWorker);
    expect(codeOf(() => reader.push(encodeMessage({ type: 'launch' })))).toBe('MESSAGE_INVALID');
    const bad = new MessageReader(1000, parseFromWorker);
    try {
      bad.push(encodeMessage({ type: 'response', batchId: 1, requestId: 'x', status: 200, headers: {}, body: 'not bytes' }));
      expect.unreachable();
    } catch (err) {
      expect((err as ModelServerError).code).toBe('MESSAGE_INVALID');
      expect((err as Error).message).toContain('body');
    }
  });

  it('refuses malformed hot messages (predict, response, chunk, batch_end) like any other, naming the field', () => {
    const bytes = new Uint8Array([1]);
    const request = { id: 'r', headers: { a: 'b' }, inputs: [{ name: 'body', contentType: 'x', data: bytes }] };
    const toWorker: unknown[] = [
      { type: 'predict', batchId: 1, kind: 'predict', requests: [] },
      { type: 'predict', batchId: 1.5, kind: 'predict', requests: [request] },
      { type: 'predict', batchId: 1, kind: 'guess', requests: [request] },
      { type: 'predict', batchId: 1, kind: 'predict', requests: [{ ...request, headers: { a: 1 } }] },
      { type: 'predict', batchId: 1, kind: 'predict', requests: [{ ...request, inputs: [{ name: 'body', contentType: 'x', data: 'text' }] }] },
    ];
    for (const value of toWorker) expect(codeOf(() => parseToWorker(value))).toBe('MESSAGE_INVALID');
    const response = { batchId: 1, requestId: 'r', status: 200, headers: {}, body: bytes };
    const fromWorker: unknown[] = [
      { type: 'response', ...response, status: '200' },
      { type: 'response', ...response, contentType: 3 },
      { type: 'chunk', ...response, headers: { a: ['b'] } },
      { type: 'chunk', ...response, requestId: undefined },
      { type: 'batch_end', batchId: 1, handlerMs: Number.NaN, rssBytes: 1 },
      { type: 'batch_end', batchId: 1, handlerMs: 1 },
    ];
    for (const value of fromWorker) expect(codeOf(() => parseFromWorker(value))).toBe('MESSAGE_INVALID');
    // Valid ones come back with the schema's shape: unknown keys dropped.
    expect(parseToWorker({ type: 'predict', batchId: 1, kind: 'predict', requests: [{ ...request, extra: 1 }], extra: 1 })).toEqual({
      type: 'predict',
      batchId: 1,
      kind: 'predict',
      requests: [request],
    });
    expect(parseFromWorker({ type: 'response', ...response, contentType: 'text/plain', extra: 1 })).toEqual({
      type: 'response',
      ...response,
      contentType: 'text/plain',
    });
  });

  it('checks gateway -> worker messages without zod, naming the offending field', () => {
    const reason = (value: unknown): string => {
      try {
        parseToWorker(value);
      } catch (err) {
        expect((err as ModelServerError).code).toBe('MESSAGE_INVALID');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    const load = { type: 'load', protocolVersion: PROTOCOL_VERSION, workerId: 'w', modelName: 'm', modelVersion: '1', modelDir: '/x', manifest: { runtime: 'node' }, batchSize: 4, modelConfig: {} };
    expect(parseToWorker({ ...load, extra: true })).toEqual(load);
    expect(reason({ ...load, manifest: undefined })).toContain('manifest: expected object');
    expect(reason({ ...load, batchSize: 0 })).toContain('batchSize: expected integer >= 1');
    const request = { id: 'r', headers: { a: 'b' }, inputs: [{ name: 'body', contentType: 'x', data: new Uint8Array([1]) }] };
    expect(reason({ type: 'predict', batchId: 1, kind: 'predict', requests: [request, { ...request, inputs: [{ name: 'body', contentType: 'x', data: 'text' }] }] })).toContain(
      'requests.1.inputs.0.data: expected bytes',
    );
    expect(reason({ type: 'predict', batchId: 1, kind: 'predict', requests: [{ ...request, headers: { a: 1 } }] })).toContain('requests.0.headers.a: expected string');
    expect(reason({ type: 'cancel', requestId: 'r' })).toContain('reason: expected string');
    expect(reason({ type: 'reload' })).toContain('unknown message type "reload"');
    expect(parseToWorker({ type: 'stop', extra: 1 })).toEqual({ type: 'stop' });
  });

  it('carries binary inputs as msgpack bin, not base64 text', () => {
    const data = new Uint8Array(1000).fill(0xab);
    const body = encodeBody(predict(1, 0) && { ...predict(1, 0), requests: [{ id: 'a', headers: {}, inputs: [{ name: 'b', contentType: 'x', data }] }] });
    // A base64 copy would be 1336 bytes; bin keeps the frame within a few dozen bytes of the payload.
    expect(body.byteLength).toBeLessThan(1200);
  });
});
