import { readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { ModelServerError } from '@model-server/protocol';
import { isRawModelEntry } from '@model-server/archive';

/** A model to load at start: `name=path`, `path`, or every archive in the store (`all`). */
export interface ModelSpec {
  name?: string | undefined;
  url: string;
}

const ARCHIVE_PATTERN = /\.(mar|tar\.gz|tgz)$/i;

/** Parses `--models` / `load_models` entries (comma or space separated). */
export function parseModelSpecs(values: readonly string[]): (ModelSpec | 'all')[] {
  return values
    .flatMap((v) => v.split(/[,\s]+/))
    .filter((v) => v !== '')
    .map((v) => {
      if (v === 'all') return 'all';
      const eq = v.indexOf('=');
      return eq > 0 ? { name: v.slice(0, eq), url: v.slice(eq + 1) } : { url: v };
    });
}

/** Every archive, archive folder and model without an archive (.onnx, Triton's layout) in the model store. */
export async function listModelStore(store: string): Promise<ModelSpec[]> {
  const out: ModelSpec[] = [];
  for (const entry of (await readdir(store, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(store, entry.name);
    if (entry.isFile() && ARCHIVE_PATTERN.test(entry.name)) out.push({ url: entry.name });
    else if (entry.isDirectory() && (await stat(join(full, 'MAR-INF', 'MANIFEST.json')).catch(() => undefined))) out.push({ url: entry.name });
    else if ((entry.isFile() || entry.isDirectory()) && (await isRawModelEntry(full, entry.isDirectory()))) out.push({ url: entry.name });
  }
  return out;
}

/**
 * Resolves a model url to a local path: a file or folder name inside the model store (no `..`, no
 * sub-folders, as TorchServe), or an absolute path when there is no store.
 */
export function resolveModelPath(url: string, store: string | undefined): string {
  if (/^https?:\/\//i.test(url)) {
    throw new ModelServerError('BAD_REQUEST', { reason: `Downloading models from URLs is not supported here: ${url}` });
  }
  const local = url.replace(/^file:\/\//, '');
  if (store) {
    if (local.includes('..') || (local.includes('/') && !isAbsolute(local))) {
      throw new ModelServerError('MODEL_NOT_FOUND', { model: `${url} (relative paths must name a file in the model store)` });
    }
    return isAbsolute(local) ? local : join(store, basename(local));
  }
  if (!isAbsolute(local)) throw new ModelServerError('MODEL_NOT_FOUND', { model: `${url} (no model store configured)` });
  return local;
}
