import { z } from 'zod';
import { ModelServerError } from '@model-server/protocol/wire';
import { MODEL_NAME_PATTERN } from './names.js';

/** Where a workflow archive keeps its manifest (TorchServe's `.war` layout). */
export const WORKFLOW_MANIFEST_PATH = 'WAR-INF/MANIFEST.json';

/** TorchServe's workflow manifest, plus `handlerExports`, which our archiver records. */
export interface WorkflowManifest {
  createdOn?: string | undefined;
  archiverVersion?: string | undefined;
  workflow: {
    workflowName: string;
    /** The spec YAML, a file of the archive. */
    specFile: string;
    /** The handler module of the function nodes (a bundled `.js`), a file of the archive; none when every node is a model. */
    handler?: string | undefined;
    /**
     * The names the handler module exports, as the archiver's bundler saw them: a dag node naming no
     * model and no export is refused at registration instead of when its worker loads.
     */
    handlerExports?: string[] | undefined;
  };
}

const manifestSchema = z.looseObject({
  createdOn: z.string().optional(),
  archiverVersion: z.string().optional(),
  workflow: z.looseObject({
    workflowName: z.string().regex(MODEL_NAME_PATTERN, `must match ${MODEL_NAME_PATTERN.source}`),
    specFile: z.string().min(1),
    handler: z.string().min(1).optional(),
    handlerExports: z.array(z.string()).optional(),
  }),
});

export function parseWorkflowManifest(raw: unknown, archive: string): WorkflowManifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelServerError('INVALID_WORKFLOW_ARCHIVE', { archive, reason: `MANIFEST.json ${issue.path.join('.') || '(root)'}: ${issue.message}` });
  }
  return parsed.data;
}
