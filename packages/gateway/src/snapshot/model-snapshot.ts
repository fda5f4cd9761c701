import { z } from 'zod';
import { ModelServerError } from '@model-server/protocol';
import type { ModelRegistry } from '../registry/model-registry.js';
import { VERSION_SETTINGS_SHAPE } from '../config/models-block.js';

const MS_PER_S = 1000;

const versionEntry = z.looseObject({ ...VERSION_SETTINGS_SHAPE, marName: z.string().min(1), runtimeType: z.string().optional() });

/** TorchServe's `model_snapshot` JSON (SnapshotManager), the same fields so snapshots can move between the two. */
export const modelSnapshotSchema = z.looseObject({
  name: z.string().optional(),
  modelCount: z.number().int().optional(),
  created: z.number().optional(),
  models: z.record(z.string(), z.record(z.string(), versionEntry)),
});

export type ModelSnapshot = z.infer<typeof modelSnapshotSchema>;
export type SnapshotVersion = z.infer<typeof versionEntry>;

/** The registry's state as a `model_snapshot` value; `skip` leaves models out (those serving workflow nodes). */
export function buildModelSnapshot(registry: ModelRegistry, name: string, created = Date.now(), skip: (model: string) => boolean = () => false): ModelSnapshot {
  const models: ModelSnapshot['models'] = {};
  let modelCount = 0;
  for (const model of registry.names()) {
    if (skip(model)) continue;
    const versions: Record<string, SnapshotVersion> = {};
    const defaultVersion = registry.defaultVersionOf(model);
    for (const v of registry.versionsOf(model)) {
      modelCount++;
      const s = v.settings;
      versions[v.version] = {
        defaultVersion: v.version === defaultVersion,
        marName: v.url,
        // The pool's target, not the configured minimum: a scaled model comes back at its scale.
        minWorkers: v.pool.target,
        maxWorkers: Math.max(v.pool.target, s.maxWorkers),
        batchSize: s.batchSize,
        maxBatchDelay: s.maxBatchDelayMs,
        responseTimeout: Math.round(s.responseTimeoutMs / MS_PER_S),
        startupTimeout: Math.round(s.startupTimeoutMs / MS_PER_S),
        runtimeType: v.archive.manifest.runtime,
      };
    }
    models[model] = versions;
  }
  return { name, modelCount, created, models };
}

/** Parses a `model_snapshot` config value; CONFIG_INVALID names what is wrong. */
export function parseModelSnapshot(text: string, file: string): ModelSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ModelServerError('CONFIG_INVALID', { file, reason: `model_snapshot is not JSON: ${(cause as Error).message}` }, { cause });
  }
  const parsed = modelSnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelServerError('CONFIG_INVALID', { file, reason: `model_snapshot.${issue.path.join('.')}: ${issue.message}` });
  }
  return parsed.data;
}
