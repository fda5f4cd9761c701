import { rm } from 'node:fs/promises';
import { ModelServerError } from '@model-server/protocol';
import { MODEL_NAME_PATTERN } from '@model-server/archive';
import type { AllowedUrls } from './allowed-urls.js';
import { archiveSource, modelStore } from './archive-source.js';
import type { ManagementContext } from './management-context.js';
import type { Params } from './params.js';

const MS_PER_S = 1000;

export interface StatusReply {
  status: number;
  message: string;
}

/**
 * Why a registration's workers did not start: the archive's fault when its handler module does not
 * export the entry its manifest names (400 INVALID_MODEL_ARCHIVE, as the gateway's own archive checks
 * answer), else WORKERS_START_FAILED with the worker's reason. (A workflow's function node keeps
 * WORKERS_START_FAILED: its entries are the workflow's, named by its spec.)
 */
export function startFailure(version: { name: string; version: string; url: string; pool: { lastError: ModelServerError | undefined } }): ModelServerError {
  const last = version.pool.lastError;
  if (last?.code === 'HANDLER_NOT_FOUND') return new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: version.url, reason: last.message }, { cause: last });
  return new ModelServerError('WORKERS_START_FAILED', { model: version.name, version: version.version, reason: last?.message ?? 'workers did not start' });
}

/**
 * `POST /models`: registers an archive from the model store or an allowed http(s) URL, with
 * TorchServe's parameters, status codes and messages. `synchronous` defaults to true as in
 * TorchServe's code (its docs say false). A synchronous registration whose workers cannot start is
 * undone and answered 500 with the reason the worker gave.
 */
export async function registerModel(ctx: ManagementContext, params: Params, allowed: AllowedUrls): Promise<StatusReply> {
  if (!ctx.config.enable_model_api) throw new ModelServerError('MODEL_API_DISABLED');
  const url = params.string('url');
  if (!url) throw new ModelServerError('BAD_REQUEST', { reason: 'Parameter url is required.' });
  const name = params.string('model_name');
  if (name !== undefined && !MODEL_NAME_PATTERN.test(name)) {
    throw new ModelServerError('BAD_REQUEST', { reason: `Invalid model name "${name}": must match ${MODEL_NAME_PATTERN.source}` });
  }
  const runtime = params.string('runtime');
  if (runtime !== undefined && runtime !== 'node') throw new ModelServerError('BAD_REQUEST', { reason: `Invalid RuntimeType value: ${runtime}` });
  const initialWorkers = params.workers('initial_workers', ctx.config.max_workers_per_model);
  const batchSize = params.int('batch_size', 1);
  const maxBatchDelay = params.int('max_batch_delay', 0);
  const responseTimeout = params.int('response_timeout', 1);
  const startupTimeout = params.int('startup_timeout', 1);
  const synchronous = params.bool('synchronous') ?? true;

  const { name: archive, downloaded } = await archiveSource(url, modelStore(ctx.config), allowed, ctx.config);

  let version;
  try {
    version = await ctx.register({
      url: archive,
      name,
      synchronous,
      minWorkers: initialWorkers,
      maxWorkers: initialWorkers,
      batchSize,
      maxBatchDelayMs: maxBatchDelay,
      responseTimeoutMs: responseTimeout === undefined ? undefined : responseTimeout * MS_PER_S,
      startupTimeoutMs: startupTimeout === undefined ? undefined : startupTimeout * MS_PER_S,
    });
  } catch (err) {
    if (downloaded) await rm(downloaded, { force: true });
    throw err;
  }
  const label = `Model "${version.name}" Version: ${version.version}`;
  const workers = version.settings.minWorkers;
  if (workers > 0 && synchronous && version.pool.liveCount < workers) {
    // Another call got in while the workers started. A DELETE of this very version undid the
    // registration: a conflict, not a server failure, and nothing is left to undo (the name may even
    // belong to a newer registration by now, which must not be removed). A scale changed the target:
    // the model is registered, with the workers asked for last.
    if (ctx.registry.find(version.name, version.version) !== version) {
      if (downloaded) await rm(downloaded, { force: true });
      throw new ModelServerError('CONFLICT', { reason: `${label} was unregistered while its workers were starting` });
    }
    if (version.pool.target !== workers) {
      ctx.modelsChanged();
      return { status: 200, message: `${label} registered; its workers were scaled to ${version.pool.target} meanwhile` };
    }
    const failure = startFailure(version);
    await ctx.unregister(version.name, version.version).catch(() => undefined);
    if (downloaded) await rm(downloaded, { force: true });
    throw failure;
  }
  ctx.modelsChanged();
  if (workers === 0) {
    return { status: 200, message: `${label} registered with 0 initial workers. Use scale workers API to add workers for the model.` };
  }
  if (!synchronous) return { status: 202, message: 'Processing worker updates...' };
  return { status: 200, message: `${label} registered with ${workers} initial workers` };
}
