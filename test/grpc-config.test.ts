import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '@model-server/gateway';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer } from './helpers/server.js';

describe('gRPC configuration', () => {
  it("defaults to TorchServe's listeners and checks its keys", () => {
    const config = loadServerConfig({});
    expect([config.grpc_inference_address, config.grpc_inference_port, config.grpc_management_address, config.grpc_management_port]).toEqual(['127.0.0.1', 7070, '127.0.0.1', 7071]);
    expect(loadServerConfig({ overrides: { enable_grpc_ssl: 'false' } }).enable_grpc_ssl).toBe(false);
    expect(() => loadServerConfig({ overrides: { grpc_inference_address: 'http://127.0.0.1:7070' } })).toThrow(/grpc_inference_address: must be a host name or IP address/);
    expect(() => loadServerConfig({ overrides: { grpc_management_port: '70000' } })).toThrow(/grpc_management_port/);
    expect(loadServerConfig({ env: { TS_GRPC_INFERENCE_PORT: '9001', TS_ENABLE_ENVVARS_CONFIG: 'true' } }).grpc_inference_port).toBe(9001);
  });

  it('does not start when its gRPC port is taken, and says which address', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const store = await tempDir();
    await buildModel(store, { name: 'probe' });
    try {
      await expect(startServer({ store, models: [], config: { grpc_inference_port: port } })).rejects.toThrow(`gRPC cannot listen on 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });
});
