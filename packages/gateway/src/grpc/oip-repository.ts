import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelServerError } from '@model-server/protocol';
import { listModelStore } from '../model-loader.js';
import { Params } from '../management/params.js';
import { registerModel } from '../management/register-model.js';
import { unregisterModel } from '../management/unregister-model.js';
import type { ModelVersion } from '../models/model-version.js';
import { isReady } from '../oip/model-state.js';
import type { GrpcDeps } from './grpc-deps.js';
import type { RepositoryModelRequest } from './messages.js';
import { required } from './submit.js';

interface ModelIndex {
  name: string;
  version: string;
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  reason: string;
}

const ARCHIVE_SUFFIXES = ['.mar', '.tar.gz', '.tgz', ''];

function stateOf(v: ModelVersion): ModelIndex {
  const entry = { name: v.name, version: v.version };
  if (v.draining) return { ...entry, state: 'UNLOADING', reason: 'being unregistered' };
  if (isReady(v)) return { ...entry, state: 'READY', reason: '' };
  if (v.pool.failed) return { ...entry, state: 'UNAVAILABLE', reason: v.pool.lastError?.message ?? 'its workers failed to start' };
  if (v.pool.target === 0) return { ...entry, state: 'UNAVAILABLE', reason: 'it has no workers (scale it up)' };
  return { ...entry, state: 'LOADING', reason: '' };
}

/** An archive's model name as TorchServe names it by default: the file name without its extension. */
function storeName(file: string): string {
  return file.replace(/\.(mar|tar\.gz|tgz)$/i, '');
}

/**
 * Triton's repository index: every registered version with its state, then the archives of the model
 * store that are not registered (UNAVAILABLE, "unloaded", as Triton lists unloaded models).
 */
export async function repositoryIndex(deps: GrpcDeps, readyOnly: boolean): Promise<{ models: ModelIndex[] }> {
  const { registry, config } = deps.ctx;
  const models = registry.all().map(stateOf);
  if (config.model_store) {
    const registered = new Set(registry.names());
    for (const spec of await listModelStore(config.model_store)) {
      const name = storeName(spec.url);
      if (!registered.has(name)) models.push({ name, version: '', state: 'UNAVAILABLE', reason: 'unloaded' });
    }
  }
  models.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  return { models: readyOnly ? models.filter((m) => m.state === 'READY') : models };
}

/** The model store's archive for a model name: `<name>.mar`, `.tar.gz`, `.tgz`, or a folder `<name>`. */
async function archiveFor(store: string | undefined, name: string): Promise<string> {
  if (store && /^[A-Za-z0-9][\w.-]*$/.test(name)) {
    for (const suffix of ARCHIVE_SUFFIXES) {
      const file = `${name}${suffix}`;
      if (await access(join(store, file)).then(() => true, () => false)) return file;
    }
  }
  throw new ModelServerError('MODEL_NOT_FOUND', { model: `${name} (no archive of that name in the model store)` });
}

function refuseOverrides(request: RepositoryModelRequest): void {
  const overrides = Object.keys(request.parameters).filter((k) => k === 'config' || k.startsWith('file:'));
  if (overrides.length > 0) {
    throw new ModelServerError('INVALID_INPUT', { reason: `load parameters ${overrides.join(', ')} (configuration and file overrides) are not supported; the archive is loaded as it is` });
  }
}

/**
 * Triton's RepositoryModelLoad: registers the store's archive named after the model and waits for its
 * workers, under the management API's rules (needs enable_model_api). A model already registered is
 * left as it is.
 */
export async function repositoryLoad(deps: GrpcDeps, request: RepositoryModelRequest): Promise<Record<string, never>> {
  const { ctx } = deps;
  if (!ctx.config.enable_model_api) throw new ModelServerError('MODEL_API_DISABLED');
  const name = required(request.model_name, 'model_name');
  refuseOverrides(request);
  if (ctx.registry.find(name)) return {};
  const url = await archiveFor(ctx.config.model_store, name);
  await registerModel(ctx, new Params({ url, model_name: name, synchronous: 'true' }), deps.allowed);
  return {};
}

/** Triton's RepositoryModelUnload: unregisters every version of the model (the default one last), draining each. */
export async function repositoryUnload(deps: GrpcDeps, request: RepositoryModelRequest): Promise<Record<string, never>> {
  const { ctx } = deps;
  if (!ctx.config.enable_model_api) throw new ModelServerError('MODEL_API_DISABLED');
  const name = required(request.model_name, 'model_name');
  const versions = ctx.registry.versionsOf(name);
  if (versions.length === 0) throw new ModelServerError('MODEL_NOT_FOUND', { model: name });
  const defaultVersion = ctx.registry.defaultVersionOf(name);
  const order = [...versions.filter((v) => v.version !== defaultVersion), ...versions.filter((v) => v.version === defaultVersion)];
  for (const v of order) await unregisterModel(ctx, name, v.version);
  return {};
}
