import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '@model-server/gateway';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

// Worker counts are bounded by max_workers_per_model: one scale call (allowed even with the model API
// off) must not be able to fork hundreds of worker processes.

let server: TestServer;
let store: string;

beforeAll(async () => {
  store = await tempDir('ms-bounds-');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 0\n' });
  await buildModel(store, { name: 'greedy-min', config: 'minWorkers: 3\n' });
  await buildModel(store, { name: 'greedy-max', config: 'minWorkers: 1\nmaxWorkers: 3\n' });
  server = await startServer({ store, models: ['probe.mar'], config: { enable_model_api: true, max_workers_per_model: 2 } });
});
afterAll(() => server?.stop());

const api = (method: string, path: string) => mgmt(server.management, method, path);
const workerCount = async (model: string) => ((await api('GET', `/models/${model}`)).json[0].workers as unknown[]).length;

describe('max_workers_per_model bounds every worker count', () => {
  it.each([
    ['min_worker', '/models/probe?min_worker=3&synchronous=true'],
    ['max_worker', '/models/probe?min_worker=1&max_worker=3&synchronous=true'],
  ])('PUT with %s past the bound answers 400 naming the key and starts nothing', async (param, path) => {
    const r = await api('PUT', path);
    expect(r).toMatchObject({ status: 400, json: { code: 400, type: 'BadRequestException', errorCode: 'BAD_REQUEST' } });
    expect(r.json.message).toBe(`Parameter ${param} must be at most 2, the server's max_workers_per_model (got 3)`);
    expect(await workerCount('probe')).toBe(0);
  });

  it('POST with initial_workers past the bound answers 400 and registers nothing', async () => {
    const r = await api('POST', '/models?url=probe.mar&model_name=other&initial_workers=3');
    expect(r).toMatchObject({ status: 400, json: { errorCode: 'BAD_REQUEST' } });
    expect(r.json.message).toContain('max_workers_per_model');
    expect(await api('GET', '/models/other')).toMatchObject({ status: 404 });
  });

  it.each([
    ['greedy-min', 'minWorkers: 3'],
    ['greedy-max', 'maxWorkers: 3'],
  ])('refuses an archive whose model-config.yaml asks for more (%s)', async (model, what) => {
    const r = await api('POST', `/models?url=${model}.mar`);
    expect(r).toMatchObject({ status: 400, json: { type: 'InvalidModelException', errorCode: 'INVALID_MODEL_ARCHIVE' } });
    expect(r.json.message).toContain(`${what} exceeds the server's max_workers_per_model (2)`);
    expect(await api('GET', `/models/${model}`)).toMatchObject({ status: 404 });
  });

  it('accepts counts up to the bound', async () => {
    expect(await api('PUT', '/models/probe?min_worker=2&max_worker=2&synchronous=true')).toMatchObject({ status: 200 });
    expect(await workerCount('probe')).toBe(2);
    expect(await api('PUT', '/models/probe?min_worker=0&max_worker=0&synchronous=true')).toMatchObject({ status: 200 });
  });
});

describe('max_workers_per_model in config.properties', () => {
  it('defaults to 32', () => {
    expect(loadServerConfig().max_workers_per_model).toBe(32);
  });

  it('refuses a default_workers_per_model above it, and a bound below 1', () => {
    expect(() => loadServerConfig({ overrides: { default_workers_per_model: 5, max_workers_per_model: 4 } })).toThrow(
      /default_workers_per_model: must not exceed max_workers_per_model \(4\)/,
    );
    expect(() => loadServerConfig({ overrides: { max_workers_per_model: 0 } })).toThrow(/max_workers_per_model: /);
  });

  it('applies the default bound to a server started without the key', async () => {
    const plain = await startServer({ store, models: ['probe.mar'] });
    try {
      const r = await mgmt(plain.management, 'PUT', '/models/probe?min_worker=33');
      expect(r).toMatchObject({ status: 400 });
      expect(r.json.message).toBe("Parameter min_worker must be at most 32, the server's max_workers_per_model (got 33)");
    } finally {
      await plain.stop();
    }
  });
});
