import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ModelServerError } from '@model-server/protocol';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (\w+) \|/gm)].map((m) => [m[1]!, { status: Number(m[2]), type: m[3]! }]),
);

describe('error catalog', () => {
  it('documents every code with its status and type', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(documented.get(code), `docs/errors.md is missing ${code}`).toEqual({ status: entry.status, type: entry.type });
    }
  });

  it('documents no code that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CATALOG), `docs/errors.md lists unknown ${code}`).toContain(code);
  });

  it('renders TorchServe error bodies from the catalog', () => {
    const err = new ModelServerError('MODEL_VERSION_NOT_FOUND', { model: 'mnist', version: '9' });
    expect(err.toJSON()).toEqual({
      code: 404,
      type: 'ModelVersionNotFoundException',
      message: 'Model version: 9 does not exist for model: mnist',
      errorCode: 'MODEL_VERSION_NOT_FOUND',
    });
  });
});
