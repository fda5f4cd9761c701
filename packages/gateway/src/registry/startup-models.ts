import { ModelServerError } from '@model-server/protocol';
import type { RegisterOptions } from '../gateway.js';
import type { Logger } from '../logging/logger.js';
import { listModelStore, parseModelSpecs, type ModelSpec } from '../model-loader.js';
import type { ModelVersion } from '../models/model-version.js';
import { parseModelSnapshot } from '../snapshot/model-snapshot.js';
import type { ModelRegistry } from './model-registry.js';

export interface StartupContext {
  logger: Logger;
  registry: ModelRegistry;
  modelStore: string | undefined;
  /** Registers every version a path serves (Triton's layout may hold several). */
  registerAll(options: RegisterOptions): Promise<ModelVersion[]>;
}

/** What start-up loaded, and what it could not (readiness reports the latter). */
export interface StartupOutcome {
  loaded: ModelVersion[];
  failures: { url: string; reason: string }[];
}

/** The models named by `--models` / `load_models` (`all`: every archive in the store), side by side. */
export async function loadStartupModels(ctx: StartupContext, values: readonly string[]): Promise<StartupOutcome> {
  const specs: ModelSpec[] = [];
  for (const spec of parseModelSpecs(values)) {
    if (spec !== 'all') specs.push(spec);
    else if (ctx.modelStore) specs.push(...(await listModelStore(ctx.modelStore)));
    else throw new ModelServerError('CONFIG_INVALID', { file: '--models', reason: '"all" needs a model store (--model-store)' });
  }
  // One failing model does not stop the others.
  const results = await Promise.allSettled(specs.map((s) => ctx.registerAll({ url: s.url, name: s.name, synchronous: true })));
  const outcome: StartupOutcome = { loaded: [], failures: [] };
  results.forEach((r, i) => {
    const url = specs[i]!.url;
    if (r.status === 'fulfilled') outcome.loaded.push(...r.value);
    else {
      const reason = (r.reason as Error).message;
      ctx.logger.error({ url }, `failed to load model: ${reason}`);
      outcome.failures.push({ url, reason });
    }
  });
  return outcome;
}

/** Registers the models of a config snapshot as they were (scale, batching, default version). */
export async function restoreSnapshot(ctx: StartupContext, text: string): Promise<StartupOutcome> {
  const snapshot = parseModelSnapshot(text, 'model_snapshot');
  const entries = Object.entries(snapshot.models).flatMap(([name, versions]) => Object.entries(versions).map(([version, v]) => ({ name, version, v })));
  ctx.logger.info({ models: entries.length }, 'restoring models from the config snapshot (--models and load_models are ignored)');
  const results = await Promise.allSettled(
    entries.map(({ name, version, v }) =>
      ctx.registerAll({
        url: v.marName,
        name,
        version,
        synchronous: true,
        minWorkers: v.minWorkers,
        maxWorkers: v.maxWorkers,
        batchSize: v.batchSize,
        maxBatchDelayMs: v.maxBatchDelay,
        responseTimeoutMs: v.responseTimeout === undefined ? undefined : v.responseTimeout * 1000,
        startupTimeoutMs: v.startupTimeout === undefined ? undefined : v.startupTimeout * 1000,
      }),
    ),
  );
  const outcome: StartupOutcome = { loaded: [], failures: [] };
  results.forEach((r, i) => {
    const { name, version, v } = entries[i]!;
    if (r.status === 'rejected') {
      const reason = (r.reason as Error).message;
      ctx.logger.error({ model: name, version, url: v.marName }, `failed to restore model: ${reason}`);
      outcome.failures.push({ url: v.marName, reason });
      return;
    }
    const restored = r.value.at(-1)!;
    outcome.loaded.push(...r.value);
    if (restored.version !== version) ctx.logger.warn({ model: name, version }, `${v.marName} now holds version ${restored.version}`);
    if (v.defaultVersion) ctx.registry.setDefault(name, restored.version);
  });
  return outcome;
}
