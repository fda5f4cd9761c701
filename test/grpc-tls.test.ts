import { readFile } from 'node:fs/promises';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcClient, grpcStatus, unary, unaryError } from './helpers/grpc-client.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';
import { makeCerts } from './helpers/tls-certs.js';

/** enable_grpc_ssl: both gRPC listeners serve TLS with the HTTP listeners' key and certificate. */
let server: TestServer;
let ca: Buffer;

beforeAll(async () => {
  const certs = await makeCerts();
  ca = await readFile(certs.caFile);
  const store = await tempDir();
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  server = await startServer({
    store,
    models: ['probe.mar'],
    config: { enable_grpc_ssl: true, private_key_file: certs.keyFile, certificate_file: certs.certFile },
  });
});
afterAll(() => server?.stop());

describe('gRPC over TLS (enable_grpc_ssl)', () => {
  it('answers a client that verifies the certificate against its CA, on inference and management', async () => {
    const tls = credentials.createSsl(ca);
    const inference = grpcClient('torchServeInference', server.grpc, {}, 'number', tls);
    const management = grpcClient('torchServeManagement', server.grpcManagement, {}, 'number', tls);
    try {
      expect(await unary(inference, 'Ping', {})).toMatchObject({ health: expect.stringContaining('Healthy') });
      const predicted = await unary<{ prediction: Buffer }>(inference, 'Predictions', { model_name: 'probe', input: { body: Buffer.from('{"op":"echo","value":5}') } });
      expect(JSON.parse(predicted.prediction.toString()).value).toBe(5);
      const models = await unary<{ msg: string }>(management, 'ListModels', {});
      expect(JSON.parse(models.msg).models.map((m: { modelName: string }) => m.modelName)).toContain('probe');
    } finally {
      inference.close();
      management.close();
    }
  });

  it('does not start with enable_grpc_ssl and no key, naming the key', async () => {
    const store = await tempDir();
    await expect(startServer({ store, models: [], config: { enable_grpc_ssl: true } })).rejects.toThrow(/private_key_file/);
  });

  it('refuses a plaintext client, and a client that does not trust the certificate', async () => {
    const plain = grpcClient('torchServeInference', server.grpc);
    const untrusting = grpcClient('torchServeInference', server.grpc, {}, 'number', credentials.createSsl());
    try {
      expect((await unaryError(plain, 'Ping', {}, undefined, { deadline: Date.now() + 3000 })).code).toBe(grpcStatus.UNAVAILABLE);
      expect((await unaryError(untrusting, 'Ping', {}, undefined, { deadline: Date.now() + 3000 })).code).toBe(grpcStatus.UNAVAILABLE);
    } finally {
      plain.close();
      untrusting.close();
    }
  });
});
