import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  const store = await tempDir();
  await buildModel(store, { name: 'probe' });
  server = await startServer({ store, models: ['probe.mar'] });
});
afterAll(() => server?.stop());

describe('API description', () => {
  it('is an OpenAPI 3.0.1 document that a real validator accepts', async () => {
    const res = await fetch(`${server.url}/`, { method: 'OPTIONS' });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is served for one model too (OPTIONS /predictions/{model})', async () => {
    const res = await fetch(`${server.url}/predictions/probe`, { method: 'OPTIONS' });
    expect(res.status).toBe(200);
    expect((await new Validator().validate((await res.json()) as Record<string, unknown>)).valid).toBe(true);
  });

  it('is rejected by the validator when broken, so the check can fail', async () => {
    const doc = (await (await fetch(`${server.url}/api-description`)).json()) as Record<string, unknown>;
    delete doc['info'];
    expect((await new Validator().validate(doc)).valid).toBe(false);
  });
});
