import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelServerError } from '@model-server/protocol/wire';
import type { Context, Handler, HandlerRequest } from '@model-server/sdk';
import { isBuiltinHandler, resolvesToRuntime, safeEntryPath } from '@model-server/archive/names';
import { BUILTIN_HANDLERS } from './builtin/builtin-handlers.js';

let hooksInstalled = false;

/**
 * Lets handler bundles import the SDK and runtime packages from the worker's installation. Node 20
 * runs `module.register` hooks on a thread of their own with its own V8 isolate, 11 MB of resident
 * memory for the life of the worker, so they are installed only for a handler file whose folder does
 * not already resolve to this installation (the gateway links its unpack folder, runtime-modules.ts).
 */
function installResolveHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  register('./resolve-hooks.js', {
    parentURL: import.meta.url,
    data: { fallbackParentURL: import.meta.url },
  });
}

type HandleFn = (data: HandlerRequest[], context: Context) => Promise<unknown[]> | unknown[];
type InitFn = (context: Context) => Promise<void> | void;

function isClass(value: unknown): value is new () => Handler {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/**
 * Resolves the manifest's `handler` (a built-in name such as `onnx_generic`, "file.js" or
 * "file.js:ExportName") to a Handler: a default-exported
 * class (instantiated), a module with `handle` (and optional `initialize`), or a default-exported object
 * with `handle`. A named export is a class, a `handle` function, or an object with `handle` (and
 * optional `initialize`); a name the module does not export is HANDLER_NOT_FOUND.
 */
export async function loadHandler(modelDir: string, spec: string): Promise<Handler> {
  if (isBuiltinHandler(spec)) return BUILTIN_HANDLERS[spec]();
  if (!resolvesToRuntime(modelDir)) installResolveHooks();
  const [file, exportName] = spec.split(':', 2) as [string, string | undefined];
  const path = safeEntryPath(modelDir, file, modelDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelServerError(
      'MODEL_LOAD_FAILED',
      { model: join(modelDir, file), reason: `cannot import handler: ${(cause as Error).message}` },
      { cause },
    );
  }
  const picked = exportName ? mod[exportName] : (mod['default'] ?? mod);
  // A named export stands alone (a workflow's function node): never the module's own `handle` instead.
  if (exportName && (picked === null || (typeof picked !== 'function' && typeof picked !== 'object'))) throw new ModelServerError('HANDLER_NOT_FOUND', { file: spec });
  if (isClass(picked)) return new picked();
  if (typeof picked === 'function' && exportName) return { handle: picked as HandleFn };
  const holder = (picked ?? {}) as Record<string, unknown>;
  const fallback = exportName ? {} : mod;
  const handle = (typeof holder['handle'] === 'function' ? holder['handle'] : fallback['handle']) as HandleFn | undefined;
  if (typeof handle === 'function') {
    const init = (typeof holder['initialize'] === 'function' ? holder['initialize'] : fallback['initialize']) as InitFn | undefined;
    const handler: Handler = { handle: (data, ctx) => handle.call(holder, data, ctx) };
    if (typeof init === 'function') handler.initialize = (ctx) => init.call(holder, ctx);
    return handler;
  }
  if (typeof picked === 'function') return { handle: picked as HandleFn };
  throw new ModelServerError('HANDLER_NOT_FOUND', { file });
}
