/**
 * Streams a recording through the vad example as one sequence, over any of the server's APIs, and
 * assembles the speech segments from the answers: TorchServe's HTTP headers, the Open Inference
 * Protocol with Triton's sequence parameters, or one WebSocket.
 */
import { WebSocket, type RawData } from 'ws';
import { expect } from 'vitest';
import { bytesOf, infer } from './oip-client.js';
import { RATE, chunkSizes, type Recording } from './speech.js';
import { pcm16Wav } from './wav-bytes.js';

/** How far a reported boundary may be from the sound's own. */
export const TOLERANCE_S = 0.25;

export type Format = 's16le' | 'f32le' | 'wav';

export interface Segment {
  start: number;
  end?: number;
}

export interface Answer {
  segments: Segment[];
  receivedSeconds: number;
  speaking: boolean;
  frames?: { startSeconds: number; frameSeconds: number; probabilities: number[] };
}

/** One answered chunk, with what the transport says about it. */
export interface ChunkReply {
  answer: Answer;
  /** x-vad-batch-size and x-vad-onnx-batch, where the transport carries headers (HTTP). */
  batchSize?: number;
  onnxBatch?: number;
}

export interface Streamed {
  segments: Required<Segment>[];
  batchSizes: number[];
  onnxBatches: number[];
  chunks: number;
  /** The sequence id the server used (its own when the client named none). */
  sequenceId: string;
}

export function encode(chunk: Int16Array, format: Format): { body: Uint8Array; type: string } {
  if (format === 'wav') return { body: pcm16Wav(chunk), type: 'audio/wav' };
  if (format === 'f32le') return { body: new Uint8Array(Float32Array.from(chunk, (s) => s / 32768).buffer), type: 'audio/x-float32' };
  return { body: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), type: 'application/octet-stream' };
}

export function sequenceHeaders(id: string | undefined, first: boolean, last: boolean): Record<string, string> {
  return {
    ...(id !== undefined ? { ts_request_sequence_id: id } : {}),
    ...(first && id !== undefined ? { ts_request_sequence_start: 'true' } : {}),
    ...(last ? { ts_request_sequence_end: 'true' } : {}),
  };
}

/** Sends one chunk of a sequence and returns its answer; `first` and `last` mark the sequence's ends. */
export interface ChunkTransport {
  send(chunk: Int16Array, first: boolean, last: boolean): Promise<ChunkReply>;
  /** The sequence's id, once known. */
  readonly sequenceId: string;
  close?(): Promise<void>;
}

/**
 * TorchServe's headers. With an `id` the client names the sequence and flags its start; without one
 * the first request opens a sequence and the answer's `ts_request_sequence_id` names it.
 */
export function httpTransport(url: string, model: string, id: string | undefined, format: Format = 's16le'): ChunkTransport {
  let sequenceId = id;
  return {
    get sequenceId() {
      return sequenceId!;
    },
    async send(chunk, first, last) {
      const { body, type } = encode(chunk, format);
      const res = await fetch(`${url}/predictions/${model}`, {
        method: 'POST',
        headers: { 'content-type': type, ...sequenceHeaders(first ? id : sequenceId, first, last) },
        body,
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const answered = res.headers.get('ts_request_sequence_id');
      if (first) {
        expect(answered).toBeTruthy();
        if (id !== undefined) expect(answered).toBe(id);
        expect(res.headers.get('ts_request_sequence_start')).toBe('true');
        sequenceId = answered!;
      } else {
        expect(answered).toBe(sequenceId);
        expect(res.headers.get('ts_request_sequence_start')).toBeNull();
      }
      return {
        answer: JSON.parse(text) as Answer,
        batchSize: Number(res.headers.get('x-vad-batch-size')),
        onnxBatch: Number(res.headers.get('x-vad-onnx-batch')),
      };
    },
  };
}

interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | boolean)[];
}

/** The Open Inference Protocol: FP32 audio as a binary tensor, Triton's sequence parameters, tensors back. */
export function oipTransport(url: string, model: string, id: number | string): ChunkTransport {
  return {
    sequenceId: String(id),
    async send(chunk, first, last) {
      const samples = Float32Array.from(chunk, (s) => s / 32768);
      const request = {
        parameters: { sequence_id: id, sequence_start: first, sequence_end: last },
        inputs: [{ name: 'audio', datatype: 'FP32', shape: [samples.length], parameters: { binary_data_size: samples.byteLength } }],
      };
      const res = await infer(`${url}/v2/models/${model}/infer`, request, [bytesOf(samples)]);
      expect(res.status, res.jsonText).toBe(200);
      const outputs = new Map((res.json['outputs'] as OutputTensor[]).map((o) => [o.name, o]));
      const flat = outputs.get('segments')!.data as number[];
      const segments: Segment[] = [];
      for (let i = 0; i < flat.length; i += 2) segments.push(flat[i + 1] === -1 ? { start: flat[i]! } : { start: flat[i]!, end: flat[i + 1]! });
      return {
        answer: {
          segments,
          speaking: outputs.get('speaking')!.data[0] === true,
          receivedSeconds: outputs.get('received_seconds')!.data[0] as number,
        },
      };
    },
  };
}

/** A message the server sends on a WebSocket. */
export interface WsReply {
  id: string;
  type: 'accepted' | 'chunk' | 'complete' | 'error';
  status?: number;
  data?: string;
  sequenceId?: string;
  sequenceStart?: boolean;
  error?: { code: number; message: string; errorCode: string };
}

/** A WebSocket to a model, its replies queued in arrival order. */
export class WsClient {
  private readonly replies: WsReply[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      this.replies.push(JSON.parse(String(data)) as WsReply);
      this.waiter?.();
    });
    ws.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(url: string): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /** The next reply of one of the given types (others are skipped), in arrival order. */
  async next(types: WsReply['type'][]): Promise<WsReply> {
    for (;;) {
      const at = this.replies.findIndex((r) => types.includes(r.type));
      if (at >= 0) return this.replies.splice(at, 1)[0]!;
      if (this.closed) throw new Error('socket closed');
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/**
 * One WebSocket carrying one sequence: chunks as binary messages, the end as a text message with an
 * empty body and `sequence_end` (the last audio chunk goes first, as binary). The sequence is named by
 * the `sequence_id` query parameter when `id` is given, else by the server on the first `accepted`.
 */
export async function wsTransport(url: string, model: string, id?: string): Promise<ChunkTransport & { client: WsClient }> {
  const query = id === undefined ? '' : `?sequence_id=${encodeURIComponent(id)}`;
  const client = await WsClient.open(`${url.replace('http', 'ws')}/predictions/${model}/ws${query}`);
  let sequenceId = id;
  const reply = async (): Promise<ChunkReply> => {
    const accepted = await client.next(['accepted', 'error']);
    expect(accepted.type, JSON.stringify(accepted)).toBe('accepted');
    if (sequenceId === undefined) sequenceId = accepted.sequenceId;
    expect(accepted.sequenceId).toBe(sequenceId);
    const done = await client.next(['complete', 'error']);
    expect(done.type, JSON.stringify(done)).toBe('complete');
    return { answer: JSON.parse(done.data!) as Answer };
  };
  return {
    client,
    get sequenceId() {
      return sequenceId!;
    },
    async send(chunk, _first, last) {
      client.ws.send(encode(chunk, 's16le').body);
      const answer = await reply();
      if (!last) return answer;
      client.ws.send(JSON.stringify({ body: '', sequence_end: true }));
      const end = await reply();
      return { answer: { ...end.answer, segments: [...answer.answer.segments, ...end.answer.segments] } };
    },
    close: () => client.close(),
  };
}

/**
 * Streams a recording in random 20-250 ms chunks (one sequence; the next chunk once the previous is
 * answered) and assembles the segments, checking that the answers are consistent: an open segment is
 * closed later with the same start, and none is left open.
 */
export async function streamRecording(transport: ChunkTransport, recording: Recording, seed: number): Promise<Streamed> {
  const sizes = chunkSizes(recording.samples.length, 20, 250, seed);
  const out: Streamed = { segments: [], batchSizes: [], onnxBatches: [], chunks: sizes.length, sequenceId: '' };
  let openStart: number | undefined;
  let at = 0;
  for (let k = 0; k < sizes.length; k++) {
    const chunk = recording.samples.subarray(at, at + sizes[k]!);
    at += sizes[k]!;
    const { answer, batchSize, onnxBatch } = await transport.send(chunk, k === 0, k === sizes.length - 1);
    // times are rounded to the millisecond
    expect(Math.abs(answer.receivedSeconds - at / RATE)).toBeLessThanOrEqual(0.0005 + 1e-6);
    if (batchSize !== undefined) out.batchSizes.push(batchSize);
    if (onnxBatch !== undefined) out.onnxBatches.push(onnxBatch);
    for (const s of answer.segments) {
      if (s.end === undefined) {
        expect(openStart, 'a segment opened while another is open').toBeUndefined();
        openStart = s.start;
        continue;
      }
      if (openStart !== undefined) expect(s.start).toBeCloseTo(openStart, 6);
      openStart = undefined;
      out.segments.push({ start: s.start, end: s.end });
    }
    expect(answer.speaking).toBe(openStart !== undefined);
  }
  expect(openStart, 'a segment left open at the end of the sequence').toBeUndefined();
  out.sequenceId = transport.sequenceId;
  await transport.close?.();
  return out;
}

/** Every utterance found once, boundaries within the tolerance, nothing reported inside a silence. */
export function expectMatches(segments: Required<Segment>[], recording: Recording): void {
  expect(segments.map((s) => [s.start, s.end])).toHaveLength(recording.spans.length);
  recording.spans.forEach((span, i) => {
    expect(Math.abs(segments[i]!.start - span.start), `start of utterance ${i}`).toBeLessThanOrEqual(TOLERANCE_S);
    expect(Math.abs(segments[i]!.end - span.end), `end of utterance ${i}`).toBeLessThanOrEqual(TOLERANCE_S);
  });
  for (const silence of recording.silences) {
    const from = silence.start + TOLERANCE_S;
    const to = silence.end - TOLERANCE_S;
    for (const s of segments) expect(s.end <= from || s.start >= to, `segment ${s.start}-${s.end} inside silence ${from}-${to}`).toBe(true);
  }
}
