import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { openWorkflowArchive } from '@model-server/archive';
import { ROOT, tempDir } from './helpers/models.js';
import { WORKFLOW_HANDLER } from './helpers/workflows.js';

const CLI = join(ROOT, 'packages', 'workflow-archiver', 'dist', 'main.js');
const archiver = (...args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false });

let src: string;
let out: string;
let spec: string;
let extraDir: string;

beforeAll(async () => {
  src = await tempDir('ms-wf-src-');
  out = await tempDir('ms-wf-out-');
  spec = join(src, 'spec.yaml');
  await writeFile(spec, 'models:\n  batch-size: 2\n  left:\n    url: probe.mar\ndag:\n  fan: [left]\n  left: [merge]\n');
  extraDir = join(src, 'assets');
  await mkdir(extraDir);
  await writeFile(join(extraDir, 'words.txt'), 'a\nb\n');
  await writeFile(join(src, 'probe.mar'), 'not really a model');
});

const base = (name: string) => ['--workflow-name', name, '--spec-file', spec, '--handler', WORKFLOW_HANDLER, '--export-path', out];

describe('workflow-archiver CLI', () => {
  it('builds a .war: WAR-INF/MANIFEST.json naming the spec, the handler and its exports; the handler bundled with the SDK left external', async () => {
    const r = await archiver(...base('pipeline'), '--extra-files', `${join(src, 'probe.mar')},${extraDir}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(join(out, 'pipeline.war'));
    const files = unzipSync(await readFile(join(out, 'pipeline.war')));
    expect(Object.keys(files).sort()).toEqual(['WAR-INF/MANIFEST.json', 'assets/words.txt', 'handler.js', 'probe.mar', 'spec.yaml']);
    const manifest = JSON.parse(new TextDecoder().decode(files['WAR-INF/MANIFEST.json']));
    expect(manifest).toMatchObject({ archiverVersion: '0.1.0', workflow: { workflowName: 'pipeline', specFile: 'spec.yaml', handler: 'handler.js' } });
    expect(manifest.createdOn).toMatch(/^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/);
    expect(manifest.workflow.handlerExports).toEqual(expect.arrayContaining(['fan', 'merge', 'shout', 'tail', 'flaky']));
    const bundle = new TextDecoder().decode(files['handler.js']);
    expect(bundle).toMatch(/from ["']@model-server\/sdk["']/);
    // What the server reads back is what was built.
    const opened = await openWorkflowArchive(join(out, 'pipeline.war'), { workDir: await tempDir('ms-wf-unpack-') });
    expect(opened.spec.functions).toEqual(['fan', 'merge']);
    expect(opened.spec.dag.edges).toEqual({ fan: ['left'], left: ['merge'], merge: [] });
  });

  it('refuses to overwrite without -f, and overwrites with it', async () => {
    expect((await archiver(...base('again'))).exitCode).toBe(0);
    const r = await archiver(...base('again'));
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/again\.war already exists; use --force/);
    expect((await archiver(...base('again'), '-f')).exitCode).toBe(0);
  });

  it('refuses a spec the server would refuse, without writing anything', async () => {
    const cyclic = join(src, 'cyclic.yaml');
    await writeFile(cyclic, 'dag:\n  fan: [shout]\n  shout: [fan]\n');
    const r = await archiver('--workflow-name', 'cyclic', '--spec-file', cyclic, '--handler', WORKFLOW_HANDLER, '--export-path', out);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Invalid workflow DAG in .*cyclic\.yaml: the graph has a cycle: fan -> shout -> fan/);
    const missing = join(src, 'missing.yaml');
    await writeFile(missing, 'dag:\n  fan: [nowhere]\n');
    const m = await archiver('--workflow-name', 'missing', '--spec-file', missing, '--handler', WORKFLOW_HANDLER, '--export-path', out);
    expect(m.exitCode).toBe(2);
    expect(m.stderr).toMatch(/node nowhere is not a model of models: nor a function of handler\.js \(it exports /);
    const noHandler = await archiver('--workflow-name', 'bare', '--spec-file', missing, '--export-path', out);
    expect(noHandler.stderr).toMatch(/the workflow has no handler module for function nodes/);
    for (const name of ['cyclic', 'missing', 'bare']) await expect(stat(join(out, `${name}.war`))).rejects.toThrow();
  });

  it('prints its usage, and refuses missing flags, a bad name and clashing file names', async () => {
    const help = await archiver('--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/--workflow-name NAME --spec-file SPEC\.yaml \[--handler HANDLER\.ts\]/);
    const none = await archiver('--workflow-name', 'x');
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/--spec-file is required/);
    const bad = await archiver('--workflow-name', '-x', '--spec-file', spec);
    expect(bad.exitCode).toBe(2);
    const clash = await archiver(...base('clash'), '--extra-files', spec);
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toMatch(/"spec\.yaml" is already used by --spec-file/);
  });
});
