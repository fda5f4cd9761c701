/**
 * The archive format's names and rules that a worker needs too, without zod or yaml (which cost a
 * worker process about 10 MB each): the entry `@model-server/archive/names`.
 */
export { BUILTIN_HANDLER_NAMES, isBuiltinHandler, type BuiltinHandlerName } from './builtin-names.js';
export { safeEntryPath } from './safe-entry-path.js';
export { resolvesToRuntime, runtimeNodeModules, runtimeWorkDir } from './runtime-modules.js';

/** Where every archive keeps its manifest (TorchServe's layout). */
export const MANIFEST_PATH = 'MAR-INF/MANIFEST.json';

/** TorchServe's model-name pattern, kept so that names valid there are valid here. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_\-.]*$/;
export const MODEL_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_\-.]*$/;

/** Runtimes this server can run; TorchServe's `python` archives are refused with a clear reason. */
export const SUPPORTED_RUNTIMES = ['node'] as const;

/** Files an archive of this server names in its manifest besides the handler bundle. */
export const HANDLER_BUNDLE = 'handler.js';
