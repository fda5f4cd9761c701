import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { bytesOf, bytesTensor, infer } from './helpers/oip-client.js';
import { expectOipSchema } from './helpers/oip-schemas.js';
import { startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/**
 * Every Open Inference Protocol datatype through a real ONNX Runtime session: examples/identity/
 * identity.onnx echoes each <type>_in to <type>_out and is served by the built-in onnx_generic handler
 * (no handler code). Shapes are [2, 2], so each tensor has four elements.
 */
const TYPES = {
  bool: { datatype: 'BOOL', json: [true, false, false, true], bytes: Buffer.from([1, 0, 0, 1]) },
  uint8: { datatype: 'UINT8', json: [0, 255, 7, 128], bytes: bytesOf(Uint8Array.from([0, 255, 7, 128])) },
  uint16: { datatype: 'UINT16', json: [0, 65535, 1, 300], bytes: bytesOf(Uint16Array.from([0, 65535, 1, 300])) },
  uint32: { datatype: 'UINT32', json: [0, 4294967295, 1, 70000], bytes: bytesOf(Uint32Array.from([0, 4294967295, 1, 70000])) },
  uint64: {
    datatype: 'UINT64',
    json: [0, '18446744073709551615', 1, '9007199254740993'],
    bytes: bytesOf(BigUint64Array.from([0n, 18446744073709551615n, 1n, 9007199254740993n])),
    text: '[0,18446744073709551615,1,9007199254740993]',
  },
  int8: { datatype: 'INT8', json: [-128, 127, 0, -1], bytes: bytesOf(Int8Array.from([-128, 127, 0, -1])) },
  int16: { datatype: 'INT16', json: [-32768, 32767, 0, -1], bytes: bytesOf(Int16Array.from([-32768, 32767, 0, -1])) },
  int32: { datatype: 'INT32', json: [-2147483648, 2147483647, 0, -1], bytes: bytesOf(Int32Array.from([-2147483648, 2147483647, 0, -1])) },
  int64: {
    datatype: 'INT64',
    json: ['-9223372036854775808', '9223372036854775807', 0, -1],
    bytes: bytesOf(BigInt64Array.from([-9223372036854775808n, 9223372036854775807n, 0n, -1n])),
    text: '[-9223372036854775808,9223372036854775807,0,-1]',
  },
  // Exactly representable in half precision; 0x3800 = 0.5, 0xc000 = -2, 0x7bff = 65504, 0x0400 = 2^-14.
  fp16: { datatype: 'FP16', json: [0.5, -2, 65504, 2 ** -14], bytes: bytesOf(Uint16Array.from([0x3800, 0xc000, 0x7bff, 0x0400])) },
  fp32: { datatype: 'FP32', json: [Math.fround(0.1), -3.25, Math.fround(1e30), 0], bytes: bytesOf(Float32Array.from([0.1, -3.25, 1e30, 0])) },
  fp64: { datatype: 'FP64', json: [0.1, -1e300, 5e-324, 2.5], bytes: bytesOf(Float64Array.from([0.1, -1e300, 5e-324, 2.5])) },
  bytes: { datatype: 'BYTES', json: ['héllo', '', '日本語', 'x'], bytes: bytesTensor(['héllo', '', '日本語', 'x']) },
} as const;
type Prefix = keyof typeof TYPES;
const PREFIXES = Object.keys(TYPES) as Prefix[];

let server: TestServer;
let url: string;

beforeAll(async () => {
  const store = await tempDir();
  const model = { handler: 'onnx_generic', serializedFile: join(ROOT, 'examples', 'identity', 'identity.onnx') };
  await buildModel(store, { name: 'identity', ...model, config: 'minWorkers: 1\n' });
  // A batch leaves only when four requests are queued, so four concurrent requests form one batch.
  await buildModel(store, { name: 'identity_batch', ...model, config: 'minWorkers: 1\nbatchSize: 4\nmaxBatchDelay: 10000\n' });
  server = await startServer({ store, models: ['identity.mar', 'identity_batch.mar'] });
  url = `${server.url}/v2/models`;
});
afterAll(() => server?.stop());

const jsonInputs = (prefixes: readonly Prefix[] = PREFIXES) =>
  prefixes.map((p) => ({ name: `${p}_in`, shape: [2, 2], datatype: TYPES[p].datatype, data: TYPES[p].json as readonly unknown[] }));

describe('every datatype round-trips through onnx_generic', () => {
  it('reports all thirteen inputs and outputs in the model metadata', async () => {
    const meta = (await (await fetch(`${url}/identity`)).json()) as { inputs: { name: string; datatype: string; shape: number[] }[] };
    expectOipSchema('metadata_model_response', meta);
    expect(meta.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual(PREFIXES.map((p) => [`${p}_in`, TYPES[p].datatype, [-1, -1]]));
  });

  it('as JSON, exact for 64-bit integers', async () => {
    const request = { id: 'all', inputs: jsonInputs() };
    expectOipSchema('inference_request', request);
    const r = await infer(`${url}/identity/infer`, request);
    expect(r.status, r.jsonText).toBe(200);
    expectOipSchema('inference_response', r.json);
    const outputs = r.json['outputs'] as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    expect(outputs.map((o) => o.name)).toEqual(PREFIXES.map((p) => `${p}_out`));
    for (const p of PREFIXES) {
      const out = outputs.find((o) => o.name === `${p}_out`)!;
      expect([out.datatype, out.shape], p).toEqual([TYPES[p].datatype, [2, 2]]);
      const t = TYPES[p];
      if ('text' in t) expect(r.jsonText, p).toContain(`"data":${t.text}`);
      else expect(out.data, p).toEqual(t.json);
    }
  });

  it('as binary, byte for byte', async () => {
    const inputs = PREFIXES.map((p) => ({ name: `${p}_in`, shape: [2, 2], datatype: TYPES[p].datatype, parameters: { binary_data_size: TYPES[p].bytes.byteLength } }));
    const r = await infer(`${url}/identity/infer`, { inputs, parameters: { binary_data_output: true } }, PREFIXES.map((p) => TYPES[p].bytes));
    expect(r.status, r.jsonText).toBe(200);
    expectOipSchema('binary_inference_response_header', r.json);
    let at = 0;
    for (const out of r.json['outputs'] as { name: string; parameters: { binary_data_size: number } }[]) {
      const size = out.parameters.binary_data_size;
      const p = out.name.replace(/_out$/, '') as Prefix;
      expect(r.binary.subarray(at, at + size).equals(TYPES[p].bytes), p).toBe(true);
      at += size;
    }
    expect(at).toBe(r.binary.byteLength);
  });

  it('mixes JSON and binary inputs and returns only the outputs asked for, in that order', async () => {
    const inputs = jsonInputs().map((i) =>
      i.name === 'fp64_in' ? { name: i.name, shape: i.shape, datatype: i.datatype, parameters: { binary_data_size: TYPES.fp64.bytes.byteLength } } : i,
    );
    const r = await infer(
      `${url}/identity/infer`,
      { inputs, outputs: [{ name: 'bytes_out' }, { name: 'fp64_out', parameters: { binary_data: true } }, { name: 'bool_out' }] },
      [TYPES.fp64.bytes],
    );
    expect(r.status, r.jsonText).toBe(200);
    const outputs = r.json['outputs'] as { name: string; data?: unknown[] }[];
    expect(outputs.map((o) => o.name)).toEqual(['bytes_out', 'fp64_out', 'bool_out']);
    expect(outputs[0]!.data).toEqual(TYPES.bytes.json);
    expect(outputs[1]!.data).toBeUndefined();
    expect(r.binary.equals(TYPES.fp64.bytes)).toBe(true);
    expect(outputs[2]!.data).toEqual(TYPES.bool.json);
  });

  it('rounds JSON numbers to half precision for FP16', async () => {
    const inputs = jsonInputs().map((i) => (i.name === 'fp16_in' ? { ...i, data: [0.1, 1, 2, 3] } : i));
    const r = await infer(`${url}/identity/infer`, { inputs, outputs: [{ name: 'fp16_out' }] });
    expect((r.json['outputs'] as { data: number[] }[])[0]!.data).toEqual([0.0999755859375, 1, 2, 3]);
  });

  it.each([
    ['uint8_in', [256, 0, 0, 0], /element 0 \(256\) is not a UINT8 value/],
    ['int8_in', [1.5, 0, 0, 0], /not a INT8 value/],
    ['int64_in', ['12x', 0, 0, 0], /not an integer/],
    ['uint64_in', [-1, 0, 0, 0], /out of range for UINT64/],
    ['bool_in', [2, 0, 0, 0], /not a BOOL value/],
    ['bytes_in', [1, 'a', 'b', 'c'], /not a string/],
  ])('refuses %s = %j with 400', async (name, data, message) => {
    const inputs = jsonInputs().map((i) => (i.name === name ? { ...i, data } : i));
    const r = await infer(`${url}/identity/infer`, { inputs });
    expect(r.status).toBe(400);
    expect(r.json['error']).toMatch(message);
  });

  it('stacks concurrent requests along the first dimension into one run and splits the answers back', async () => {
    const version = server.gateway.registry.resolve('identity_batch');
    const batchesBefore = version.statistics.executionCount;
    const runs: { mode: string; value: number }[] = [];
    const onMetrics = (entries: { name: string; value: number; labels: Record<string, string> }[]): void => {
      for (const e of entries) if (e.name === 'onnx_tensor_runs_total') runs.push({ mode: e.labels['mode']!, value: e.value });
    };
    version.pool.on('metrics', onMetrics);
    const rowsPerRequest = [1, 2, 3, 1];
    const requests = rowsPerRequest.map((rows, r) => ({
      id: `r${r}`,
      inputs: PREFIXES.map((p) => {
        const count = rows * 2;
        const datatype = TYPES[p].datatype;
        const data = Array.from({ length: count }, (_, k) =>
          datatype === 'BOOL' ? (r + k) % 2 === 0 : datatype === 'BYTES' ? `r${r}-${k}` : (r * 10 + k) % 100,
        );
        return { name: `${p}_in`, shape: [rows, 2], datatype, data };
      }),
    }));
    const answers = await Promise.all(requests.map((req) => infer(`${url}/identity_batch/infer`, req)));
    expect(version.statistics.executionCount - batchesBefore).toBe(1);
    // The worker reports its session runs right after the answers of the batch.
    await waitFor(() => runs.length > 0, 5000, 'the batch metrics');
    version.pool.off('metrics', onMetrics);
    expect(runs).toEqual([{ mode: 'stacked', value: 1 }]);
    expect(version.statistics.batchStats().map((b) => b.batchSize)).toContain(4);
    answers.forEach((answer, r) => {
      expect(answer.status, answer.jsonText).toBe(200);
      expect(answer.json['id']).toBe(`r${r}`);
      const outputs = answer.json['outputs'] as { name: string; shape: number[]; data: unknown[] }[];
      for (const input of requests[r]!.inputs) {
        const out = outputs.find((o) => o.name === input.name.replace(/_in$/, '_out'))!;
        expect(out.shape).toEqual(input.shape);
        expect(out.data, `${input.name} of request ${r}`).toEqual(input.data);
      }
    });
  });

  it('refuses non-tensor bodies on the TorchServe route with a clear 400', async () => {
    const res = await fetch(`${server.url}/predictions/identity`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/takes tensors/);
  });
});
