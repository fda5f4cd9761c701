import { z } from 'zod';
import { ModelServerError } from '@model-server/protocol/wire';
import type { Manifest } from '@model-server/sdk';

import { MODEL_NAME_PATTERN, MODEL_VERSION_PATTERN, SUPPORTED_RUNTIMES } from './names.js';

const manifestSchema = z.looseObject({
  createdOn: z.string().optional(),
  runtime: z.string(),
  archiverVersion: z.string().optional(),
  model: z.looseObject({
    modelName: z.string().regex(MODEL_NAME_PATTERN, 'must match ^[A-Za-z0-9][A-Za-z0-9_\\-.]*$'),
    modelVersion: z.string().regex(MODEL_VERSION_PATTERN, 'must match ^[A-Za-z0-9][A-Za-z0-9_\\-.]*$'),
    serializedFile: z.string().optional(),
    handler: z.string().min(1),
    configFile: z.string().optional(),
  }),
});

export function parseManifest(raw: unknown, archive: string): Manifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', {
      archive,
      reason: `MANIFEST.json ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    });
  }
  if (!(SUPPORTED_RUNTIMES as readonly string[]).includes(parsed.data.runtime)) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', {
      archive,
      reason: `runtime "${parsed.data.runtime}" is not supported (expected one of: ${SUPPORTED_RUNTIMES.join(', ')})`,
    });
  }
  return parsed.data as Manifest;
}
