import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers/models.js';
import { startServerProcess } from './helpers/server-process.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

const ARCHIVER = join(ROOT, 'packages', 'model-archiver', 'bin', 'model-archiver.js');
const SOURCEMAP_HANDLER = join(ROOT, 'test', 'fixtures', 'sourcemap', 'handler.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function archiver(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ARCHIVER, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let out: string;
let project: string;
let server: TestServer | undefined;

/** A handler project as a user has one: package.json, its dependencies installed in node_modules, no SDK installed. */
async function makeProject(): Promise<string> {
  const dir = await tempDir('ms-handler-project-');
  const pkg = async (name: string, files: Record<string, string>): Promise<void> => {
    await mkdir(join(dir, 'node_modules', name), { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, 'node_modules', name, file), text);
  };
  await pkg('tiny-pad', {
    'package.json': JSON.stringify({ name: 'tiny-pad', version: '1.0.0', main: 'index.js', types: 'index.d.ts' }),
    'index.js': "module.exports = function pad(text, width) { return text.padStart(width, '*'); };\n",
    'index.d.ts': 'declare function pad(text: string, width: number): string;\nexport = pad;\n',
  });
  await pkg('unused-dep', { 'package.json': JSON.stringify({ name: 'unused-dep', version: '1.0.0', main: 'index.js' }), 'index.js': 'module.exports = 1;\n' });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'my-handler', private: true, type: 'module', dependencies: { 'tiny-pad': '1.0.0', 'unused-dep': '1.0.0', '@model-server/sdk': '0.1.0' } }));
  await writeFile(
    join(dir, 'handler.ts'),
    [
      "import pad from 'tiny-pad';",
      "import type { HandlerRequest } from '@model-server/sdk';",
      '',
      'export function padded(data: HandlerRequest[]): string[] {',
      '  return data.map((r) => pad(r.text(), 8));',
      '}',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'typo.ts'), "import type { HandlerRequest } from '@model-server/sdk';\n\nexport function handle(data: HandlerRequest[]): unknown[] {\n  return data.map((r) => r.jsonn());\n}\n");
  await writeFile(join(dir, 'handler.py'), 'def handle(data, context):\n    return data\n');
  await writeFile(join(dir, 'requirements.txt'), 'torch\n');
  await writeFile(join(dir, 'missing.json'), JSON.stringify({ name: 'x', dependencies: { 'not-installed': '1.0.0' } }));
  return dir;
}

beforeAll(async () => {
  out = await tempDir('ms-archiver-out-');
  project = await makeProject();
});
afterAll(async () => {
  await server?.stop();
});

const base = (name: string, handler: string, ...rest: string[]) => ['--model-name', name, '--version', '1.0', '--handler', handler, '--export-path', out, '--force', ...rest];

describe("model-archiver takes torch-model-archiver's flags", () => {
  it('prints a help line per flag and names the flags it refuses', async () => {
    const r = await archiver('--help');
    expect(r.code).toBe(0);
    for (const flag of ['--model-name NAME', '-v, --version VERSION', '--handler FILE[:FN]', '--serialized-file FILE', '--extra-files a,b,dir', '-c, --config-file FILE', '-r, --requirements-file package.json', '--runtime node', '--export-path DIR', '--archive-format default|tgz|no-archive|zip-store', '-f, --force', '--skip-type-check']) {
      expect(r.stdout.split('\n').filter((l) => l.trimStart().startsWith(flag)), flag).toHaveLength(1);
    }
    expect(r.stdout).toContain('TorchServe flags refused with a reason: --model-file, --convert');
  });

  it('takes --runtime node only, and refuses Python handlers, built-ins and --model-file saying what to do', async () => {
    const handler = join(project, 'handler.ts');
    for (const [args, message] of [
      [base('m', handler, '--runtime', 'python'), '--runtime python is not supported: handlers run on node'],
      [base('m', join(project, 'handler.py')), 'Python handlers are not supported; write the handler in TypeScript (see README.md, "Writing a handler")'],
      [base('m', 'image_classifier'), "--handler image_classifier is one of TorchServe's built-in Python handlers; here a plain ONNX model needs --handler onnx_generic"],
      [base('m', handler, '--model-file', 'model.py'), '--model-file is not supported'],
      [base('m', `${handler}:nope`), 'exports no "nope" (its exports: padded)'],
    ] as const) {
      const r = await archiver(...args);
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const ok = await archiver(...base('rt', `${handler}:padded`, '--runtime', 'node', '--skip-type-check'));
    expect(ok.code).toBe(0);
    const manifest = JSON.parse(new TextDecoder().decode(unzipSync(await readFile(join(out, 'rt.mar')))['MAR-INF/MANIFEST.json']));
    expect(manifest).toMatchObject({ runtime: 'node', model: { handler: 'handler.js:padded' } });
  });

  it('type-checks a TypeScript handler against the SDK first, unless told not to', async () => {
    const r = await archiver(...base('typo', join(project, 'typo.ts')));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has type errors (--skip-type-check archives it anyway)');
    expect(r.stderr).toMatch(/typo\.ts\(4,28\): error TS2551: Property 'jsonn' does not exist on type 'HandlerRequest'\. Did you mean 'json'\?/);
    expect((await archiver(...base('typo', join(project, 'typo.ts'), '--skip-type-check'))).code).toBe(0);
  });

  it('bundles the dependencies of --requirements-file, and refuses pip requirements and missing packages', async () => {
    const r = await archiver(...base('padder', `${join(project, 'handler.ts')}:padded`, '--requirements-file', join(project, 'package.json'), '--archive-format', 'zip-store'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`bundled from ${join(project, 'package.json')}: tiny-pad`);
    expect(r.stderr).toContain('not imported by the handler, so not bundled: unused-dep');
    expect(r.stderr).toContain('provided by the worker, not bundled: @model-server/sdk');
    const bytes = await readFile(join(out, 'padder.mar'));
    const files = unzipSync(bytes);
    expect(new TextDecoder().decode(files['handler.js'])).toMatch(/padStart\(width, ["']\*["']\)/);
    expect(JSON.parse(new TextDecoder().decode(files['MAR-INF/MANIFEST.json'])).model.requirementsFile).toBe('MAR-INF/package.json');
    expect(files['MAR-INF/package.json']).toBeDefined();
    // zip-store: every entry is stored (method 0), none deflated.
    const methods: number[] = [];
    for (let i = 0; i + 30 <= bytes.length; i++) if (bytes.readUInt32LE(i) === 0x04034b50) methods.push(bytes.readUInt16LE(i + 8));
    expect(methods.length).toBe(Object.keys(files).length);
    expect(new Set(methods)).toEqual(new Set([0]));

    server = await startServer({ store: out, models: ['padder.mar'] });
    const predicted = await fetch(`${server.url}/predictions/padder`, { method: 'POST', body: 'abc' });
    expect(await predicted.text()).toBe('*****abc');

    const pip = await archiver(...base('x', join(project, 'handler.ts'), '-r', join(project, 'requirements.txt')));
    expect(pip.code).toBe(2);
    expect(pip.stderr).toContain("it lists Python packages (pip), which do not apply here; give the handler's package.json");
    const missing = await archiver(...base('x', join(project, 'handler.ts'), '-r', join(project, 'missing.json'), '--skip-type-check'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`are not installed where the handler imports them from: not-installed; run "npm install" in ${project} first`);
  });

  it("bundles a source map: a handler's stack trace in the gateway's error log points at its own .ts line", async () => {
    const store = await tempDir('ms-sourcemap-');
    const r = await archiver('--model-name', 'boom', '--version', '1.0', '--handler', SOURCEMAP_HANDLER, '--export-path', store, '--config-file', join(await configDir(), 'model-config.yaml'));
    expect(r.code, r.stderr).toBe(0);
    const running = await startServerProcess({ store, models: ['boom.mar'], env: { LOG_LEVEL: 'error' } });
    try {
      const res = await postJson(`${running.url}/predictions/boom`, { any: 1 });
      expect(res.status).toBe(500);
      expect(res.json['message']).toBe('exploded on {"any":1}');
      let logged: { level: number; stack?: string } | undefined;
      for (let i = 0; i < 200 && !logged; i++) {
        logged = running
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { level: number; stack?: string })
          .find((l) => l.level === 50 && l.stack !== undefined);
        if (!logged) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(logged?.stack).toMatch(/Error: exploded on \{"any":1\}\n\s+at explode \(\S*handler\.ts:11:9\)/);
      expect(logged?.stack).not.toMatch(/handler\.js:\d+/);
    } finally {
      await running.stop();
    }
  });
});

async function configDir(): Promise<string> {
  const dir = await tempDir('ms-sourcemap-cfg-');
  await writeFile(join(dir, 'model-config.yaml'), 'minWorkers: 1\n');
  return dir;
}
