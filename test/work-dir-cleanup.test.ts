import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mgmt } from './helpers/management.js';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

// The unpacked-archive cache (model_work_dir): what a server unpacks is removed when the last version
// using it is unregistered and at stop, and never what another server sharing the folder unpacked.

let root: string;
let store: string;
let work: string;
const servers = new Set<TestServer>();

beforeAll(async () => {
  root = await tempDir('ms-workdir-');
  store = join(root, 'store');
  work = join(root, 'work');
  await buildModel(store, { name: 'probe', config: 'batchSize: 1\n' });
  // Folder archives whose manifest points its model file outside the archive.
  const manifest = (serializedFile: string) => JSON.stringify({ runtime: 'node', model: { modelName: 'evil', modelVersion: '1.0', handler: 'handler.js', serializedFile } });
  await writeFile(join(root, 'outside.onnx'), 'not yours');
  for (const [dir, file] of [['abs', '/etc/passwd'], ['dots', '../outside.onnx'], ['nested-dots', 'sub/../../outside.onnx'], ['link', 'model.onnx']] as const) {
    await mkdir(join(store, `evil-${dir}`, 'MAR-INF'), { recursive: true });
    await writeFile(join(store, `evil-${dir}`, 'MAR-INF', 'MANIFEST.json'), manifest(file));
    await writeFile(join(store, `evil-${dir}`, 'handler.js'), 'export function handle(d) { return d; }\n');
  }
  await symlink(join(root, 'outside.onnx'), join(store, 'evil-link', 'model.onnx'));
});
afterAll(async () => {
  await Promise.allSettled([...servers].map((s) => s.stop()));
});

async function start(config: Record<string, unknown> = {}): Promise<TestServer> {
  const s = await startServer({ store, models: [], config: { enable_model_api: true, model_work_dir: work, ...config } });
  servers.add(s);
  return s;
}

async function stop(s: TestServer): Promise<void> {
  servers.delete(s);
  await s.stop();
}

/** Every unpacked archive under the work dir (a folder holding MAR-INF/MANIFEST.json), relative to it; links are not followed. */
async function unpackedFolders(dir = work): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const full = join(dir, entry.name);
    if (entry.name === 'MAR-INF') found.push(relative(work, dir));
    else found.push(...(await unpackedFolders(full)));
  }
  return found.sort();
}

/** The per-server folders (`<installation>/server-<pid>-<random>`) under the work dir. */
async function serverFolders(): Promise<string[]> {
  const out: string[] = [];
  for (const install of await readdir(work)) {
    for (const name of await readdir(join(work, install))) if (name.startsWith('server-')) out.push(join(install, name));
  }
  return out.sort();
}

const api = (s: TestServer, method: string, path: string) => mgmt(s.management, method, path);

describe('unpacked archives are removed with the last version that uses them', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start();
  });

  it('removes a version’s unpacked folder once it is unregistered', async () => {
    expect(await api(server, 'POST', '/models?url=probe.mar&initial_workers=1')).toMatchObject({ status: 200 });
    const folders = await unpackedFolders();
    expect(folders).toHaveLength(1);
    expect(JSON.parse(await readFile(join(work, folders[0]!, 'MAR-INF', 'MANIFEST.json'), 'utf8')).model.modelName).toBe('probe');
    expect(await api(server, 'DELETE', '/models/probe')).toMatchObject({ status: 200 });
    expect(await unpackedFolders()).toEqual([]);
  });

  it('keeps a copy two models share until both are gone; a refused registration gives its use back', async () => {
    expect(await api(server, 'POST', '/models?url=probe.mar&model_name=first&initial_workers=1')).toMatchObject({ status: 200 });
    expect(await api(server, 'POST', '/models?url=probe.mar&model_name=second&initial_workers=1')).toMatchObject({ status: 200 });
    expect(await api(server, 'POST', '/models?url=probe.mar&model_name=second')).toMatchObject({ status: 409 });
    const shared = await unpackedFolders();
    expect(shared).toHaveLength(1);
    expect(await api(server, 'DELETE', '/models/first')).toMatchObject({ status: 200 });
    expect(await unpackedFolders()).toEqual(shared);
    // A new worker of the remaining model still finds its files.
    expect(await api(server, 'PUT', '/models/second?min_worker=2&synchronous=true')).toMatchObject({ status: 200 });
    expect((await postJson(`${server.url}/predictions/second`, { op: 'echo' })).status).toBe(200);
    expect(await api(server, 'DELETE', '/models/second')).toMatchObject({ status: 200 });
    expect(await unpackedFolders()).toEqual([]);
  });
});

describe('stop removes only what this server unpacked', () => {
  it('leaves a second server’s copy in a shared work dir alone, and its workers keep working', async () => {
    const before = await serverFolders();
    const a = await start();
    const b = await start();
    expect((await serverFolders()).length).toBe(before.length + 2);
    expect(await api(a, 'POST', '/models?url=probe.mar&initial_workers=1')).toMatchObject({ status: 200 });
    expect(await api(b, 'POST', '/models?url=probe.mar&initial_workers=1')).toMatchObject({ status: 200 });
    const both = await unpackedFolders();
    expect(both).toHaveLength(2);
    await stop(a);
    const left = await unpackedFolders();
    expect(left).toHaveLength(1);
    expect(both).toContain(left[0]);
    expect(await api(b, 'PUT', '/models/probe?min_worker=2&synchronous=true')).toMatchObject({ status: 200 });
    expect((await postJson(`${b.url}/predictions/probe`, { op: 'echo' })).status).toBe(200);
    await stop(b);
    expect(await unpackedFolders()).toEqual([]);
    // The installation's shared node_modules link stays; both servers' own folders are gone.
    expect(await serverFolders()).toEqual(before);
  });
});

describe('archive limits', () => {
  it('caps the unpacked size at max_unpacked_size, naming the key, and leaves nothing behind', async () => {
    const small = await start({ max_unpacked_size: 1000 });
    const r = await api(small, 'POST', '/models?url=probe.mar');
    expect(r).toMatchObject({ status: 400, json: { type: 'InvalidModelException', errorCode: 'INVALID_MODEL_ARCHIVE' } });
    expect(r.json.message).toContain('unpacked size exceeds 1000 bytes (max_unpacked_size)');
    expect(await unpackedFolders()).toEqual([]);
  });

  it.each([
    ['an absolute path', 'abs', 'serializedFile "/etc/passwd" is an absolute path'],
    ['a dot-dot segment', 'dots', 'serializedFile "../outside.onnx" escapes the archive folder'],
    ['a dot-dot segment further in', 'nested-dots', 'serializedFile "sub/../../outside.onnx" escapes the archive folder'],
    ['a symbolic link leading out', 'link', 'serializedFile "model.onnx" leads outside the archive folder'],
  ])('refuses a manifest whose serializedFile is %s', async (_name, dir, reason) => {
    const r = await api([...servers][0]!, 'POST', `/models?url=evil-${dir}`);
    expect(r).toMatchObject({ status: 400, json: { type: 'InvalidModelException', errorCode: 'INVALID_MODEL_ARCHIVE' } });
    expect(r.json.message).toContain(reason);
  });
});
