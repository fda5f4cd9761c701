import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '@model-server/gateway';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

// Downloads from peers that are slow on purpose: real servers that trickle, fall silent, or never
// finish a TLS handshake. Each one must end in a clear error naming the limit it ran into, with the
// connection closed and nothing left in the model store.

let server: TestServer;
let store: string;
let archive: Buffer;
let http: Server;
let httpUrl: string;
/** Accepts TCP connections and never says a word: a TLS handshake against it never completes. */
let mute: TcpServer;
let muteUrl: string;
/** Sockets the HTTP server has open; a download that gave up must have closed its own. */
const open = new Set<Socket>();
const muteSockets = new Set<Socket>();

beforeAll(async () => {
  store = await tempDir('ms-dl-');
  const remote = await tempDir('ms-dl-remote-');
  await buildModel(remote, { name: 'remote' });
  archive = await readFile(join(remote, 'remote.mar'));
  http = createHttpServer((req, res) => {
    if (req.url === '/trickle.mar') {
      // One byte every 20 ms, forever (a declared size far beyond what ever arrives).
      res.writeHead(200, { 'content-length': String(archive.byteLength * 1000) });
      const timer = setInterval(() => res.write(archive.subarray(0, 1)), 20);
      res.on('close', () => clearInterval(timer));
    } else if (req.url === '/silent.mar') {
      // Reads the request and never answers.
    } else if (req.url === '/stalls.mar') {
      res.writeHead(200, { 'content-length': String(archive.byteLength) });
      res.write(archive.subarray(0, 100));
    } else if (req.url === '/slow-but-steady.mar') {
      // The whole archive in 5 pieces, 100 ms apart: never idle for long, done well within the total.
      res.writeHead(200, { 'content-length': String(archive.byteLength) });
      const step = Math.ceil(archive.byteLength / 5);
      let at = 0;
      const timer = setInterval(() => {
        res.write(archive.subarray(at, at + step));
        at += step;
        if (at >= archive.byteLength) {
          clearInterval(timer);
          res.end();
        }
      }, 100);
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(404).end();
    }
  });
  http.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  mute = createTcpServer((s) => {
    muteSockets.add(s);
    // Read (and drop) the ClientHello, so that the client's close is seen.
    s.resume();
    s.on('close', () => muteSockets.delete(s));
  });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  muteUrl = `https://127.0.0.1:${(mute.address() as AddressInfo).port}`;
  server = await startServer({
    store,
    models: [],
    config: {
      enable_model_api: true,
      allowed_urls: 'https?://127\\.0\\.0\\.1:\\d+/.*',
      download_connect_timeout: 0.3,
      download_idle_timeout: 0.3,
      download_timeout: 1.5,
    },
  });
});
afterAll(async () => {
  await server?.stop();
  for (const s of muteSockets) s.destroy();
  mute?.close();
  http?.closeAllConnections();
  http?.close();
});

const register = (url: string) => mgmt(server.management, 'POST', `/models?url=${encodeURIComponent(url)}&initial_workers=0`);

async function expectTimedOut(url: string, setting: string, seconds: number, minMs: number): Promise<void> {
  const started = performance.now();
  const r = await register(url);
  const elapsed = performance.now() - started;
  expect(r).toMatchObject({ status: 504, json: { code: 504, type: 'DownloadArchiveException', errorCode: 'DOWNLOAD_TIMEOUT' } });
  expect(r.json.message).toContain(`Timed out downloading archive from: ${url}: `);
  expect(r.json.message).toContain(`${setting} (${seconds} s)`);
  expect(elapsed).toBeGreaterThanOrEqual(minMs);
  expect(elapsed).toBeLessThan(minMs + 3000);
  expect((await readdir(store)).filter((f) => f.includes('.download-'))).toEqual([]);
}

describe('model downloads are bounded in time', () => {
  it('ends a download that trickles bytes at download_timeout and closes its connection', { timeout: 20_000 }, async () => {
    await expectTimedOut(`${httpUrl}/trickle.mar`, 'download_timeout', 1.5, 1400);
    expect(await readdir(store)).toEqual([]);
    await expect.poll(() => open.size, { timeout: 2000, interval: 5 }).toBe(0);
  });

  it('ends a download whose server never answers at download_idle_timeout', { timeout: 20_000 }, async () => {
    await expectTimedOut(`${httpUrl}/silent.mar`, 'download_idle_timeout', 0.3, 250);
    await expect.poll(() => open.size, { timeout: 2000, interval: 5 }).toBe(0);
  });

  it('ends a download whose body stops half way at download_idle_timeout', { timeout: 20_000 }, async () => {
    await expectTimedOut(`${httpUrl}/stalls.mar`, 'download_idle_timeout', 0.3, 250);
    await expect.poll(() => open.size, { timeout: 2000, interval: 5 }).toBe(0);
  });

  it('ends a connection whose TLS handshake never completes at download_connect_timeout', { timeout: 20_000 }, async () => {
    await expectTimedOut(`${muteUrl}/model.mar`, 'download_connect_timeout', 0.3, 250);
    await expect.poll(() => muteSockets.size, { timeout: 2000, interval: 5 }).toBe(0);
  });

  it('lets a slow download through that keeps making progress', { timeout: 20_000 }, async () => {
    const r = await register(`${httpUrl}/slow-but-steady.mar`);
    expect(r).toMatchObject({ status: 200 });
    expect(await readFile(join(store, 'slow-but-steady.mar'))).toEqual(archive);
    await expect.poll(() => open.size, { timeout: 2000, interval: 5 }).toBe(0);
    expect(await mgmt(server.management, 'DELETE', '/models/remote')).toMatchObject({ status: 200 });
    await rm(join(store, 'slow-but-steady.mar'));
  });
});

describe('download time limits in config.properties', () => {
  it('defaults to 10 s to connect, 60 s of silence and 600 s in all', () => {
    expect(loadServerConfig()).toMatchObject({ download_connect_timeout: 10, download_idle_timeout: 60, download_timeout: 600 });
  });

  it.each([
    ['download_connect_timeout', '0'],
    ['download_idle_timeout', '-1'],
    ['download_timeout', 'soon'],
    ['download_timeout', '3000000'],
  ])('refuses %s=%s, naming the key', (key, value) => {
    expect(() => loadServerConfig({ overrides: { [key]: value } })).toThrow(new RegExp(`Invalid configuration in \\(defaults\\): ${key}: `));
  });
});
