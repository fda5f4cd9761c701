import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDuplexStream, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { collect, grpcClient, grpcStatus, metadata, unary, unaryError, type GrpcClient } from './helpers/grpc-client.js';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { join } from 'node:path';

/**
 * What a gRPC call does to the work behind it: cancellation and deadlines free the worker (a queued job
 * is dropped and never runs, a running one is aborted in the handler), limits refuse without harm,
 * streams are bounded for slow readers, and bad bytes never take anything down.
 */
const MAX_REQUEST = 64 * 1024;
const MAX_RESPONSE = 100_000;

/** The probe handler under the settings each test needs (model-config.yaml). */
const PROBES: Record<string, string> = {
  probe: 'minWorkers: 1\nbatchSize: 1\n',
  // Two requests leave as one batch.
  pair: 'minWorkers: 1\nbatchSize: 2\nmaxBatchDelay: 5000\n',
  tiny: 'minWorkers: 1\nbatchSize: 1\njobQueueSize: 1\n',
  idle: 'minWorkers: 0\n',
};

let server: TestServer;
let client: GrpcClient;

beforeAll(async () => {
  const store = await tempDir();
  for (const [name, config] of Object.entries(PROBES)) await buildModel(store, { name, config });
  await buildModel(store, { name: 'echo', handler: join(ROOT, 'test', 'fixtures', 'tensor-echo', 'handler.ts'), config: 'minWorkers: 1\n' });
  server = await startServer({
    store,
    models: ['probe.mar', 'pair.mar', 'tiny.mar', 'idle.mar', 'echo.mar'],
    config: { max_request_size: MAX_REQUEST, max_response_size: MAX_RESPONSE, stream_max_buffered_chunks: 4 },
    cancelGraceMs: 400,
  });
  client = grpcClient('torchServeInference', server.grpc);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const version = (model = 'probe') => server.gateway.registry.resolve(model);
const busy = (model = 'probe') => waitFor(() => version(model).pool.idleWorker() === undefined, 5000, 'a busy worker');
const input = (body: Record<string, unknown>) => ({ data: Buffer.from(JSON.stringify(body)) });
const tagged = (tag: string) => metadata({ 'x-tag': tag });

interface Report {
  cancelled: string[];
  seen: string[];
  pid: number;
}
async function report(model = 'probe'): Promise<Report> {
  const r = await postJson(`${server.url}/predictions/${model}`, { op: 'cancelled' });
  expect(r.status).toBe(200);
  return r.json as unknown as Report;
}

/** Starts a unary Predictions call and returns it (for cancel()) with its outcome. */
function start(model: string, body: Record<string, unknown>, meta = metadata(), deadlineMs?: number) {
  let call: { cancel(): void } | undefined;
  const outcome = new Promise<ServiceError | Buffer>((resolve) => {
    const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    call = client['Predictions']!({ model_name: model, input: input(body) }, meta, options, (err: ServiceError | null, r: { prediction: Buffer }) => resolve(err ?? r.prediction)) as { cancel(): void };
  });
  return { call: call!, outcome };
}

describe('cancellation', () => {
  it('cancels a running batch request by request; once all are cancelled the worker is free and serves the next', async () => {
    const a = start('pair', { op: 'hang' }, tagged('batch-a'));
    const b = start('pair', { op: 'hang' }, tagged('batch-b'));
    const [worker] = [...version('pair').pool.workers];
    const pid = worker!.pid;
    await waitFor(() => worker!.inFlightCount === 2, 5000, 'the batch of two to run');
    a.call.cancel();
    expect(((await a.outcome) as ServiceError).code).toBe(grpcStatus.CANCELLED);
    b.call.cancel();
    expect(((await b.outcome) as ServiceError).code).toBe(grpcStatus.CANCELLED);
    await waitFor(() => worker!.inFlightCount === 0, 5000, 'the worker to be free');
    // The report (a batch of two: the op of the first decides) runs on the same worker: it was freed, not replaced.
    const [first, second] = await Promise.all([report('pair'), report('pair')]);
    expect(first.cancelled).toEqual(expect.arrayContaining(['batch-a', 'batch-b']));
    expect([first.pid, second.pid]).toEqual([pid, pid]);
  });

  it('drops a queued request whose call is cancelled, so it never runs', async () => {
    const blocker = postJson(`${server.url}/predictions/probe`, { op: 'sleep', ms: 500 });
    await busy();
    const queued = start('probe', { op: 'echo' }, tagged('left-while-queued'));
    await waitFor(() => version().queueSize === 1, 5000, 'the request to queue');
    queued.call.cancel();
    expect(((await queued.outcome) as ServiceError).code).toBe(grpcStatus.CANCELLED);
    await waitFor(() => version().queueSize === 0, 5000, 'the queue to drop it');
    await blocker;
    expect((await report()).seen).not.toContain('left-while-queued');
  });

  it('cancels a server stream in the worker when the client cancels mid-stream', async () => {
    const call = client['StreamPredictions']!({ model_name: 'probe', input: input({ op: 'stream', n: 10_000, ms: 10 }) }, tagged('stream-cancelled')) as ClientReadableStream<{ prediction: Buffer }>;
    const done = collect(call);
    await new Promise((resolve) => call.once('data', resolve));
    call.cancel();
    expect((await done).error?.code).toBe(grpcStatus.CANCELLED);
    expect((await report()).cancelled).toContain('stream-cancelled');
  });

  it('cancels every request of a bidirectional stream when the client cancels it: the running one in the worker, the queued one never runs', async () => {
    const before = await report();
    const call = client['StreamPredictions2']!(metadata()) as ClientDuplexStream<unknown, unknown>;
    const done = collect(call);
    call.write({ model_name: 'probe', sequence_id: 'one', input: input({ op: 'hang' }) });
    await busy();
    // The second waits in the queue behind the first (one worker, batches of one).
    call.write({ model_name: 'probe', sequence_id: 'two', input: input({ op: 'echo' }) });
    await waitFor(() => version().queueSize === 1, 5000, 'the second request to queue');
    call.cancel();
    expect((await done).error?.code).toBe(grpcStatus.CANCELLED);
    // The handler tags untagged requests by their (gateway-issued) request id: since the last report it
    // saw the hanging request, then this report; the queued one never ran.
    const after = await report();
    const fresh = after.seen.slice(before.seen.length);
    expect(fresh).toHaveLength(2);
    expect(after.cancelled).toContain(fresh[0]);
  });
});

describe('deadlines', () => {
  it('answers DEADLINE_EXCEEDED for a request whose deadline passes in the queue, drops it at once and never runs it', async () => {
    const blocker = postJson(`${server.url}/predictions/probe`, { op: 'sleep', ms: 800 });
    await busy();
    const t0 = performance.now();
    const expired = start('probe', { op: 'echo' }, tagged('expired-in-queue'), 150);
    expect(((await expired.outcome) as ServiceError).code).toBe(grpcStatus.DEADLINE_EXCEEDED);
    // Dropped from the queue while the worker is still busy with the blocker: the slot is free at once.
    await waitFor(() => version().queueSize === 0, 1000, 'the expired request to leave the queue');
    expect(performance.now() - t0).toBeLessThan(700);
    await blocker;
    expect((await report()).seen).not.toContain('expired-in-queue');
  });

  it('aborts a running request past its deadline in the handler, and keeps the worker', async () => {
    const before = await report();
    const r = start('probe', { op: 'hang' }, tagged('expired-running'), 300);
    expect(((await r.outcome) as ServiceError).code).toBe(grpcStatus.DEADLINE_EXCEEDED);
    await waitFor(async () => (await report()).cancelled.includes('expired-running'), 5000, 'the handler to see its abort');
    expect((await report()).pid).toBe(before.pid);
  });

  it('takes a shorter x-request-timeout-ms from the metadata over the call deadline', async () => {
    const t0 = performance.now();
    const r = start('probe', { op: 'hang' }, metadata({ 'x-request-timeout-ms': '150' }), 10_000);
    const err = (await r.outcome) as ServiceError;
    expect([err.code, err.details]).toEqual([grpcStatus.DEADLINE_EXCEEDED, expect.stringContaining('exceeded its deadline of 150 ms while running')]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('capacity and priorities', () => {
  it('answers UNAVAILABLE at once when the queue is full or the model has no worker', async () => {
    const blocker = postJson(`${server.url}/predictions/tiny`, { op: 'sleep', ms: 500 });
    await busy('tiny');
    const queued = start('tiny', { op: 'echo' });
    await waitFor(() => version('tiny').queueSize === 1, 5000, 'the queue to fill');
    const full = await unaryError(client, 'Predictions', { model_name: 'tiny', input: input({}) });
    expect([full.code, full.details]).toEqual([grpcStatus.UNAVAILABLE, expect.stringContaining('too many queued requests')]);
    await Promise.all([blocker, queued.outcome]);
    const none = await unaryError(client, 'Predictions', { model_name: 'idle', input: input({}) });
    expect([none.code, none.details]).toEqual([grpcStatus.UNAVAILABLE, expect.stringContaining('has no worker')]);
  });

  it('serves a higher x-request-priority first', async () => {
    const blocker = postJson(`${server.url}/predictions/probe`, { op: 'sleep', ms: 400 });
    await busy();
    const low = start('probe', { op: 'echo' }, metadata({ 'x-request-priority': '0' }));
    await waitFor(() => version().queueSize === 1, 5000, 'the first to queue');
    const high = start('probe', { op: 'echo' }, metadata({ 'x-request-priority': '5' }));
    await waitFor(() => version().queueSize === 2, 5000, 'the second to queue');
    await blocker;
    const seq = async (p: Promise<ServiceError | Buffer>) => (JSON.parse(((await p) as Buffer).toString()) as { seq: number }).seq;
    expect(await seq(high.outcome)).toBeLessThan(await seq(low.outcome));
  });
});

describe('limits', () => {
  it('refuses a message over max_request_size with RESOURCE_EXHAUSTED and carries on', async () => {
    const err = await unaryError(client, 'Predictions', { model_name: 'probe', input: { data: Buffer.alloc(MAX_REQUEST + 1) } });
    expect(err.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    // Huge repeated fields are bounded the same way, before anything is decoded.
    const oip = grpcClient('openInference', server.grpc);
    const shape = await unaryError(oip, 'ModelInfer', { model_name: 'echo', inputs: [{ name: 'x', datatype: 'UINT8', shape: new Array(MAX_REQUEST + 1).fill(1) }], raw_input_contents: [Buffer.from([1])] });
    expect(shape.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    oip.close();
    expect((await unary<{ prediction: Buffer }>(client, 'Predictions', { model_name: 'probe', input: input({ op: 'echo' }) })).prediction.length).toBeGreaterThan(0);
  });

  it('refuses an answer over max_response_size with RESOURCE_EXHAUSTED and keeps the worker', async () => {
    const before = await report();
    const err = await unaryError(client, 'Predictions', { model_name: 'probe', input: input({ op: 'large', n: MAX_RESPONSE + 1000 }) });
    expect(err.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    expect((await report()).pid).toBe(before.pid);
  });

  it('fails a server stream whose client stops reading once the buffered-chunk bound is passed, and cancels it in the worker', async () => {
    const call = client['StreamPredictions']!({ model_name: 'probe', input: input({ op: 'stream', n: 100_000, size: 32_768, ms: 0 }) }, tagged('slow-reader')) as ClientReadableStream<{ prediction: Buffer }>;
    // Never read: grpc-js stops reading the HTTP/2 stream, flow control holds the server back, and the
    // gateway may buffer only its bound more.
    call.pause();
    // Listening from the start (a paused stream stays paused): the failure may reach the client first.
    const done = collect(call);
    await waitFor(async () => (await report()).cancelled.includes('slow-reader'), 30_000, 'the overflowing stream to be cancelled');
    call.resume();
    const { messages, error } = await done;
    expect([error?.code, error?.details]).toEqual([grpcStatus.RESOURCE_EXHAUSTED, expect.stringContaining('Stream consumer too slow')]);
    // Far fewer than the 100,000 chunks (3.2 GB) the handler wanted to send.
    expect(messages.length).toBeLessThan(1000);
  });
  it('bounds a bidirectional stream whose client stops reading: the streaming request fails in band and is cancelled', async () => {
    const call = client['StreamPredictions2']!(tagged('slow-bidi')) as ClientDuplexStream<unknown, { sequence_id?: string; status?: { code: number; message: string } }>;
    call.pause();
    call.write({ model_name: 'probe', sequence_id: 'big', input: input({ op: 'stream', n: 100_000, size: 32_768, ms: 0 }) });
    const done = collect(call);
    await waitFor(async () => (await report()).cancelled.includes('slow-bidi'), 30_000, 'the overflowing request to be cancelled');
    call.end();
    call.resume();
    const { messages, error } = await done;
    expect(error).toBeUndefined();
    expect(messages.at(-1)).toMatchObject({ sequence_id: 'big', status: { code: grpcStatus.RESOURCE_EXHAUSTED, message: expect.stringContaining('Stream consumer too slow') } });
    expect(messages.length).toBeLessThan(1000);
  });
});

describe('bad input', () => {
  /** Sends raw bytes as the request message, as a broken or hostile client would. */
  function rawUnary(path: string, bytes: Buffer): Promise<ServiceError | Buffer> {
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, (err, r) => resolve(err ?? r!));
    });
  }

  it('answers INVALID_ARGUMENT for bytes that are not the message, on every kind of call, and nothing restarts', async () => {
    const before = await report();
    // A field key whose varint never ends.
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    for (const path of ['/org.pytorch.serve.grpc.inference.InferenceAPIsService/Predictions', '/inference.GRPCInferenceService/ModelInfer', '/inference.GRPCInferenceService/ModelMetadata']) {
      const err = (await rawUnary(path, garbage)) as ServiceError;
      expect([err.code, err.details], path).toEqual([grpcStatus.INVALID_ARGUMENT, expect.stringContaining('Malformed request message')]);
    }
    // On a bidirectional stream the bad message is answered in band and the stream carries on.
    const stream = client.makeBidiStreamRequest('/org.pytorch.serve.grpc.inference.InferenceAPIsService/StreamPredictions2', (b: Buffer) => b, (b: Buffer) => b);
    const done = collect<Buffer>(stream as never);
    stream.write(garbage);
    stream.end();
    const { messages, error } = await done;
    expect(error).toBeUndefined();
    expect(messages).toHaveLength(1);
    expect(messages[0]!.toString()).toContain('Malformed request message');
    expect((await report()).pid).toBe(before.pid);
  });

  it('refuses impossible tensors (shapes whose size overflows, datatypes that do not exist) with INVALID_ARGUMENT', async () => {
    const oip = grpcClient('openInference', server.grpc);
    const cases = [
      { model_name: 'echo', inputs: [{ name: 'x', datatype: 'FP32', shape: [2 ** 40, 2 ** 40] }], raw_input_contents: [Buffer.alloc(4)] },
      { model_name: 'echo', inputs: [{ name: 'x', datatype: 'FP32', shape: [2 ** 40, 2 ** 40], contents: { fp32_contents: [1] } }] },
      { model_name: 'echo', inputs: [{ name: 'x', datatype: 'BYTES', shape: [2] }], raw_input_contents: [Buffer.from([9, 0, 0, 0, 1])] },
      { model_name: 'echo', inputs: [{ name: 'x', datatype: 'x'.repeat(1000), shape: [1] }], raw_input_contents: [Buffer.alloc(1)] },
      { model_name: 'echo', inputs: [{ name: 'x', datatype: 'UINT8', shape: [1] }, { name: 'x', datatype: 'UINT8', shape: [1] }], raw_input_contents: [Buffer.alloc(1), Buffer.alloc(1)] },
    ];
    for (const request of cases) expect((await unaryError(oip, 'ModelInfer', request)).code, JSON.stringify(request).slice(0, 120)).toBe(grpcStatus.INVALID_ARGUMENT);
    oip.close();
  });

  it('accepts gzip-compressed requests', async () => {
    const gzip = grpcClient('torchServeInference', server.grpc, { 'grpc.default_compression_algorithm': 2 });
    const r = await unary<{ prediction: Buffer }>(gzip, 'Predictions', { model_name: 'probe', input: input({ op: 'echo', value: 'x'.repeat(2000) }) });
    expect(JSON.parse(r.prediction.toString())).toMatchObject({ op: 'echo' });
    gzip.close();
  });
});
