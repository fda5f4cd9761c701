import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcClient, grpcStatus, unary, unaryError, type GrpcClient } from './helpers/grpc-client.js';
import { buildModel, ROOT, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/**
 * TorchServe's gRPC management API (org.pytorch.serve.grpc.management.ManagementAPIsService) on the gRPC
 * management port: the REST management API's functions, rules and messages, with gRPC's defaults
 * (a zero value is "not given"; registration and scaling are asynchronous unless asked).
 */
let server: TestServer;
let client: GrpcClient;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'batchSize: 1\n' });
  const v2 = await tempDir();
  await buildModel(v2, { name: 'probe', version: '2.0', config: 'batchSize: 1\n' });
  await copyFile(join(v2, 'probe.mar'), join(store, 'probe_v2.mar'));
  await buildModel(store, { name: 'listed' });
  await buildModel(store, { name: 'later' });
  await buildModel(store, { name: 'broken', handler: join(ROOT, 'test', 'fixtures', 'broken', 'handler.ts'), config: 'maxRetryTimeoutInSec: 0\n' });
  server = await startServer({ store, models: ['probe.mar', 'listed.mar'], config: { enable_model_api: true } });
  client = grpcClient('torchServeManagement', server.grpcManagement);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const msg = async (rpc: string, request: Record<string, unknown>): Promise<string> => (await unary<{ msg: string }>(client, rpc, request)).msg;
const describeModel = async (request: Record<string, unknown>) => JSON.parse(await msg('DescribeModel', request)) as Record<string, unknown>[];

describe('ListModels', () => {
  it('lists models in name order as pretty-printed JSON, paged; limit 0 means the default page', async () => {
    const all = await msg('ListModels', {});
    expect(all).toContain('\n  "models": [');
    expect(JSON.parse(all)).toEqual({ models: [{ modelName: 'listed', modelUrl: 'listed.mar' }, { modelName: 'probe', modelUrl: 'probe.mar' }] });
    expect(JSON.parse(await msg('ListModels', { limit: 1 }))).toEqual({ nextPageToken: '1', models: [{ modelName: 'listed', modelUrl: 'listed.mar' }] });
    expect(JSON.parse(await msg('ListModels', { limit: 1, next_page_token: 1 }))).toEqual({ models: [{ modelName: 'probe', modelUrl: 'probe.mar' }] });
    expect(JSON.parse(await msg('ListModels', { limit: 0 }))['models']).toHaveLength(2);
  });
});

describe('DescribeModel', () => {
  it("describes the default version as the REST API does, and refuses what does not exist", async () => {
    const [probe] = await describeModel({ model_name: 'probe' });
    expect(probe).toMatchObject({ modelName: 'probe', modelVersion: '1.0', modelUrl: 'probe.mar', minWorkers: 1, batchSize: 1, loadedAtStartup: true });
    expect(probe!['workers']).toEqual([expect.objectContaining({ status: 'READY' })]);
    expect((await unaryError(client, 'DescribeModel', { model_name: 'nope' })).code).toBe(grpcStatus.NOT_FOUND);
    expect((await unaryError(client, 'DescribeModel', { model_name: 'probe', model_version: '7.0' })).code).toBe(grpcStatus.NOT_FOUND);
    const empty = await unaryError(client, 'DescribeModel', {});
    expect([empty.code, empty.details]).toEqual([grpcStatus.INVALID_ARGUMENT, 'Parameter model_name is required.']);
  });
});

describe('RegisterModel, SetDefault, ScaleWorker, UnregisterModel', () => {
  it('registers a version synchronously when asked, with TorchServe\'s message', async () => {
    expect(await msg('RegisterModel', { url: 'probe_v2.mar', initial_workers: 1, synchronous: true })).toBe('Model "probe" Version: 2.0 registered with 1 initial workers');
    expect((await describeModel({ model_name: 'probe', model_version: 'all' })).map((d) => d['modelVersion'])).toEqual(['1.0', '2.0']);
  });

  it('registers asynchronously by default (gRPC\'s default, unlike REST\'s)', async () => {
    expect(await msg('RegisterModel', { url: 'later.mar' })).toBe('Processing worker updates...');
    await waitFor(() => server.gateway.registry.find('later')?.pool.liveCount === 1, 10_000, 'the async registration');
  });

  it('refuses a bad registration with the mapped code', async () => {
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{}, grpcStatus.INVALID_ARGUMENT, /^Parameter url is required\.$/],
      [{ url: 'absent.mar' }, grpcStatus.NOT_FOUND, /absent\.mar/],
      [{ url: 'probe_v2.mar', synchronous: true }, grpcStatus.ALREADY_EXISTS, /Model version 2\.0 is already registered for model probe/],
      [{ url: 'listed.mar', model_name: 'bad name!' }, grpcStatus.INVALID_ARGUMENT, /Invalid model name/],
      [{ url: 'listed.mar', model_name: 'other', runtime: 'python' }, grpcStatus.INVALID_ARGUMENT, /Invalid RuntimeType value: python/],
      [{ url: 'broken.mar', initial_workers: 1, synchronous: true }, grpcStatus.INTERNAL, /Failed to start workers for model broken/],
    ];
    for (const [request, code, message] of cases) {
      const err = await unaryError(client, 'RegisterModel', request);
      expect([err.code, err.details], JSON.stringify(request)).toEqual([code, expect.stringMatching(message)]);
    }
    expect(server.gateway.registry.find('broken')).toBeUndefined();
  });

  it('sets the default version', async () => {
    expect(await msg('SetDefault', { model_name: 'probe', model_version: '2.0' })).toBe('Default version successfully updated for model "probe" to "2.0"');
    expect((await describeModel({ model_name: 'probe' }))[0]!['modelVersion']).toBe('2.0');
    expect((await unaryError(client, 'SetDefault', { model_name: 'probe', model_version: '9.9' })).code).toBe(grpcStatus.NOT_FOUND);
    expect((await unaryError(client, 'SetDefault', { model_name: 'probe' })).code).toBe(grpcStatus.INVALID_ARGUMENT);
  });

  it('scales workers synchronously when asked, and refuses max < min', async () => {
    expect(await msg('ScaleWorker', { model_name: 'probe', model_version: '1.0', min_worker: 2, max_worker: 2, synchronous: true })).toBe('Workers scaled to 2 for model: probe, version: 1.0');
    expect((await describeModel({ model_name: 'probe', model_version: '1.0' }))[0]!['workers']).toHaveLength(2);
    const err = await unaryError(client, 'ScaleWorker', { model_name: 'probe', min_worker: 3, max_worker: 2 });
    expect([err.code, err.details]).toEqual([grpcStatus.INVALID_ARGUMENT, 'max_worker cannot be less than min_worker.']);
    expect(await msg('ScaleWorker', { model_name: 'listed' })).toBe('Processing worker updates...');
  });

  it("unregisters, refusing the default version while others exist, as REST", async () => {
    const err = await unaryError(client, 'UnregisterModel', { model_name: 'probe', model_version: '2.0' });
    expect([err.code, err.details]).toEqual([grpcStatus.PERMISSION_DENIED, 'Cannot remove default version for model probe']);
    expect(await msg('UnregisterModel', { model_name: 'probe', model_version: '1.0' })).toBe('Model "probe" unregistered');
    expect(await msg('UnregisterModel', { model_name: 'later' })).toBe('Model "later" unregistered');
    expect((await unaryError(client, 'UnregisterModel', { model_name: 'later' })).code).toBe(grpcStatus.NOT_FOUND);
    expect(JSON.parse(await msg('ListModels', {}))['models'].map((m: { modelName: string }) => m.modelName)).toEqual(['listed', 'probe']);
  });
});
