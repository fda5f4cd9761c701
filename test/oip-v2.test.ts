import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { bytesOf, infer, readInferResponse } from './helpers/oip-client.js';
import { expectOipSchema, matchesOipSchema } from './helpers/oip-schemas.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

const MNIST = join(ROOT, 'examples', 'mnist');
const IDENTITY_ONNX = join(ROOT, 'examples', 'identity', 'identity.onnx');

let server: TestServer;
let session: InferenceSession;
let digits: { pixels: Float32Array; label: number }[];
let v2: string;

/** Logits of a direct onnxruntime-node run of the same model, the reference for byte-for-byte checks. */
async function directLogits(rows: Float32Array, n: number): Promise<Float32Array> {
  const out = await session.run({ input: new Tensor('float32', rows, [n, 784]) });
  return out['logits']!.data as Float32Array;
}

function stack(samples: readonly { pixels: Float32Array }[]): Float32Array {
  const rows = new Float32Array(samples.length * 784);
  samples.forEach((s, i) => rows.set(s.pixels, i * 784));
  return rows;
}

beforeAll(async () => {
  const store = await tempDir();
  const mnist = { handler: join(MNIST, 'handler.ts'), serializedFile: join(MNIST, 'mnist.onnx') };
  await buildModel(store, { name: 'mnist', ...mnist, config: 'minWorkers: 1\nbatchSize: 8\nmaxBatchDelay: 5\n' });
  // Fills a batch of exactly two, so a PNG request and a tensor request share one handler call.
  await buildModel(store, { name: 'mnist_pair', ...mnist, config: 'minWorkers: 1\nbatchSize: 2\nmaxBatchDelay: 10000\n' });
  await buildModel(store, { name: 'cold', handler: 'onnx_generic', serializedFile: IDENTITY_ONNX, config: 'minWorkers: 0\n' });
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['mnist.mar', 'mnist_pair.mar', 'cold.mar', 'probe.mar'] });
  session = await InferenceSession.create(join(MNIST, 'mnist.onnx'), { intraOpNumThreads: 1 });
  const { heldOutSet } = await import('../scripts/lib/mnist-split.mjs');
  const all = heldOutSet();
  digits = [all[0]!, all[400]!, all[800]!, all[1200]!, all[1600]!];
  v2 = `${server.url}/v2`;
});
afterAll(async () => {
  await session?.release();
  await server?.stop();
});

describe('Open Inference Protocol: server and model metadata', () => {
  it('serves server metadata at /v2 and /v2/ with the supported extensions', async () => {
    for (const path of ['/v2', '/v2/']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { extensions: string[]; name: string };
      expectOipSchema('metadata_server_response', body);
      expect(body.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'model_configuration', 'statistics']));
    }
  });

  it('answers liveness and readiness', async () => {
    const live = await fetch(`${v2}/health/live`);
    expect([live.status, await live.json()]).toEqual([200, { live: true }]);
    // `cold` has no worker, so the server as a whole is not ready; that is what readiness is for.
    const ready = await fetch(`${v2}/health/ready`);
    expect(ready.status).toBe(503);
    const body = await ready.json();
    expectOipSchema('error_response', body);
    expect(body).toMatchObject({ ready: false, error: expect.stringContaining('cold/1.0') });
  });

  it('reports model metadata from the ONNX session, with -1 for the dynamic batch dimension', async () => {
    for (const path of ['/models/mnist', '/models/mnist/versions/1.0']) {
      const res = await fetch(`${v2}${path}`);
      expect(res.status).toBe(200);
      const body = await res.json();
      expectOipSchema('metadata_model_response', body);
      expect(body).toEqual({
        name: 'mnist',
        versions: ['1.0'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
        outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }],
      });
    }
  });

  it('answers model readiness: 200 when loaded, 503 without workers, 404 when unknown', async () => {
    const ok = await fetch(`${v2}/models/mnist/ready`);
    const okBody = await ok.json();
    expectOipSchema('ready_model_response', okBody);
    expect([ok.status, okBody]).toEqual([200, { name: 'mnist', ready: true }]);
    expect((await fetch(`${v2}/models/mnist/versions/1.0/ready`)).status).toBe(200);
    const cold = await fetch(`${v2}/models/cold/ready`);
    const coldBody = (await cold.json()) as { ready: boolean };
    expect(cold.status).toBe(503);
    expectOipSchema('error_response', coldBody);
    expectOipSchema('ready_model_response', coldBody);
    expect(coldBody.ready).toBe(false);
    const unknown = await fetch(`${v2}/models/nope/ready`);
    expect(unknown.status).toBe(404);
    expectOipSchema('error_response', await unknown.json());
    expect((await fetch(`${v2}/models/mnist/versions/9/ready`)).status).toBe(404);
  });
});

describe('Open Inference Protocol: infer', () => {
  it('returns the logits of a FP32 tensor as JSON, equal to a direct onnxruntime run', async () => {
    const rows = stack(digits);
    const request = { id: 'req-42', inputs: [{ name: 'input', shape: [digits.length, 784], datatype: 'FP32', data: Array.from(rows) }] };
    expectOipSchema('inference_request', request);
    const r = await infer(`${v2}/models/mnist/infer`, request);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expectOipSchema('inference_response', r.json);
    expect(r.json).toMatchObject({ model_name: 'mnist', model_version: '1.0', id: 'req-42' });
    const [out] = r.json['outputs'] as { name: string; datatype: string; shape: number[]; data: number[] }[];
    expect([out!.name, out!.datatype, out!.shape]).toEqual(['logits', 'FP32', [digits.length, 10]]);
    const expected = await directLogits(rows, digits.length);
    expect(bytesOf(Float32Array.from(out!.data)).equals(bytesOf(expected))).toBe(true);
    // And the model is right about the digits.
    digits.forEach((d, i) => {
      const row = out!.data.slice(i * 10, i * 10 + 10);
      expect(row.indexOf(Math.max(...row))).toBe(d.label);
    });
  });

  it('accepts nested data and the versioned path, and leaves id out when none was sent', async () => {
    const nested = [Array.from(digits[1]!.pixels)];
    const r = await infer(`${v2}/models/mnist/versions/1.0/infer`, { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: nested }] });
    expect(r.status).toBe(200);
    expectOipSchema('inference_response', r.json);
    expect(r.json).not.toHaveProperty('id');
    const data = (r.json['outputs'] as { data: number[] }[])[0]!.data;
    expect(bytesOf(Float32Array.from(data)).equals(bytesOf(await directLogits(digits[1]!.pixels, 1)))).toBe(true);
  });

  it('takes and returns binary tensors byte for byte (Triton binary tensor extension)', async () => {
    const rows = stack(digits.slice(0, 3));
    const r = await infer(
      `${v2}/models/mnist/infer`,
      { inputs: [{ name: 'input', shape: [3, 784], datatype: 'FP32', parameters: { binary_data_size: rows.byteLength } }], parameters: { binary_data_output: true } },
      [bytesOf(rows)],
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expectOipSchema('binary_inference_response_header', r.json);
    expect(matchesOipSchema('inference_response', r.json)).toBe(false);
    expect(r.json['outputs']).toEqual([{ name: 'logits', datatype: 'FP32', shape: [3, 10], parameters: { binary_data_size: 120 } }]);
    expect(r.binary.equals(bytesOf(await directLogits(rows, 3)))).toBe(true);
  });

  it('answers a per-output binary_data request in binary and the rest as JSON', async () => {
    const r = await infer(`${v2}/models/mnist/infer`, {
      inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(digits[2]!.pixels) }],
      outputs: [{ name: 'logits', parameters: { binary_data: true } }],
    });
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('inference-header-content-length'))).toBe(Buffer.byteLength(r.jsonText));
    expect(r.binary.equals(bytesOf(await directLogits(digits[2]!.pixels, 1)))).toBe(true);
  });

  it('serves a raw binary request (Inference-Header-Content-Length: 0) as one example', async () => {
    const res = await fetch(`${v2}/models/mnist/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' },
      body: bytesOf(digits[3]!.pixels),
    });
    const r = await readInferResponse(res);
    expect(r.status).toBe(200);
    expect((r.json['outputs'] as { shape: number[] }[])[0]!.shape).toEqual([1, 10]);
    expect(r.binary.equals(bytesOf(await directLogits(digits[3]!.pixels, 1)))).toBe(true);
  });

  it('runs an image request and a tensor request of one batch through their own paths', async () => {
    const { toPngBuffer } = await import('../scripts/lib/mnist-split.mjs');
    const pair = server.gateway.registry.resolve('mnist_pair');
    const before = pair.statistics.executionCount;
    const [png, tensor] = await Promise.all([
      fetch(`${server.url}/predictions/mnist_pair`, { method: 'POST', body: toPngBuffer(digits[4]!.pixels) }),
      infer(`${v2}/models/mnist_pair/infer`, { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(digits[0]!.pixels) }] }),
    ]);
    expect(pair.statistics.executionCount - before).toBe(1);
    expect(await png.json()).toBe(digits[4]!.label);
    expect(tensor.status).toBe(200);
    const data = (tensor.json['outputs'] as { data: number[] }[])[0]!.data;
    expect(bytesOf(Float32Array.from(data)).equals(bytesOf(await directLogits(digits[0]!.pixels, 1)))).toBe(true);
  });

  it.each([
    ['an unknown datatype', { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP8', data: [1, 2] }] }, /unknown datatype FP8/],
    ['a datatype the model does not take', { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP64', data: new Array(784).fill(0) }] }, /must be FP32/],
    ['a wrong shape', { inputs: [{ name: 'input', shape: [1, 783], datatype: 'FP32', data: new Array(783).fill(0) }] }, /shape \[1,783\]/],
    ['data that does not fill the shape', { inputs: [{ name: 'input', shape: [2, 784], datatype: 'FP32', data: new Array(784).fill(0) }] }, /needs 1568 elements/],
    ['a non-number element', { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: ['x', ...new Array(783).fill(0)] }] }, /element 0/],
    ['an unknown input', { inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }] }, /unknown input 'pixels'/],
    ['an unknown output', { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0) }], outputs: [{ name: 'probs' }] }, /unknown output/],
    ['no inputs', { inputs: [] }, /inputs/],
    ['missing data', { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32' }] }, /no "data"/],
  ])('answers 400 {error} for %s', async (_name, request, message) => {
    const r = await infer(`${v2}/models/mnist/infer`, request);
    expect(r.status).toBe(400);
    expectOipSchema('error_response', r.json);
    expect(r.json['error']).toMatch(message);
  });

  it('takes Triton\'s schedule-policy parameters and refuses malformed ones', async () => {
    const input = { name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(digits[0]!.pixels) };
    const ok = await infer(`${v2}/models/mnist/infer`, { parameters: { priority: 1, timeout: 5_000_000 }, inputs: [input] });
    expect(ok.status).toBe(200);
    for (const parameters of [{ priority: -1 }, { priority: 1.5 }, { timeout: 0 }]) {
      const bad = await infer(`${v2}/models/mnist/infer`, { parameters, inputs: [input] });
      expect(bad.status).toBe(400);
      expect(String(bad.json['error'])).toMatch(/priority|timeout/);
    }
  });

  it('answers 400 for a body that is not JSON and for binary sizes that do not add up', async () => {
    const bad = await fetch(`${v2}/models/mnist/infer`, { method: 'POST', body: '{"inputs": [' });
    expect(bad.status).toBe(400);
    expectOipSchema('error_response', await bad.json());
    const r = await infer(
      `${v2}/models/mnist/infer`,
      { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: 3136 } }] },
      [Buffer.alloc(3136 + 4)],
    );
    expect(r.status).toBe(400);
    expect(r.json['error']).toMatch(/4 bytes of binary data/);
  });

  it('answers 404 for an unknown model or version, 405 for a wrong method, 503 for a model without workers', async () => {
    const request = { inputs: [{ name: 'input', shape: [1, 1], datatype: 'FP32', data: [0] }] };
    for (const [path, status] of [
      ['/models/nope/infer', 404],
      ['/models/mnist/versions/9.9/infer', 404],
      ['/models/cold/infer', 503],
    ] as const) {
      const r = await infer(`${v2}${path}`, request);
      expect(r.status, path).toBe(status);
      expectOipSchema('error_response', r.json);
    }
    const get = await fetch(`${v2}/models/mnist/infer`);
    expect(get.status).toBe(405);
    expectOipSchema('error_response', await get.json());
    const nowhere = await fetch(`${v2}/nowhere`);
    expect(nowhere.status).toBe(404);
    expectOipSchema('error_response', await nowhere.json());
  });

  it('hands a handler of its own the tensor inputs, and answers its JSON as a BYTES output named predict', async () => {
    const r = await infer(`${v2}/models/probe/infer`, { inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [1] }] });
    expect(r.status).toBe(200);
    const outputs = r.json['outputs'] as { name: string; datatype: string; shape: number[]; data: string[] }[];
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['predict', 'BYTES', [1]]]);
    const seen = JSON.parse(outputs[0]!.data[0]!) as { inputs: { name: string; contentType: string; size: number }[] };
    expect(seen.inputs).toEqual([expect.objectContaining({ name: 'x', contentType: 'application/x-tensor; datatype=INT32; shape=1', size: 4 })]);
  });
});

describe('Triton extensions for perf_analyzer', () => {
  it('serves the model configuration perf_analyzer reads', async () => {
    const res = await fetch(`${v2}/models/mnist/config`);
    expect(res.status).toBe(200);
    const config = (await res.json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      name: 'mnist',
      platform: 'onnxruntime_onnx',
      max_batch_size: 8,
      input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [784], is_shape_tensor: false, optional: false }],
      output: [{ name: 'logits', data_type: 'TYPE_FP32', dims: [10], is_shape_tensor: false }],
      dynamic_batching: { max_queue_delay_microseconds: 5000 },
      model_transaction_policy: { decoupled: false },
      response_cache: { enable: false },
    });
    expect((await fetch(`${v2}/models/mnist/versions/1.0/config`)).status).toBe(200);
    expect((await fetch(`${v2}/models/nope/config`)).status).toBe(404);
  });

  it('serves statistics with integral counts and nanoseconds that grow with inferences', async () => {
    type Stat = { count: number; ns: number };
    type ModelStats = {
      name: string;
      version: string;
      inference_count: number;
      execution_count: number;
      inference_stats: Record<string, Stat>;
      batch_stats: { batch_size: number }[];
    };
    const read = async () => ((await (await fetch(`${v2}/models/mnist/stats`)).json()) as { model_stats: ModelStats[] }).model_stats;
    const [before] = await read();
    const request = { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(digits[0]!.pixels) }] };
    for (let i = 0; i < 3; i++) expect((await infer(`${v2}/models/mnist/infer`, request)).status).toBe(200);
    const [after] = await read();
    expect(after).toMatchObject({ name: 'mnist', version: '1.0' });
    expect(after!.inference_count - before!.inference_count).toBe(3);
    expect(after!.execution_count - before!.execution_count).toBe(3);
    for (const key of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss']) {
      const stat = after!.inference_stats[key]!;
      expect(Number.isInteger(stat.count) && Number.isInteger(stat.ns), key).toBe(true);
    }
    expect(after!.inference_stats['success']!.count - before!.inference_stats['success']!.count).toBe(3);
    expect(after!.inference_stats['compute_infer']!.ns).toBeGreaterThan(before!.inference_stats['compute_infer']!.ns);
    expect(after!.batch_stats[0]).toMatchObject({ batch_size: 1 });
    const all = (await (await fetch(`${v2}/models/stats`)).json()) as { model_stats: { name: string }[] };
    expect(all.model_stats.map((s) => s.name)).toEqual(expect.arrayContaining(['mnist', 'probe', 'cold']));
  });

  it('lists the v1 and v2 routes in the OpenAPI document of OPTIONS /', async () => {
    const doc = (await (await fetch(`${server.url}/`, { method: 'OPTIONS' })).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [
      ['/v2', 'get'],
      ['/v2/health/live', 'get'],
      ['/v2/health/ready', 'get'],
      ['/v2/models/{model_name}', 'get'],
      ['/v2/models/{model_name}/versions/{model_version}/ready', 'get'],
      ['/v2/models/{model_name}/infer', 'post'],
      ['/v2/models/{model_name}/versions/{model_version}/infer', 'post'],
      ['/v2/models/{model_name}/config', 'get'],
      ['/v2/models/{model_name}/stats', 'get'],
      ['/v1/models', 'get'],
      ['/v1/models/{model_name}:predict', 'post'],
      ['/v1/models/{model_name}:explain', 'post'],
      ['/explanations/{model_name}', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
  });

  it('keeps the TorchServe error shape on the TorchServe routes', async () => {
    const r = await postJson(`${server.url}/predictions/nope`, {});
    expect(r.json).toMatchObject({ code: 404, type: 'ModelNotFoundException' });
  });
});
