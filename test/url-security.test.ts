import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

// allowed_urls bypasses (TorchServe's CVE-2023-43654 class): a URL checked in one form and fetched
// in another. A real HTTP server records every path it is asked for; nothing outside /allowed/ may
// ever reach it, whatever the URL or a redirect looks like.

let server: TestServer;
let files: Server;
let filesUrl: string;
let root: string;
let store: string;
let archive: Buffer;
/** Paths (with query) the file server was asked for, in order. */
const asked: string[] = [];
/** Where `/allowed/bounce/<n>.mar` redirects to. */
const bounces = new Map<string, string>();

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  root = await tempDir('ms-url-');
  store = join(root, 'store');
  await buildModel(store, { name: 'probe' });
  // A real archive just outside the store: what a file:// bypass would register.
  await mkdir(join(root, 'outside'));
  await copyFile(join(store, 'probe.mar'), join(root, 'outside', 'secret.mar'));
  archive = await readFile(join(store, 'probe.mar'));
  files = createServer((req, res) => {
    const url = req.url ?? '';
    asked.push(url);
    const bounce = /^\/allowed\/bounce\/(\d+)\.mar$/.exec(url);
    if (bounce && bounces.has(bounce[1]!)) {
      // Some generated targets cannot be sent as a header at all (control characters).
      try {
        res.writeHead(302, { location: bounces.get(bounce[1]!)! }).end();
      } catch {
        res.writeHead(400).end();
      }
    } else if (url === '/allowed/ok.mar') res.end(archive);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  server = await startServer({
    store,
    models: [],
    config: {
      enable_model_api: true,
      allowed_urls: `http://127\\.0\\.0\\.1:\\d+/allowed/.*,file://${escapeRegex(store)}/.*`,
    },
  });
});
afterAll(async () => {
  await server?.stop();
  files?.close();
});
beforeEach(() => {
  asked.length = 0;
});

const register = (url: string) => mgmt(server.management, 'POST', `/models?url=${encodeURIComponent(url)}&initial_workers=0`);

/** The most lenient reading a file server might give a request path: decoded again and again, `\` as `/`, `;params` dropped, dot segments resolved. */
function resolvedByLenientServer(requestTarget: string): string[] {
  let path = requestTarget.split('?')[0]!;
  for (let i = 0; i < 4; i++) path = path.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const out: string[] = [];
  for (const raw of path.replace(/\\/g, '/').split('/')) {
    const segment = raw.split(';')[0]!.trim();
    if (segment === '..') out.pop();
    else if (segment !== '.' && segment !== '') out.push(segment);
  }
  return out;
}

function expectNothingOutsideAllowed(): void {
  for (const target of asked) expect(resolvedByLenientServer(target)[0], `fetched ${target}`).toBe('allowed');
}

describe('allowed_urls: every spelling of a path escape is refused before anything is fetched', () => {
  it.each([
    ['a literal dot-dot segment', '/allowed/../elsewhere/y.mar'],
    ['a single dot segment', '/allowed/./y.mar'],
    ['percent-encoded dots', '/allowed/%2e%2e/elsewhere/y.mar'],
    ['upper-case percent-encoded dots', '/allowed/%2E%2E/elsewhere/y.mar'],
    ['half-encoded dots (.%2e)', '/allowed/.%2e/elsewhere/y.mar'],
    ['half-encoded dots (%2e.)', '/allowed/%2e./elsewhere/y.mar'],
    ['an encoded slash after dots', '/allowed/..%2felsewhere%2fy.mar'],
    ['an upper-case encoded slash', '/allowed/..%2Felsewhere/y.mar'],
    ['a backslash', '/allowed/..\\elsewhere\\y.mar'],
    ['an encoded backslash', '/allowed/..%5celsewhere/y.mar'],
    ['a tab inside the dots (the URL parser drops it)', '/allowed/.\t./elsewhere/y.mar'],
    ['a newline inside the dots', '/allowed/.\n./elsewhere/y.mar'],
    ['double-encoded dots', '/allowed/%252e%252e/elsewhere/y.mar'],
    ['a double-encoded slash', '/allowed/..%252felsewhere/y.mar'],
    ['a path parameter on the dots (..;)', '/allowed/..;/elsewhere/y.mar'],
    ['a trailing dot-dot', '/allowed/y.mar/..'],
  ])('%s: %j', async (_name, path) => {
    const r = await register(`${filesUrl}${path}`);
    expect(r).toMatchObject({ status: 404, json: { code: 404, type: 'ModelNotFoundException', errorCode: 'URL_UNSAFE' } });
    expect(r.json.message).toMatch(/dot segment|separator|backslash|control character/);
    expect(asked).toEqual([]);
  });

  it('refuses credentials in the URL (checked against one host, sent to another)', async () => {
    const r = await register(`http://127.0.0.1:1@${filesUrl.slice('http://'.length)}/allowed/y.mar`);
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'URL_UNSAFE' } });
    expect(asked).toEqual([]);
  });

  it('checks the URL it fetches: a host written in upper case still matches and registers', async () => {
    const r = await register(`HTTP://127.0.0.1:${new URL(filesUrl).port}/allowed/ok.mar`);
    expect(r).toMatchObject({ status: 200 });
    expect(asked).toEqual(['/allowed/ok.mar']);
    expect(await mgmt(server.management, 'DELETE', '/models/probe')).toMatchObject({ status: 200 });
    await import('node:fs/promises').then((fs) => fs.rm(join(store, 'ok.mar')));
  });

  it.each([
    ['an encoded slash', '/allowed/..%2f..%2fsecret.mar'],
    ['encoded dots', '/allowed/%2e%2e/secret.mar'],
    ['an encoded backslash', '/allowed/..%5csecret.mar'],
    ['double-encoded dots', '/allowed/%252e%252e/secret.mar'],
  ])('re-checks a redirect hop the same way: %s', async (_name, location) => {
    bounces.set('1', location);
    const r = await register(`${filesUrl}/allowed/bounce/1.mar`);
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'URL_UNSAFE' } });
    expect(asked).toEqual(['/allowed/bounce/1.mar']);
  });

  it('refuses a redirect to a dot-segment path even though the URL parser would resolve it', async () => {
    bounces.set('2', '/allowed/../secret.mar');
    const r = await register(`${filesUrl}/allowed/bounce/2.mar`);
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'URL_UNSAFE' } });
    expect(asked).toEqual(['/allowed/bounce/2.mar']);
  });
});

describe('file:// URLs and model-store paths get the same guard', () => {
  it.each([
    ['a literal dot-dot segment', '/../outside/secret.mar'],
    ['percent-encoded dots', '/%2e%2e/outside/secret.mar'],
    ['half-encoded dots', '/.%2E/outside/secret.mar'],
    ['an encoded slash', '/..%2foutside%2fsecret.mar'],
    ['a backslash', '/..\\outside\\secret.mar'],
  ])('file:// with %s', async (_name, suffix) => {
    const r = await register(`file://${store}${suffix}`);
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'URL_UNSAFE' } });
    expect(await mgmt(server.management, 'GET', '/models')).toMatchObject({ json: { models: [] } });
  });

  it.each([
    ['a dot-dot segment', '../outside/secret.mar'],
    ['a single dot segment', './probe.mar'],
    ['percent-encoded dots', '%2e%2e/outside/secret.mar'],
    ['an encoded slash', '..%2Foutside%2Fsecret.mar'],
    ['a backslash', '..\\outside\\secret.mar'],
  ])('a model-store path with %s', async (_name, path) => {
    const r = await register(path);
    expect(r).toMatchObject({ status: 404, json: { errorCode: 'URL_UNSAFE' } });
  });

  it('still registers a file:// URL inside the allowed folder, then refuses one with a host', async () => {
    const r = await register(`file://${store}/probe.mar`);
    expect(r).toMatchObject({ status: 200 });
    expect(await mgmt(server.management, 'DELETE', '/models/probe')).toMatchObject({ status: 200 });
    const hosted = await register('file://probe.mar');
    expect(hosted).toMatchObject({ status: 404, json: { errorCode: 'URL_UNSAFE' } });
  });
});

// Pieces from which escapes are made: every spelling of a dot and a separator, and harmless ones.
const PIECES = [
  '..', '.', '%2e', '%2E', '%2e%2e', '.%2e', '%2E.', '%252e', '%25', '%2f', '%2F', '%5c', '%5C', '%252f',
  '\\', '/', '//', ';', '..;', '?', '#', '%3f', '%23', '@', ':', '\t', '\n', ' ', '%09', '%00', 'allowed', 'elsewhere', 'a',
];
const piece = fc.oneof(fc.constantFrom(...PIECES), fc.stringMatching(/^[a-z0-9._~-]{1,4}$/));
const path = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''));

describe('property: no URL outside the allowed prefix is ever fetched', () => {
  it('for generated URLs under and beside /allowed/', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), path, async (underAllowed, p) => {
        asked.length = 0;
        const r = await register(`${filesUrl}${underAllowed ? '/allowed/' : '/'}${p}/y.mar`);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expectNothingOutsideAllowed();
      }),
      { numRuns: 300 },
    );
  });

  it('for generated redirect targets', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), path, async (absolute, p) => {
        asked.length = 0;
        bounces.set('9', `${absolute ? filesUrl : ''}/allowed/${p}/y.mar`);
        const r = await register(`${filesUrl}/allowed/bounce/9.mar`);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expectNothingOutsideAllowed();
      }),
      { numRuns: 300 },
    );
  });
});
