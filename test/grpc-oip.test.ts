import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { collect, grpcClient, grpcStatus, metadata, unary, unaryError, type GrpcClient } from './helpers/grpc-client.js';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { bytesOf, bytesTensor } from './helpers/oip-client.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * The Open Inference Protocol's gRPC service (inference.GRPCInferenceService) and grpc.health.v1.Health,
 * through real grpc-js clients built from the server's .proto files: raw tensors (what tritonclient
 * sends) through a real ONNX Runtime session for every datatype, typed contents, streams, Triton's
 * configuration, statistics and repository extensions.
 */
const RAW = {
  bool: { datatype: 'BOOL', bytes: Buffer.from([1, 0, 0, 1]) },
  uint8: { datatype: 'UINT8', bytes: bytesOf(Uint8Array.from([0, 255, 7, 128])) },
  uint16: { datatype: 'UINT16', bytes: bytesOf(Uint16Array.from([0, 65535, 1, 300])) },
  uint32: { datatype: 'UINT32', bytes: bytesOf(Uint32Array.from([0, 4294967295, 1, 70000])) },
  uint64: { datatype: 'UINT64', bytes: bytesOf(BigUint64Array.from([0n, 18446744073709551615n, 1n, 9007199254740993n])) },
  int8: { datatype: 'INT8', bytes: bytesOf(Int8Array.from([-128, 127, 0, -1])) },
  int16: { datatype: 'INT16', bytes: bytesOf(Int16Array.from([-32768, 32767, 0, -1])) },
  int32: { datatype: 'INT32', bytes: bytesOf(Int32Array.from([-2147483648, 2147483647, 0, -1])) },
  int64: { datatype: 'INT64', bytes: bytesOf(BigInt64Array.from([-9223372036854775808n, 9223372036854775807n, 0n, -1n])) },
  fp16: { datatype: 'FP16', bytes: bytesOf(Uint16Array.from([0x3800, 0xc000, 0x7bff, 0x0400])) },
  fp32: { datatype: 'FP32', bytes: bytesOf(Float32Array.from([0.1, -3.25, 1e30, 0])) },
  fp64: { datatype: 'FP64', bytes: bytesOf(Float64Array.from([0.1, -1e300, 5e-324, 2.5])) },
  bytes: { datatype: 'BYTES', bytes: bytesTensor(['héllo', '', '日本語', 'x']) },
} as const;
const PREFIXES = Object.keys(RAW) as (keyof typeof RAW)[];

let server: TestServer;
let oip: GrpcClient;
/** 64-bit integers as decimal strings, to check exactness. */
let exact: GrpcClient;

beforeAll(async () => {
  const store = await tempDir();
  const identity = { handler: 'onnx_generic', serializedFile: join(ROOT, 'examples', 'identity', 'identity.onnx') };
  await buildModel(store, { name: 'identity', ...identity, config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'echo', handler: join(ROOT, 'test', 'fixtures', 'tensor-echo', 'handler.ts'), config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  // In the store, not loaded at start: for the repository extension.
  await buildModel(store, { name: 'spare', handler: join(ROOT, 'test', 'fixtures', 'tensor-echo', 'handler.ts'), config: 'minWorkers: 1\n' });
  server = await startServer({
    store,
    models: ['identity.mar', 'echo.mar', 'probe.mar', `mnist=${join(ROOT, 'model-store', 'mnist.mar')}`],
    config: { enable_model_api: true },
  });
  oip = grpcClient('openInference', server.grpc);
  exact = grpcClient('openInference', server.grpc, {}, 'exact');
});
afterAll(async () => {
  oip?.close();
  exact?.close();
  await server?.stop();
});

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, unknown>;
  outputs: { name: string; datatype: string; shape: number[]; contents: Record<string, unknown[]> | null }[];
  raw_output_contents: Buffer[];
}

const rawRequest = (prefixes = PREFIXES) => ({
  model_name: 'identity',
  id: 'req-1',
  inputs: prefixes.map((p) => ({ name: `${p}_in`, datatype: RAW[p].datatype, shape: [2, 2] })),
  raw_input_contents: prefixes.map((p) => RAW[p].bytes),
});

describe('health and metadata', () => {
  it('answers liveness, readiness, model readiness and server metadata', async () => {
    expect(await unary(oip, 'ServerLive', {})).toEqual({ live: true });
    expect(await unary(oip, 'ServerReady', {})).toEqual({ ready: true });
    expect(await unary(oip, 'ModelReady', { name: 'identity' })).toEqual({ ready: true });
    expect(await unary(oip, 'ModelReady', { name: 'identity', version: '1.0' })).toEqual({ ready: true });
    // A probe: an unknown model is simply not ready.
    expect(await unary(oip, 'ModelReady', { name: 'nope' })).toEqual({ ready: false });
    const meta = await unary<{ name: string; extensions: string[] }>(oip, 'ServerMetadata', {});
    expect(meta.name).toBe('model-server');
    expect(meta.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'model_configuration', 'statistics', 'model_repository']));
  });

  it('describes a model as its ONNX session reports it, and refuses an unknown one with NOT_FOUND', async () => {
    const meta = await unary<{ name: string; versions: string[]; platform: string; inputs: { name: string; datatype: string; shape: number[] }[] }>(oip, 'ModelMetadata', { name: 'identity' });
    expect(meta).toMatchObject({ name: 'identity', versions: ['1.0'], platform: 'onnxruntime_onnx' });
    expect(meta.inputs.map((i) => [i.name, i.datatype, i.shape])).toEqual(PREFIXES.map((p) => [`${p}_in`, RAW[p].datatype, [-1, -1]]));
    const err = await unaryError(oip, 'ModelMetadata', { name: 'nope' });
    expect([err.code, err.details]).toEqual([grpcStatus.NOT_FOUND, 'Model not found: nope']);
  });

  it('serves grpc.health.v1.Health/Check for the server and the services it runs', async () => {
    const health = grpcClient('health', server.grpc);
    for (const service of ['', 'inference.GRPCInferenceService', 'org.pytorch.serve.grpc.inference.InferenceAPIsService']) {
      expect(await unary(health, 'Check', { service })).toEqual({ status: 'SERVING' });
    }
    expect((await unaryError(health, 'Check', { service: 'no.such.Service' })).code).toBe(grpcStatus.NOT_FOUND);
    health.close();
  });
});

describe('ModelInfer', () => {
  it('round-trips every datatype as raw contents through ONNX Runtime, answering in raw_output_contents', async () => {
    const r = await unary<InferResponse>(oip, 'ModelInfer', rawRequest());
    expect(r).toMatchObject({ model_name: 'identity', model_version: '1.0', id: 'req-1' });
    expect(r.outputs.map((o) => [o.name, o.datatype, o.shape, o.contents])).toEqual(PREFIXES.map((p) => [`${p}_out`, RAW[p].datatype, [2, 2], null]));
    expect(r.raw_output_contents.map((b) => b.toString('hex'))).toEqual(PREFIXES.map((p) => RAW[p].bytes.toString('hex')));
  });

  it('answers only the outputs asked for, in the order asked', async () => {
    const r = await unary<InferResponse>(oip, 'ModelInfer', { ...rawRequest(), outputs: [{ name: 'int64_out' }, { name: 'bytes_out' }] });
    expect(r.outputs.map((o) => o.name)).toEqual(['int64_out', 'bytes_out']);
    expect(r.raw_output_contents).toEqual([RAW.int64.bytes, RAW.bytes.bytes]);
  });

  it('takes typed contents and answers typed contents, 64-bit integers exact', async () => {
    const typed = [
      { name: 'b', datatype: 'BOOL', shape: [3], contents: { bool_contents: [true, false, true] } },
      { name: 'u8', datatype: 'UINT8', shape: [2], contents: { uint_contents: [0, 255] } },
      { name: 'u32', datatype: 'UINT32', shape: [2], contents: { uint_contents: [1, 4294967295] } },
      { name: 'u64', datatype: 'UINT64', shape: [2], contents: { uint64_contents: ['18446744073709551615', '9007199254740993'] } },
      { name: 'i16', datatype: 'INT16', shape: [2], contents: { int_contents: [-32768, 32767] } },
      { name: 'i64', datatype: 'INT64', shape: [1, 2], contents: { int64_contents: ['-9223372036854775808', '9223372036854775807'] } },
      { name: 'f32', datatype: 'FP32', shape: [2], contents: { fp32_contents: [0.5, -3.25] } },
      { name: 'f64', datatype: 'FP64', shape: [2], contents: { fp64_contents: [0.1, -1e300] } },
      { name: 's', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('héllo'), Buffer.from('')] } },
    ];
    const r = await unary<InferResponse>(exact, 'ModelInfer', { model_name: 'echo', id: 'typed', inputs: typed });
    expect(r.raw_output_contents).toEqual([]);
    expect(r.id).toBe('typed');
    expect(r.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)])).toEqual(typed.map((t) => [`${t.name}_out`, t.datatype, t.shape]));
    for (const [i, t] of typed.entries()) {
      const [field, values] = Object.entries(t.contents)[0]!;
      expect(r.outputs[i]!.contents![field], t.name).toEqual(values);
    }
  });

  it('answers FP16 (which has no typed form) in raw contents, and refuses it as typed contents', async () => {
    const r = await unary<InferResponse>(oip, 'ModelInfer', { model_name: 'echo', inputs: [{ name: 'h', datatype: 'FP16', shape: [4] }], raw_input_contents: [RAW.fp16.bytes] });
    expect(r.raw_output_contents).toEqual([RAW.fp16.bytes]);
    const err = await unaryError(oip, 'ModelInfer', { model_name: 'echo', inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }] });
    expect([err.code, err.details]).toEqual([grpcStatus.INVALID_ARGUMENT, expect.stringContaining('raw_input_contents')]);
  });

  it('refuses bad tensors with INVALID_ARGUMENT naming the tensor, before any worker sees them', async () => {
    const fp32 = (shape: number[]) => ({ name: 'input', datatype: 'FP32', shape });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model_name: 'mnist', inputs: [fp32([1, 784])], raw_input_contents: [Buffer.alloc(100)] }, /input 'input' has 100 bytes of data but shape \[1,784\] of FP32 needs 3136/],
      [{ model_name: 'mnist', inputs: [fp32([1, 783])], raw_input_contents: [Buffer.alloc(783 * 4)] }, /shape \[1,783\] where the model takes \[-1,784\]/],
      [{ model_name: 'mnist', inputs: [{ ...fp32([1, 784]), datatype: 'FP64' }], raw_input_contents: [Buffer.alloc(784 * 8)] }, /must be FP32, got FP64/],
      [{ model_name: 'mnist', inputs: [{ ...fp32([1, 784]), datatype: 'FLOAT' }], raw_input_contents: [Buffer.alloc(784 * 4)] }, /unknown datatype FLOAT/],
      [{ model_name: 'mnist', inputs: [fp32([1, 784]), fp32([1, 784])], raw_input_contents: [Buffer.alloc(784 * 4)] }, /raw_input_contents has 1 entries for 2 inputs/],
      [{ model_name: 'mnist', inputs: [{ ...fp32([1, 2]), contents: { fp32_contents: [1, 2] } }], raw_input_contents: [Buffer.alloc(8)] }, /contents field must not be specified when using raw_input_contents for 'input'/],
      [{ model_name: 'mnist', inputs: [fp32([1, 784])] }, /unable to find data for input tensor 'input'/],
      [{ model_name: 'mnist', inputs: [{ ...fp32([2]), contents: { int_contents: [1, 2] } }] }, /takes its contents in fp32_contents, not int_contents/],
      [{ model_name: 'mnist', inputs: [{ ...fp32([3]), contents: { fp32_contents: [1, 2] } }] }, /needs 3 elements/],
      [{ model_name: 'mnist', inputs: [{ ...fp32([-1, 784]) }], raw_input_contents: [Buffer.alloc(0)] }, /bad dimension -1/],
      [{ model_name: 'mnist', inputs: [fp32([1, 784])], raw_input_contents: [Buffer.alloc(784 * 4)], outputs: [{ name: 'probabilities' }] }, /unknown output\(s\): probabilities/],
      [{ model_name: 'mnist', inputs: [] }, /no inputs/],
      [rawRequest(PREFIXES.slice(1)), /missing input\(s\): bool_in/],
      [{ model_name: 'echo', inputs: [{ name: 'x', datatype: 'UINT8', shape: [1], parameters: { shared_memory_region: { string_param: 'r' } } }] }, /shared memory is not supported/],
    ];
    for (const [request, message] of cases) {
      const err = await unaryError(oip, 'ModelInfer', request);
      expect([err.code, err.details], JSON.stringify(request).slice(0, 200)).toEqual([grpcStatus.INVALID_ARGUMENT, expect.stringMatching(message)]);
    }
  });

  it("answers NOT_FOUND for an unknown model, and a custom handler's JSON answer as a `predict` output (as REST does)", async () => {
    expect((await unaryError(oip, 'ModelInfer', { model_name: 'nope', inputs: [] })).code).toBe(grpcStatus.NOT_FOUND);
    const r = await unary<InferResponse>(oip, 'ModelInfer', { model_name: 'probe', inputs: [{ name: 'x', datatype: 'UINT8', shape: [1] }], raw_input_contents: [Buffer.from([1])] });
    expect(r.outputs.map((o) => o.name)).toEqual(['predict']);
  });

  it('classifies an mnist digit sent as a raw FP32 tensor', async () => {
    const pixels = new Float32Array(784);
    // A vertical bar: the digit 1.
    for (let y = 4; y < 24; y++) pixels[y * 28 + 14] = pixels[y * 28 + 13] = 1;
    const r = await unary<InferResponse>(oip, 'ModelInfer', { model_name: 'mnist', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [bytesOf(pixels)] });
    const logits = new Float32Array(new Uint8Array(r.raw_output_contents[0]!).buffer);
    expect(r.outputs[0]).toMatchObject({ name: 'logits', datatype: 'FP32', shape: [1, 10] });
    expect(logits.indexOf(Math.max(...logits))).toBe(1);
  });
});

interface StreamResponse {
  error_message: string;
  infer_response: InferResponse | null;
}

describe('ModelStreamInfer', () => {
  it('answers many requests on one stream, ids echoed and marked final; errors arrive in band and the stream carries on', async () => {
    const call = oip['ModelStreamInfer']!() as ClientDuplexStream<unknown, StreamResponse>;
    const done = collect(call);
    call.write({ ...rawRequest(), id: 'first' });
    call.write({ model_name: 'nope', id: 'unknown-model', inputs: [] });
    call.write({ model_name: 'mnist', id: 'bad', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [Buffer.alloc(4)] });
    call.write({ ...rawRequest(['int32']), model_name: 'echo', id: 'last' });
    call.end();
    const { messages, error } = await done;
    expect(error).toBeUndefined();
    const answers = messages.filter((m) => m.infer_response);
    expect(answers.map((m) => m.infer_response!.id).sort()).toEqual(['first', 'last']);
    for (const m of answers) {
      expect(m.error_message).toBe('');
      expect(m.infer_response!.parameters['triton_final_response']).toMatchObject({ bool_param: true });
    }
    expect(messages.filter((m) => m.error_message).map((m) => m.error_message)).toEqual(['Model not found: nope', expect.stringContaining("input 'input'")]);
  });

  it("ends the stream with the error's status when the client opts in with triton_grpc_error", async () => {
    const call = oip['ModelStreamInfer']!(metadata({ triton_grpc_error: 'true' })) as ClientDuplexStream<unknown, StreamResponse>;
    const done = collect(call);
    call.write({ model_name: 'nope', inputs: [] });
    const { messages, error } = await done;
    expect(messages).toEqual([]);
    expect([error?.code, error?.details]).toEqual([grpcStatus.NOT_FOUND, 'Model not found: nope']);
  });
});

describe("Triton's extensions", () => {
  it('reports the model configuration as the ModelConfig message', async () => {
    const { config } = await unary<{ config: Record<string, unknown> }>(oip, 'ModelConfig', { name: 'mnist' });
    expect(config).toMatchObject({ name: 'mnist', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 8 });
    expect(config['input']).toEqual([expect.objectContaining({ name: 'input', data_type: 'TYPE_FP32', dims: [784] })]);
    expect(config['output']).toEqual([expect.objectContaining({ name: 'logits', data_type: 'TYPE_FP32', dims: [10] })]);
    expect(config['dynamic_batching']).toMatchObject({ default_queue_policy: { timeout_action: 'REJECT', max_queue_size: 100 } });
    expect((await unaryError(oip, 'ModelConfig', { name: 'nope' })).code).toBe(grpcStatus.NOT_FOUND);
  });

  it('reports statistics that count gRPC requests', async () => {
    const before = await unary<{ model_stats: { name: string; inference_count: number; execution_count: number }[] }>(oip, 'ModelStatistics', { name: 'echo' });
    await unary(oip, 'ModelInfer', { ...rawRequest(['uint8']), model_name: 'echo' });
    const after = await unary<{ model_stats: { name: string; inference_count: number; inference_stats: { success: { count: number } } }[] }>(oip, 'ModelStatistics', { name: 'echo' });
    expect(after.model_stats[0]!.inference_count).toBe(before.model_stats[0]!.inference_count + 1);
    expect(after.model_stats[0]!.inference_stats.success.count).toBeGreaterThan(0);
    const all = await unary<{ model_stats: { name: string }[] }>(oip, 'ModelStatistics', {});
    expect(all.model_stats.map((s) => s.name).sort()).toEqual(['echo', 'identity', 'mnist', 'probe']);
    expect((await unaryError(oip, 'ModelStatistics', { name: 'nope' })).code).toBe(grpcStatus.NOT_FOUND);
  });

  it('indexes, loads and unloads models of the repository', async () => {
    const index = async (ready = false) => (await unary<{ models: { name: string; state: string; reason: string }[] }>(oip, 'RepositoryIndex', { ready })).models;
    expect(await index()).toContainEqual(expect.objectContaining({ name: 'spare', state: 'UNAVAILABLE', reason: 'unloaded' }));
    expect((await index(true)).map((m) => m.name)).toEqual(['echo', 'identity', 'mnist', 'probe']);

    expect(await unary(oip, 'RepositoryModelLoad', { model_name: 'spare' })).toEqual({});
    expect(await unary(oip, 'ModelReady', { name: 'spare' })).toEqual({ ready: true });
    expect(await index()).toContainEqual(expect.objectContaining({ name: 'spare', state: 'READY' }));
    // Loading a loaded model leaves it as it is.
    expect(await unary(oip, 'RepositoryModelLoad', { model_name: 'spare' })).toEqual({});

    expect(await unary(oip, 'RepositoryModelUnload', { model_name: 'spare', parameters: { unload_dependents: { bool_param: false } } })).toEqual({});
    expect(await unary(oip, 'ModelReady', { name: 'spare' })).toEqual({ ready: false });

    const missing = await unaryError(oip, 'RepositoryModelLoad', { model_name: 'absent' });
    expect([missing.code, missing.details]).toEqual([grpcStatus.NOT_FOUND, expect.stringContaining('absent')]);
    const override = await unaryError(oip, 'RepositoryModelLoad', { model_name: 'spare', parameters: { config: { string_param: '{}' } } });
    expect([override.code, override.details]).toEqual([grpcStatus.INVALID_ARGUMENT, expect.stringContaining('not supported')]);
    expect((await unaryError(oip, 'RepositoryModelUnload', { model_name: 'absent' })).code).toBe(grpcStatus.NOT_FOUND);
  });

  it('answers UNIMPLEMENTED for the optional rpcs it declares but does not serve', async () => {
    const err: ServiceError = await unaryError(oip, 'SystemSharedMemoryStatus', {});
    expect(err.code).toBe(grpcStatus.UNIMPLEMENTED);
  });
});
