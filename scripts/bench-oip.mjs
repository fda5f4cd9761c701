#!/usr/bin/env node
// Measures the mnist model through each request form that reaches the same ONNX session: a PNG on
// /predictions, an FP32 tensor on /v2/.../infer as JSON and as binary (Triton's extension), a KServe v1
// base64 PNG instance, and an explanation. Loopback only, bounded in time; run after `npm run build`.
//
//   node scripts/bench-oip.mjs [seconds per scenario, default 5] [connections, default 8]
import autocannon from 'autocannon';
import { EPHEMERAL_LOOPBACK, Gateway, createLogger, loadServerConfig } from '@model-server/gateway';
import { heldOutSet, toPngBuffer } from './lib/mnist-split.mjs';

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 8);
const config = loadServerConfig({
  overrides: {
    ...EPHEMERAL_LOOPBACK,
    model_store: 'model-store',
    disable_token_authorization: true,
  },
});
const gateway = await Gateway.start({ config, models: ['mnist.mar'], logger: createLogger('warn') });
const url = gateway.addresses.inference;
const sample = heldOutSet()[0];
const png = toPngBuffer(sample.pixels);
const pixels = Buffer.from(sample.pixels.buffer, sample.pixels.byteOffset, sample.pixels.byteLength);
const jsonInfer = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(sample.pixels) }] });
const header = Buffer.from(JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: pixels.byteLength } }],
  parameters: { binary_data_output: true },
}));

const scenarios = [
  { name: '/predictions PNG', path: '/predictions/mnist', body: png, headers: { 'content-type': 'image/png' } },
  { name: 'v2 infer JSON', path: '/v2/models/mnist/infer', body: jsonInfer, headers: { 'content-type': 'application/json' } },
  {
    name: 'v2 infer binary',
    path: '/v2/models/mnist/infer',
    body: Buffer.concat([header, pixels]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  },
  { name: 'v1 predict b64 PNG', path: '/v1/models/mnist:predict', body: JSON.stringify({ instances: [{ b64: png.toString('base64') }] }), headers: { 'content-type': 'application/json' } },
  { name: '/explanations PNG', path: '/explanations/mnist', body: png, headers: { 'content-type': 'image/png' } },
];

console.log(`| scenario | req/s | p50 ms | p99 ms | non-2xx | body bytes |`);
console.log(`|---|---|---|---|---|---|`);
for (const s of scenarios) {
  const result = await autocannon({ url: `${url}${s.path}`, method: 'POST', body: s.body, headers: s.headers, connections, duration: seconds });
  console.log(`| ${s.name} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.non2xx} | ${Buffer.byteLength(s.body)} |`);
}
await gateway.stop();
