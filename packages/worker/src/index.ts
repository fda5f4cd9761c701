import { fileURLToPath } from 'node:url';

export { safeEntryPath } from './safe-entry-path.js';
export { openArchive, MANIFEST_PATH, type OpenedArchive, type OpenArchiveOptions } from './archive.js';
export { BUILTIN_HANDLER_NAMES, isBuiltinHandler, type BuiltinHandlerName } from './builtin/builtin-names.js';
export { resolvesToRuntime, runtimeNodeModules, runtimeWorkDir } from './runtime-modules.js';
export { UnpackCache } from './unpack-cache.js';
export { parseManifest, MODEL_NAME_PATTERN, MODEL_VERSION_PATTERN, SUPPORTED_RUNTIMES } from './manifest.js';

/** Path of the worker's process entry, for the gateway to spawn. */
export const WORKER_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));
