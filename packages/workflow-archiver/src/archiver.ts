import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { HANDLER_BUNDLE, MODEL_NAME_PATTERN, parseWorkflowSpec, WORKFLOW_MANIFEST_PATH, writeArchive } from '@model-server/archive';
import { ArchiverError, bundleHandler, claimRootNames, formatCreatedOn, mustExist, PROVIDED_PACKAGES } from '@model-server/model-archiver';
import { ModelServerError } from '@model-server/protocol';

export const WORKFLOW_ARCHIVER_VERSION = '0.1.0';

/** TorchServe's torch-workflow-archiver flags, camelCased. */
export interface WorkflowArchiveOptions {
  workflowName: string;
  specFile: string;
  /** The module whose exports are the function nodes (TypeScript or JS; bundled). None when every node is a model. */
  handler?: string | undefined;
  /** Files or folders copied to the archive's root, such as the model archives the spec's `url`s name. */
  extraFiles?: string[] | undefined;
  exportPath: string;
  force?: boolean | undefined;
}

/**
 * Builds `<exportPath>/<workflowName>.war` and returns its path: the spec, the handler bundled as
 * model handlers are (what the worker provides stays external), the extra files, and
 * WAR-INF/MANIFEST.json with the names the bundle exports. The spec is checked as the server checks it
 * (properties, graph, function nodes against the exports), so a workflow the server would refuse is
 * not built.
 */
export async function createWorkflowArchive(opts: WorkflowArchiveOptions): Promise<string> {
  if (!MODEL_NAME_PATTERN.test(opts.workflowName)) {
    throw new ArchiverError(`invalid --workflow-name "${opts.workflowName}": must match ${MODEL_NAME_PATTERN.source}`);
  }
  await mustExist(opts.specFile, 'spec file');
  if (opts.handler) await mustExist(opts.handler, 'handler');
  for (const extra of opts.extraFiles ?? []) await mustExist(extra, 'extra file');
  claimRootNames(
    [
      ...(opts.handler ? [[HANDLER_BUNDLE, 'the bundled handler'] as [string, string]] : []),
      ['WAR-INF', 'the manifest folder'],
    ],
    [[opts.specFile, '--spec-file'], ...(opts.extraFiles ?? []).map((f): [string, string] => [f, '--extra-files'])],
  );
  const out = join(opts.exportPath, `${opts.workflowName}.war`);
  if (!opts.force && (await stat(out).then(() => true, () => false))) throw new ArchiverError(`${out} already exists; use --force to overwrite it`, 3);

  const staging = await mkdtemp(join(tmpdir(), 'workflow-archiver-'));
  try {
    const exports = opts.handler ? (await bundleHandler(opts.handler, join(staging, HANDLER_BUNDLE), PROVIDED_PACKAGES)).exports : undefined;
    const specFile = basename(opts.specFile);
    try {
      parseWorkflowSpec(await readFile(opts.specFile, 'utf8'), { archive: opts.specFile, handler: opts.handler ? HANDLER_BUNDLE : undefined, exports });
    } catch (err) {
      if (err instanceof ModelServerError) throw new ArchiverError(err.message);
      throw err;
    }
    await cp(opts.specFile, join(staging, specFile));
    for (const extra of opts.extraFiles ?? []) await cp(extra, join(staging, basename(extra)), { recursive: true });
    const workflow: Record<string, unknown> = { workflowName: opts.workflowName, specFile };
    if (exports) Object.assign(workflow, { handler: HANDLER_BUNDLE, handlerExports: exports });
    const manifest = { createdOn: formatCreatedOn(new Date()), archiverVersion: WORKFLOW_ARCHIVER_VERSION, workflow };
    await mkdir(opts.exportPath, { recursive: true });
    await writeArchive({ staging, manifest, manifestPath: WORKFLOW_MANIFEST_PATH }, out, 'default');
    return out;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
