import { readFile, stat } from 'node:fs/promises';
import { ModelServerError } from '@model-server/protocol/wire';
import { archiveFolder, fileInArchive, type OpenArchiveOptions } from './archive.js';
import { safeEntryPath } from './safe-entry-path.js';
import { parseWorkflowManifest, WORKFLOW_MANIFEST_PATH, type WorkflowManifest } from './workflow-manifest.js';
import { parseWorkflowSpec, type WorkflowSpec } from './workflow-spec.js';

export interface OpenedWorkflow {
  /** Folder with the archive's files (the original folder, or where it was unpacked). */
  dir: string;
  manifest: WorkflowManifest;
  spec: WorkflowSpec;
  /** Whether dir was unpacked by us (and may be removed once the workflow is unregistered). */
  unpacked: boolean;
}

/** The archive's files as errors of the workflow format (unpacking reports them as a model archive's). */
function asWorkflowError(err: unknown, archive: string): unknown {
  if (err instanceof ModelServerError && err.code === 'INVALID_MODEL_ARCHIVE') {
    return new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason: err.params['reason'] ?? err.message }, { cause: err });
  }
  return err;
}

async function readText(dir: string, name: string, what: string, archive: string): Promise<string> {
  try {
    return await readFile(safeEntryPath(dir, name, archive, what), 'utf8');
  } catch (cause) {
    if (cause instanceof ModelServerError) throw cause;
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason: `cannot read ${what} ${name}: ${(cause as Error).message}` }, { cause });
  }
}

/**
 * Opens a workflow archive: a `.war` zip (unpacked once under workDir, as model archives are) or a folder
 * with WAR-INF/MANIFEST.json. Reads the manifest and the spec and checks both, the graph included, so a
 * workflow that cannot run is refused before any of its models is registered. On failure nothing it
 * unpacked is in use (the caller removes it with the rest of its work dir).
 */
export async function openWorkflowArchive(path: string, options: OpenArchiveOptions): Promise<OpenedWorkflow> {
  let folder: { dir: string; unpacked: boolean };
  try {
    folder = await archiveFolder(path, options, WORKFLOW_MANIFEST_PATH);
  } catch (err) {
    throw asWorkflowError(err, path);
  }
  const { dir } = folder;
  let raw: unknown;
  try {
    raw = JSON.parse(await readText(dir, WORKFLOW_MANIFEST_PATH, 'manifest', path));
  } catch (cause) {
    if (cause instanceof ModelServerError) throw asWorkflowError(cause, path);
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive: path, reason: `${WORKFLOW_MANIFEST_PATH} is not JSON: ${(cause as Error).message}` }, { cause });
  }
  const manifest = parseWorkflowManifest(raw, path);
  const { specFile, handler, handlerExports } = manifest.workflow;
  const text = await readText(dir, specFile, 'specFile', path).catch((err: unknown) => {
    throw asWorkflowError(err, path);
  });
  if (handler !== undefined) {
    const file = await fileInArchive(dir, handler, path, 'handler').catch((err: unknown) => {
      throw asWorkflowError(err, path);
    });
    if (file === undefined || !(await stat(file)).isFile()) {
      throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive: path, reason: `handler ${handler} is not a file of the archive` });
    }
  }
  const spec = parseWorkflowSpec(text, { archive: path, handler, exports: handlerExports });
  return { dir, manifest, spec, unpacked: folder.unpacked };
}
