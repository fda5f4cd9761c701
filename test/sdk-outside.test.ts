import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers/models.js';
import { startServer, type TestServer } from './helpers/server.js';

const exec = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const ARCHIVER = join(ROOT, 'packages', 'model-archiver', 'bin', 'model-archiver.js');

/** A handler using the request API: payload, text(), json(), get(), getAll(), header(), requestId. */
const HANDLER = `import { BaseHandler, type Context, type HandlerRequest } from '@model-server/sdk';

export default class Describe extends BaseHandler<HandlerRequest[], unknown[]> {
  override preprocess(data: HandlerRequest[]): HandlerRequest[] {
    return data;
  }

  override inference(data: HandlerRequest[], _context: Context): unknown[] {
    return data.map((r) => ({
      requestId: r.requestId,
      payloadBytes: r.payload.byteLength,
      text: r.text('note'),
      json: r.json<{ n: number }>('meta').n,
      parts: r.getAll('data').map((p) => p.data.byteLength),
      first: r.get('data')?.contentType ?? null,
      header: r.header('X-Client') ?? null,
      tensor: r.tensor() ?? null,
    }));
  }
}
`;

let packs: string;
let project: string;
let server: TestServer | undefined;

/** npm, run as this test's own node runs it, in \`cwd\`. */
function npm(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return exec('npm', args, { cwd, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, timeout: 240_000 });
}

async function handlerProject(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'my-handler', private: true, type: 'module' }));
  await writeFile(join(dir, 'handler.ts'), HANDLER);
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: [] }, files: ['handler.ts'] }));
  return dir;
}

beforeAll(async () => {
  packs = await tempDir('ms-packs-');
  await exec(process.execPath, [join(ROOT, 'scripts', 'pack-sdk.mjs'), packs], { cwd: ROOT, timeout: 120_000 });
  project = await handlerProject('ms-sdk-user-');
});
afterAll(async () => {
  await server?.stop();
});

describe('the handler SDK outside this repository', () => {
  it('is packed by the build as tarballs carrying the compiled code and its types', async () => {
    for (const name of ['model-server-sdk-0.1.0.tgz', 'model-server-protocol-0.1.0.tgz']) {
      const entries: string[] = [];
      await tar.t({ file: join(packs, name), onReadEntry: (e) => entries.push(e.path) });
      expect(entries, name).toEqual(expect.arrayContaining(['package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts']));
      expect(entries.some((e) => e.includes('tsbuildinfo') || e.includes('node_modules'))).toBe(false);
    }
  });

  it('installs from the tarballs into a handler project, type-checks there, and its archive serves', async () => {
    await npm(project, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(packs, 'model-server-protocol-0.1.0.tgz'), join(packs, 'model-server-sdk-0.1.0.tgz'));
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@model-server/sdk']).toMatch(/^file:.*model-server-sdk-0\.1\.0\.tgz$/);
    // The project's own type check sees the SDK's real types: a misuse is an error.
    await exec(process.execPath, [TSC, '-p', project], { cwd: project });
    await writeFile(join(project, 'misuse.ts'), "import type { HandlerRequest } from '@model-server/sdk';\nexport const f = (r: HandlerRequest): number => r.text();\n");
    await writeFile(join(project, 'tsconfig.misuse.json'), JSON.stringify({ extends: './tsconfig.json', files: ['misuse.ts'] }));
    await expect(exec(process.execPath, [TSC, '-p', join(project, 'tsconfig.misuse.json')], { cwd: project })).rejects.toMatchObject({
      stdout: expect.stringContaining("error TS2322: Type 'string' is not assignable to type 'number'"),
    });

    const store = await tempDir('ms-sdk-store-');
    const archived = await exec(process.execPath, [ARCHIVER, '--model-name', 'describe', '--version', '1.0', '--handler', join(project, 'handler.ts'), '--export-path', store]);
    expect(archived.stdout.trim()).toBe(join(store, 'describe.mar'));
    server = await startServer({ store, models: ['describe.mar'] });
    const form = new FormData();
    form.append('data', new Blob([new Uint8Array(3)], { type: 'image/png' }), 'a.png');
    form.append('data', new Blob([new Uint8Array(5)]), 'b.bin');
    form.append('note', 'hello');
    form.append('meta', new Blob(['{"n": 42}'], { type: 'application/json' }));
    const res = await fetch(`${server.url}/predictions/describe`, { method: 'POST', body: form, headers: { 'x-client': 'outside', 'x-request-id': 'client-id-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ requestId: 'client-id-1', payloadBytes: 3, text: 'hello', json: 42, parts: [3, 5], first: 'image/png', header: 'outside', tensor: null });
  });

  it('installs from a path to packages/sdk as well, with its types', async () => {
    const linked = await handlerProject('ms-sdk-link-');
    await npm(linked, 'install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(ROOT, 'packages', 'sdk'));
    await exec(process.execPath, [TSC, '-p', linked], { cwd: linked });
  });
});
