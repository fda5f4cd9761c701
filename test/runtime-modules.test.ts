import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive, resolvesToRuntime, runtimeNodeModules, runtimeWorkDir } from '@model-server/archive';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

async function threads(pid: number): Promise<number> {
  return Number(/^Threads:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

describe('handlers resolve the SDK without resolution hooks where the gateway unpacks archives', () => {
  let server: TestServer;
  let store: string;
  let folderModel: string;

  beforeAll(async () => {
    store = await tempDir();
    await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
    // The same model as a folder outside the gateway's unpack folder: its handler needs the hooks.
    folderModel = (await openArchive(join(store, 'probe.mar'), { workDir: join(store, 'elsewhere') })).modelDir;
    server = await startServer({ store, models: ['probe.mar', `folder=${folderModel}`] });
  });
  afterAll(() => server?.stop());

  it('links node_modules to the installation in a folder of its own under the work dir', async () => {
    const base = await tempDir();
    const dir = await runtimeWorkDir(base);
    expect(dir.startsWith(base)).toBe(true);
    expect(await realpath(join(dir, 'node_modules'))).toBe(runtimeNodeModules());
    expect(await runtimeWorkDir(base)).toBe(dir);
    expect(resolvesToRuntime(join(dir, 'some.mar-0123'))).toBe(true);
    expect(resolvesToRuntime(folderModel)).toBe(false);
  });

  it('serves both, the folder model with one thread more (the hooks run on their own thread)', async () => {
    const fromArchive = await postJson(`${server.url}/predictions/probe`, { op: 'echo' });
    const fromFolder = await postJson(`${server.url}/predictions/folder`, { op: 'echo' });
    expect([fromArchive.status, fromFolder.status]).toEqual([200, 200]);
    expect(await threads(fromFolder.json['pid'] as number)).toBe((await threads(fromArchive.json['pid'] as number)) + 1);
  });
});
