import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDuplexStream, Metadata } from '@grpc/grpc-js';
import { bearer, collect, grpcClient, grpcStatus, metadata, unary, unaryError, type GrpcClient } from './helpers/grpc-client.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * Token authorization on gRPC: metadata `authorization: Bearer <key>`, the inference key on the
 * inference services, the management key on management (and on the repository's load and unload);
 * probes are open. Registration is off (enable_model_api=false) here.
 */
let server: TestServer;
let ts: GrpcClient;
let oip: GrpcClient;
let mgmt: GrpcClient;
let keys: { inference: string; management: string };

beforeAll(async () => {
  const store = await tempDir();
  const dir = await tempDir('ms-keys-');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['probe.mar'], config: { disable_token_authorization: false, token_key_file: join(dir, 'key_file.json') } });
  keys = { inference: server.gateway.tokens!.key('inference'), management: server.gateway.tokens!.key('management') };
  ts = grpcClient('torchServeInference', server.grpc);
  oip = grpcClient('openInference', server.grpc);
  mgmt = grpcClient('torchServeManagement', server.grpcManagement);
});
afterAll(async () => {
  for (const c of [ts, oip, mgmt]) c?.close();
  await server?.stop();
});

const predict = { model_name: 'probe', input: { data: Buffer.from('{"op":"echo"}') } };
const infer = { model_name: 'probe', inputs: [{ name: 'x', datatype: 'UINT8', shape: [1] }], raw_input_contents: [Buffer.from([1])] };
const refused = 'Token Authorization failed. Token either incorrect, expired, or not provided correctly';

describe('gRPC token authorization', () => {
  it('leaves the probes open: Ping, ServerLive, ServerReady, ModelReady, Health/Check', async () => {
    expect(await unary(ts, 'Ping', {})).toEqual({ health: expect.stringContaining('Healthy') });
    expect(await unary(oip, 'ServerLive', {})).toEqual({ live: true });
    expect(await unary(oip, 'ServerReady', {})).toEqual({ ready: true });
    expect(await unary(oip, 'ModelReady', { name: 'probe' })).toEqual({ ready: true });
    const health = grpcClient('health', server.grpc);
    expect(await unary(health, 'Check', {})).toEqual({ status: 'SERVING' });
    health.close();
  });

  it('refuses inference without the inference key with UNAUTHENTICATED, and serves it with the key', async () => {
    const wrong: Metadata[] = [metadata(), bearer('wrong'), bearer(keys.management), metadata({ authorization: keys.inference })];
    for (const meta of wrong) {
      for (const [client, rpc, request] of [[ts, 'Predictions', predict], [oip, 'ModelInfer', infer], [oip, 'ModelMetadata', { name: 'probe' }], [oip, 'ServerMetadata', {}], [oip, 'RepositoryIndex', {}]] as const) {
        const err = await unaryError(client, rpc, request, meta);
        expect([err.code, err.details], rpc).toEqual([grpcStatus.UNAUTHENTICATED, refused]);
      }
    }
    expect(JSON.parse((await unary<{ prediction: Buffer }>(ts, 'Predictions', predict, bearer(keys.inference))).prediction.toString())).toMatchObject({ op: 'echo' });
    expect(await unary(oip, 'ModelMetadata', { name: 'probe' }, bearer(keys.inference))).toMatchObject({ name: 'probe' });
  });

  it('refuses streams without the key before reading any request', async () => {
    const stream = await collect(ts['StreamPredictions']!(predict, metadata()) as never);
    expect([stream.messages, stream.error?.code]).toEqual([[], grpcStatus.UNAUTHENTICATED]);
    for (const [client, rpc] of [[ts, 'StreamPredictions2'], [oip, 'ModelStreamInfer']] as const) {
      const call = client[rpc]!(bearer(keys.management)) as ClientDuplexStream<unknown, unknown>;
      const done = collect(call);
      call.write(rpc === 'ModelStreamInfer' ? infer : { ...predict, sequence_id: 's' });
      const { messages, error } = await done;
      expect([messages, error?.code], rpc).toEqual([[], grpcStatus.UNAUTHENTICATED]);
    }
  });

  it('takes only the management key on the management service and the repository load and unload', async () => {
    for (const meta of [metadata(), bearer(keys.inference)]) {
      expect((await unaryError(mgmt, 'ListModels', {}, meta)).code).toBe(grpcStatus.UNAUTHENTICATED);
      expect((await unaryError(oip, 'RepositoryModelLoad', { model_name: 'probe' }, meta)).code).toBe(grpcStatus.UNAUTHENTICATED);
      expect((await unaryError(oip, 'RepositoryModelUnload', { model_name: 'probe' }, meta)).code).toBe(grpcStatus.UNAUTHENTICATED);
    }
    expect(JSON.parse((await unary<{ msg: string }>(mgmt, 'ListModels', {}, bearer(keys.management))).msg)).toMatchObject({ models: [{ modelName: 'probe' }] });
  });

  it('answers PERMISSION_DENIED for registration while the model API is off, as TorchServe', async () => {
    const disabled = expect.stringContaining('Registering and unregistering models is disabled');
    for (const [client, rpc, request] of [
      [mgmt, 'RegisterModel', { url: 'probe.mar' }],
      [mgmt, 'UnregisterModel', { model_name: 'probe' }],
      [oip, 'RepositoryModelLoad', { model_name: 'probe' }],
      [oip, 'RepositoryModelUnload', { model_name: 'probe' }],
    ] as const) {
      const err = await unaryError(client, rpc, request, bearer(keys.management));
      expect([err.code, err.details], rpc).toEqual([grpcStatus.PERMISSION_DENIED, disabled]);
    }
    expect(server.gateway.registry.find('probe')).toBeDefined();
  });
});
