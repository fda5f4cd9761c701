import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

interface KeyFile {
  management: { key: string; 'expiration time'?: string };
  inference: { key: string; 'expiration time'?: string };
  API: { key: string; 'expiration time'?: string };
}

let store: string;
let dir: string;
let server: TestServer;
let keyFile: string;
const readKeys = async (file = keyFile) => JSON.parse(await readFile(file, 'utf8')) as KeyFile;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  store = await tempDir();
  dir = await tempDir('ms-keys-');
  keyFile = join(dir, 'key_file.json');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  server = await startServer({ store, models: ['probe.mar'], config: { disable_token_authorization: false, token_key_file: keyFile } });
});
afterAll(() => server?.stop());

describe('token authorization (on by default)', () => {
  it('writes TorchServe-shaped keys to key_file.json with mode 0600', async () => {
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const keys = await readKeys();
    for (const kind of ['management', 'inference', 'API'] as const) expect(keys[kind].key).toMatch(/^[\w-]{32}$/);
    expect(new Set([keys.management.key, keys.inference.key, keys.API.key]).size).toBe(3);
    const expires = Date.parse(keys.inference['expiration time']!);
    expect(expires - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(60 * 60_000);
    expect(keys.API['expiration time']).toBeUndefined();
  });

  it('answers 401 with WWW-Authenticate without a token, with a wrong one, and with the other API\'s key', async () => {
    const keys = await readKeys();
    for (const headers of [{}, bearer('wrong'), bearer(keys.management.key), { authorization: keys.inference.key }]) {
      const r = await postJson(`${server.url}/predictions/probe`, { op: 'echo' }, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect(r.json).toMatchObject({ code: 401, type: 'InvalidKeyException', errorCode: 'UNAUTHORIZED' });
    }
    const m = await mgmt(server.management, 'GET', '/models', { headers: bearer(keys.inference.key) });
    expect(m.status).toBe(401);
    expect(m.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('lets the right key through on both APIs (scheme case-insensitive)', async () => {
    const keys = await readKeys();
    const r = await postJson(`${server.url}/predictions/probe`, { op: 'echo', value: 7 }, bearer(keys.inference.key));
    expect(r).toMatchObject({ status: 200, json: { value: 7 } });
    const lower = await postJson(`${server.url}/predictions/probe`, { op: 'echo' }, { authorization: `bearer ${keys.inference.key}` });
    expect(lower.status).toBe(200);
    const m = await mgmt(server.management, 'GET', '/models', { headers: bearer(keys.management.key) });
    expect(m).toMatchObject({ status: 200, json: { models: [{ modelName: 'probe' }] } });
  });

  it('guards every other inference route, not only the hot path', async () => {
    const res = await fetch(`${server.url}/nowhere`);
    expect(res.status).toBe(401);
    const v2 = await fetch(`${server.url}/v2/models/probe/infer`, { method: 'POST', body: '{}' });
    expect(v2.status).toBe(401);
    expect(v2.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // The Open Inference Protocol's error body, not TorchServe's.
    expect(await v2.json()).toEqual({ error: 'Token Authorization failed. Token either incorrect, expired, or not provided correctly' });
    const dotted = await fetch(`${server.url}/v2/health/../models/probe/infer`, { method: 'POST', body: '{}' });
    expect(dotted.status).toBe(401);
  });

  it('guards WebSocket upgrades, which bypass the request handler', async () => {
    const url = `${server.url.replace('http', 'ws')}/predictions/probe/ws`;
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.once('unexpected-response', (_req, res) => {
          if (res.statusCode === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
          resolve(res.statusCode ?? 0);
        });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('error', reject);
      });
    expect(await status({})).toBe(401);
    expect(await status(bearer('wrong'))).toBe(401);
    expect(await status(bearer((await readKeys()).inference.key))).toBe(101);
  });

  it('keeps health, OPTIONS / and the API description open, and metrics too', async () => {
    expect((await fetch(`${server.url}/ping`)).status).toBe(200);
    for (const path of ['/v2/health/live', '/v2/health/ready', '/v2/models/probe/ready', '/v1/models/probe']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
    expect((await fetch(`${server.url}/`, { method: 'OPTIONS' })).status).toBe(200);
    expect((await fetch(`${server.url}/api-description`)).status).toBe(200);
    expect((await fetch(`${server.management}/`, { method: 'OPTIONS' })).status).toBe(200);
    expect((await fetch(`${server.metrics}/metrics`)).status).toBe(200);
    // GET / is KServe v1's liveness: open, and it says no more than that.
    const live = await fetch(`${server.url}/`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive' });
    expect((await fetch(`${server.url}/`, { method: 'DELETE' })).status).toBe(401);
  });

  it('regenerates a key with the API key (GET /token), and only with it', async () => {
    const before = await readKeys();
    expect((await mgmt(server.management, 'GET', '/token?type=inference', { headers: bearer(before.management.key) })).status).toBe(401);
    expect((await mgmt(server.management, 'GET', '/token?type=other', { headers: bearer(before.API.key) })).status).toBe(400);
    const r = await mgmt(server.management, 'GET', '/token?type=inference', { headers: bearer(before.API.key) });
    expect(r.status).toBe(200);
    const after = await readKeys();
    expect(after.inference.key).not.toBe(before.inference.key);
    expect(after.management.key).toBe(before.management.key);
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' }, bearer(before.inference.key))).status).toBe(401);
    expect((await postJson(`${server.url}/predictions/probe`, { op: 'echo' }, bearer(after.inference.key))).status).toBe(200);
  });
});

describe('token expiry and configured keys', () => {
  it('refuses a generated key once token_expiration_min has passed', async () => {
    const file = join(dir, 'short.json');
    const s = await startServer({ store, models: ['probe.mar'], config: { disable_token_authorization: false, token_key_file: file, token_expiration_min: 0.05 } });
    try {
      const keys = await readKeys(file);
      const url = `${s.url}/predictions/probe`;
      expect((await postJson(url, { op: 'echo' }, bearer(keys.inference.key))).status).toBe(200);
      await waitFor(async () => (await postJson(url, { op: 'echo' }, bearer(keys.inference.key))).status === 401, 10_000, 'the key to expire');
      // The API key never expires, so a fresh key can still be had.
      expect((await mgmt(s.management, 'GET', '/token?type=inference', { headers: bearer(keys.API.key) })).status).toBe(200);
      expect((await postJson(url, { op: 'echo' }, bearer((await readKeys(file)).inference.key))).status).toBe(200);
    } finally {
      await s.stop();
    }
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('with token_expiration_min=0 keys never expire', async () => {
    const file = join(dir, 'forever.json');
    const s = await startServer({ store, models: [], config: { disable_token_authorization: false, token_key_file: file, token_expiration_min: 0 } });
    try {
      const keys = await readKeys(file);
      expect(keys.inference['expiration time']).toBeUndefined();
      expect(keys.management['expiration time']).toBeUndefined();
    } finally {
      await s.stop();
    }
  });

  it('uses keys given by configuration (containers) and writes no key file', async () => {
    const file = join(dir, 'unused.json');
    const s = await startServer({
      store,
      models: ['probe.mar'],
      config: { disable_token_authorization: false, token_key_file: file, inference_key: 'infer-secret-123', management_key: 'mgmt-secret-456' },
    });
    try {
      await expect(stat(file)).rejects.toThrow(/ENOENT/);
      expect((await postJson(`${s.url}/predictions/probe`, { op: 'echo' }, bearer('infer-secret-123'))).status).toBe(200);
      expect((await postJson(`${s.url}/predictions/probe`, { op: 'echo' }, bearer('infer-secret-12'))).status).toBe(401);
      expect((await mgmt(s.management, 'GET', '/models', { headers: bearer('mgmt-secret-456') })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('--disable-token-auth (disable_token_authorization) turns it off', async () => {
    const s = await startServer({ store, models: ['probe.mar'], config: { disable_token_authorization: true } });
    try {
      expect((await postJson(`${s.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
      expect((await mgmt(s.management, 'GET', '/models')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
