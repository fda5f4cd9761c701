import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { collect, grpcClient, grpcStatus, metadata, unary, unaryError, type GrpcClient } from './helpers/grpc-client.js';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

/**
 * TorchServe's gRPC inference API (org.pytorch.serve.grpc.inference.InferenceAPIsService) through a real
 * grpc-js client built from the server's own .proto files, against real workers running the probe handler.
 */
let server: TestServer;
let client: GrpcClient;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\nbatchSize: 1\n' });
  // Two requests, whatever API they came through, leave together as one batch.
  await buildModel(store, { name: 'pair', config: 'minWorkers: 1\nbatchSize: 2\nmaxBatchDelay: 5000\n' });
  server = await startServer({ store, models: ['probe.mar', 'pair.mar'] });
  client = grpcClient('torchServeInference', server.grpc);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const op = (body: Record<string, unknown>): { data: Buffer } => ({ data: Buffer.from(JSON.stringify(body)) });
const json = (r: { prediction: Buffer }): Record<string, unknown> => JSON.parse(r.prediction.toString()) as Record<string, unknown>;
const predict = (request: Record<string, unknown>, meta = metadata()) => unary<{ prediction: Buffer }>(client, 'Predictions', request, meta);

describe('Ping', () => {
  it("answers TorchServe's pretty-printed health JSON", async () => {
    const r = await unary<{ health: string }>(client, 'Ping', {});
    expect(r.health).toBe('{\n  "status": "Healthy"\n}');
  });
});

describe('Predictions', () => {
  it('runs the default version on the input map, each entry one named input', async () => {
    const r = json(await predict({ model_name: 'probe', input: { ...op({ op: 'echo', value: 7 }), extra: Buffer.from([1, 2, 3]) } }));
    expect(r).toMatchObject({ op: 'echo', value: 7, batchSize: 1 });
    expect(r['inputs']).toEqual([
      { name: 'data', contentType: 'application/octet-stream', size: 23, text: '{"op":"echo","value":7}' },
      { name: 'extra', contentType: 'application/octet-stream', size: 3, text: '\u0001\u0002\u0003' },
    ]);
  });

  it('gives the handler a gateway-issued request id and the metadata as request headers, without the credentials', async () => {
    const r = await predict({ model_name: 'probe', input: op({ op: 'headers' }) }, metadata({ 'x-tag': 'from-grpc', authorization: 'Bearer secret' }));
    const headers = json(r);
    expect(headers).toMatchObject({ 'x-tag': 'from-grpc', explain: 'False' });
    expect(headers['authorization']).toBeUndefined();
    const echo = json(await predict({ model_name: 'probe', input: op({ op: 'echo' }) }));
    expect(echo['requestId']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('runs the version asked for', async () => {
    const r = await predict({ model_name: 'probe', model_version: '1.0', input: op({ op: 'echo' }) });
    expect(json(r)['op']).toBe('echo');
  });

  it('answers raw bytes as they are (no JSON, no content type)', async () => {
    const r = await predict({ model_name: 'probe', input: op({ op: 'large', n: 5 }) });
    expect([...r.prediction]).toEqual([0, 0, 0, 0, 0]);
  });

  it('shares a batch with an HTTP request to the same model', async () => {
    const [grpcAnswer, httpAnswer] = await Promise.all([predict({ model_name: 'pair', input: op({ op: 'echo', value: 'grpc' }) }), postJson(`${server.url}/predictions/pair`, { op: 'echo', value: 'http' })]);
    expect(json(grpcAnswer)).toMatchObject({ value: 'grpc', batchSize: 2 });
    expect(httpAnswer.json).toMatchObject({ value: 'http', batchSize: 2 });
  });

  it('maps refusals and failures to gRPC codes with the catalog message', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{ model_name: 'nope', input: op({}) }, grpcStatus.NOT_FOUND, /Model not found: nope/],
      [{ model_name: 'probe', model_version: '9', input: op({}) }, grpcStatus.NOT_FOUND, /Model version: 9 does not exist for model: probe/],
      [{ model_name: '', input: op({}) }, grpcStatus.INVALID_ARGUMENT, /Parameter model_name is required\./],
      [{ model_name: 'probe', input: op({ op: 'throw', message: 'kaboom' }) }, grpcStatus.INTERNAL, /kaboom/],
      [{ model_name: 'probe', input: op({ op: 'prediction-error', message: 'not a digit', status: 400 }) }, grpcStatus.INVALID_ARGUMENT, /not a digit/],
      [{ model_name: 'probe', input: op({ op: 'prediction-error', message: 'busy', status: 503 }) }, grpcStatus.UNAVAILABLE, /busy/],
      [{ model_name: 'probe', input: op({ op: 'set-response', status: 404 }) }, grpcStatus.NOT_FOUND, /custom/],
    ];
    for (const [request, code, message] of cases) {
      const err = await unaryError(client, 'Predictions', request);
      expect([err.code, err.details], JSON.stringify(request)).toEqual([code, expect.stringMatching(message)]);
    }
    const err = await unaryError(client, 'Predictions', { model_name: 'nope' });
    expect(err.metadata.get('x-error-code')).toEqual(['MODEL_NOT_FOUND']);
  });
});

describe('StreamPredictions', () => {
  it('sends each intermediate response as one message, then the final one, then OK', async () => {
    const { messages, error } = await collect<{ prediction: Buffer }>(client['StreamPredictions']!({ model_name: 'probe', input: op({ op: 'stream', n: 4, ms: 0 }) }) as never);
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.prediction.toString())).toEqual(['chunk-0', 'chunk-1', 'chunk-2', 'chunk-3', 'done']);
  });

  it('sends a handler that does not stream as one message', async () => {
    const { messages, error } = await collect<{ prediction: Buffer }>(client['StreamPredictions']!({ model_name: 'probe', input: op({ op: 'echo' }) }) as never);
    expect(error).toBeUndefined();
    expect(messages.map((m) => json(m)['op'])).toEqual(['echo']);
  });

  it('ends with the error status when the handler fails after streaming started', async () => {
    const { messages, error } = await collect<{ prediction: Buffer }>(client['StreamPredictions']!({ model_name: 'probe', input: op({ op: 'stream', n: 2, ms: 0, message: 'broke mid-stream' }) }) as never);
    expect(messages.map((m) => m.prediction.toString())).toEqual(['chunk-0', 'chunk-1']);
    expect([error?.code, error?.details]).toEqual([grpcStatus.INTERNAL, 'broke mid-stream']);
  });

  it('ends with NOT_FOUND before any message for an unknown model', async () => {
    const { messages, error } = await collect(client['StreamPredictions']!({ model_name: 'nope', input: op({}) }) as never);
    expect(messages).toEqual([]);
    expect(error?.code).toBe(grpcStatus.NOT_FOUND);
  });
});

interface Tagged {
  prediction: Buffer;
  sequence_id?: string;
  status?: { code: number; message: string; details: { type_url: string; value: Buffer }[] };
}

describe('StreamPredictions2', () => {
  function open(): { call: ClientDuplexStream<unknown, Tagged>; done: Promise<{ messages: Tagged[]; error: ServiceError | undefined }> } {
    const call = client['StreamPredictions2']!() as ClientDuplexStream<unknown, Tagged>;
    return { call, done: collect(call) };
  }

  it('answers many requests on one stream, each tagged with its sequence_id, and ends with OK after the client half-closes', async () => {
    const { call, done } = open();
    for (const id of ['seq-a', 'seq-b', 'seq-c']) call.write({ model_name: 'probe', sequence_id: id, input: op({ op: 'headers' }) });
    call.end();
    const { messages, error } = await done;
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.sequence_id).sort()).toEqual(['seq-a', 'seq-b', 'seq-c']);
    // The handler sees the sequence id as TorchServe's request header.
    for (const m of messages) expect(json(m)['ts_request_sequence_id']).toBe(m.sequence_id);
  });

  it('answers errors in band, with the mapped code and an ErrorInfo, and carries on', async () => {
    const { call, done } = open();
    call.write({ model_name: 'probe', input: op({ op: 'echo' }) });
    call.write({ model_name: 'nope', sequence_id: 's-unknown', input: op({}) });
    call.write({ model_name: 'probe', sequence_id: 's-throw', input: op({ op: 'throw', message: 'in band' }) });
    call.write({ model_name: 'probe', sequence_id: 's-ok', input: op({ op: 'echo', value: 'after errors' }) });
    call.end();
    const { messages, error } = await done;
    expect(error).toBeUndefined();
    const missing = messages.find((m) => m.sequence_id === undefined)!;
    expect(missing.status).toMatchObject({ code: grpcStatus.INVALID_ARGUMENT, message: 'Parameter sequenceId is required.' });
    expect(missing.status!.details[0]!.type_url).toBe('type.googleapis.com/google.rpc.ErrorInfo');
    expect(missing.status!.details[0]!.value.toString()).toContain('BadRequestException');
    const byId = new Map(messages.filter((m) => m.sequence_id).map((m) => [m.sequence_id, m]));
    expect(byId.get('s-unknown')!.status).toMatchObject({ code: grpcStatus.NOT_FOUND, message: 'Model not found: nope' });
    expect(byId.get('s-throw')!.status).toMatchObject({ code: grpcStatus.INTERNAL, message: 'in band' });
    expect(byId.get('s-ok')!.status).toBeUndefined();
    expect(json(byId.get('s-ok')!)['value']).toBe('after errors');
  });

  it('streams a streaming handler: every chunk on the stream, tagged', async () => {
    const { call, done } = open();
    call.write({ model_name: 'probe', sequence_id: 'streamed', input: op({ op: 'stream', n: 3, ms: 0 }) });
    call.end();
    const { messages } = await done;
    expect(messages.map((m) => [m.sequence_id, m.prediction.toString()])).toEqual([
      ['streamed', 'chunk-0'],
      ['streamed', 'chunk-1'],
      ['streamed', 'chunk-2'],
      ['streamed', 'done'],
    ]);
  });

  it('ends at once with OK when the client half-closes without requests', async () => {
    const { call, done } = open();
    call.end();
    expect(await done).toEqual({ messages: [], error: undefined });
  });
});
