import { z } from 'zod';
import { ModelServerError } from '@model-server/protocol';
import { didYouMeanSuffix } from './did-you-mean.js';

/**
 * A model version's settings as TorchServe writes them in config.properties' `models={...}` block and in
 * `model_snapshot`: the same field names and units (timeouts in seconds, the delay in ms).
 */
export const VERSION_SETTINGS_SHAPE = {
  defaultVersion: z.boolean().optional(),
  minWorkers: z.number().int().min(0).optional(),
  maxWorkers: z.number().int().min(0).optional(),
  batchSize: z.number().int().positive().optional(),
  maxBatchDelay: z.number().int().min(0).optional(),
  responseTimeout: z.number().int().positive().optional(),
  startupTimeout: z.number().int().positive().optional(),
};

/** One version's entry of the `models` block; a misspelt field is refused (strict). */
const versionEntry = z.strictObject({ ...VERSION_SETTINGS_SHAPE, marName: z.string().min(1).optional() });

const FIELDS = Object.keys(versionEntry.shape);

export type ModelsBlockEntry = z.infer<typeof versionEntry>;
/** model name -> version -> settings. */
export type ModelsBlock = Readonly<Record<string, Readonly<Record<string, ModelsBlockEntry>>>>;

/**
 * Parses the `models` value (JSON). A bad value stops start-up with CONFIG_INVALID naming the model,
 * version and field; a misspelt field gets "did you mean".
 */
export function parseModelsBlock(text: string, file: string): ModelsBlock {
  if (text.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ModelServerError('CONFIG_INVALID', { file, reason: `models is not JSON: ${(cause as Error).message}` }, { cause });
  }
  const parsed = z.record(z.string(), z.record(z.string(), versionEntry)).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = `models.${issue.path.join('.')}`;
    if (issue.code === 'unrecognized_keys') {
      const hints = issue.keys.map((k) => `"${k}"${didYouMeanSuffix(k, FIELDS)}`).join(', ');
      throw new ModelServerError('CONFIG_INVALID', { file, reason: `${at}: unknown field ${hints}; the fields are ${FIELDS.join(', ')}` });
    }
    throw new ModelServerError('CONFIG_INVALID', { file, reason: `${at}: ${issue.message}` });
  }
  return parsed.data;
}

/** The block's entry for a model version, if it has one. */
export function modelsBlockEntry(block: ModelsBlock, name: string, version: string): ModelsBlockEntry | undefined {
  const versions = block[name];
  if (!versions) return undefined;
  return versions[version];
}

/**
 * The entry's settings as model-config.yaml keys, which the archive's own model-config.yaml overrides
 * (TorchServe's precedence: registration parameters > model-config.yaml > `models` > defaults).
 */
export function blockAsModelConfig(entry: ModelsBlockEntry | undefined): Record<string, unknown> {
  if (!entry) return {};
  const { defaultVersion: _d, marName: _m, ...settings } = entry;
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

/** The block's models as startup specs (`name=marName`), for a config that loads them through `models` alone. */
export function blockSpecs(block: ModelsBlock): { name: string; version: string; url: string; defaultVersion: boolean }[] {
  return Object.entries(block).flatMap(([name, versions]) =>
    Object.entries(versions).flatMap(([version, entry]) =>
      entry.marName ? [{ name, version, url: entry.marName, defaultVersion: entry.defaultVersion === true }] : [],
    ),
  );
}

/** Makes each block entry marked `defaultVersion: true` its model's default, once the models are loaded. */
export function applyBlockDefaults(
  block: ModelsBlock,
  registry: { versionsOf(name: string): readonly { version: string }[]; setDefault(name: string, version: string): void },
  logger: { warn(fields: object, message: string): void },
): void {
  for (const [name, versions] of Object.entries(block)) {
    for (const [version, entry] of Object.entries(versions)) {
      if (!entry.defaultVersion) continue;
      if (registry.versionsOf(name).some((v) => v.version === version)) registry.setDefault(name, version);
      else if (registry.versionsOf(name).length > 0) logger.warn({ model: name, version }, `models: defaultVersion ${version} of ${name} is not loaded`);
    }
  }
}
