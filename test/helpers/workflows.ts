import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { createWorkflowArchive } from '@model-server/workflow-archiver';
import { ROOT, tempDir } from './models.js';

/** The function nodes of the workflow tests (test/fixtures/workflow/handler.ts). */
export const WORKFLOW_HANDLER = join(ROOT, 'test', 'fixtures', 'workflow', 'handler.ts');

export interface FixtureWorkflow {
  name: string;
  /** The spec YAML text. */
  spec: string;
  /** Default: the fixture handler; `null` for a workflow without one. */
  handler?: string | null;
  extraFiles?: string[];
}

/** Builds `<name>.war` into `store` with the real workflow-archiver; returns its file name. */
export async function buildWorkflow(store: string, wf: FixtureWorkflow): Promise<string> {
  const dir = await tempDir('ms-spec-');
  const specFile = join(dir, 'spec.yaml');
  await writeFile(specFile, wf.spec);
  const handler = wf.handler === null ? undefined : (wf.handler ?? WORKFLOW_HANDLER);
  const out = await createWorkflowArchive({ workflowName: wf.name, specFile, handler, extraFiles: wf.extraFiles, exportPath: store, force: true });
  return out.slice(store.length + 1);
}

/**
 * A `.war` zipped by hand, as another tool could make it: the archiver would refuse to build a bad
 * graph, and the server must refuse it just the same. `exports` become a handler.js exporting one
 * function each, listed in the manifest as its exports unless `listExports` is false.
 */
export async function handMadeWorkflow(store: string, name: string, spec: string, exports?: string[], options: { listExports?: boolean } = {}): Promise<string> {
  await mkdir(store, { recursive: true });
  const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
  const workflow: Record<string, unknown> = { workflowName: name, specFile: 'spec.yaml' };
  const files: Record<string, Uint8Array> = { 'spec.yaml': encode(spec) };
  if (exports) {
    workflow['handler'] = 'handler.js';
    if (options.listExports !== false) workflow['handlerExports'] = exports;
    files['handler.js'] = encode(exports.map((e) => `export function ${e}(data) { return data.map(() => '${e}'); }`).join('\n'));
  }
  files['WAR-INF/MANIFEST.json'] = encode(JSON.stringify({ createdOn: '01/01/2026 00:00:00', archiverVersion: 'by-hand', workflow }));
  const file = `${name}.war`;
  await writeFile(join(store, file), zipSync(files));
  return file;
}
