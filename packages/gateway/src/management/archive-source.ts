import { access } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ModelServerError } from '@model-server/protocol';
import type { ServerConfig } from '../config/server-config.js';
import type { AllowedUrls } from './allowed-urls.js';
import { downloadArchive } from './download.js';
import { locateModel, type ModelLocation } from './model-url.js';

/** The folder archives of one kind are registered from: the model store or the workflow store. */
export interface ArchiveStore {
  /** `model_store` / `workflow_store`; absolute paths are allowed when it is not set. */
  dir: string | undefined;
  /** What it is called in messages (`model store`), and the flag that sets it (`--model-store`). */
  label: string;
  flag: string;
  /** The file endings a download may have (`mar`, `tar.gz`, `tgz`; `war`). */
  extensions: readonly string[];
  /** The error for an archive that is not there (MODEL_NOT_FOUND, WORKFLOW_NOT_FOUND). */
  notFound(detail: string): ModelServerError;
}

/** Where a registration's `url` led: a name in the store (or an absolute path), and whether it was just downloaded. */
export interface ArchiveSource {
  /** A file or folder name in the store, or an absolute path when no store is set. */
  name: string;
  /** The path to open. */
  path: string;
  /** Set when the archive was downloaded for this registration (removed again if it fails). */
  downloaded: string | undefined;
}

/**
 * The archive a store path or file:// URL names, after the checks TorchServe makes: a file or folder
 * directly in the store (returned as its name there), or an absolute path when no store is set. A
 * file:// URL must match `allowed_urls` too, as the path that is opened.
 */
async function localArchive(store: ArchiveStore, url: string, location: Exclude<ModelLocation, { kind: 'http' }>, allowed: AllowedUrls): Promise<ArchiveSource> {
  if (location.kind === 'file') allowed.check(location.url);
  const path = location.path;
  let full = path;
  let name = path;
  if (store.dir) {
    full = isAbsolute(path) ? path : join(store.dir, path);
    name = relative(resolve(store.dir), resolve(full));
    if (name === '' || name.startsWith('..') || isAbsolute(name) || name.includes('/') || name.includes('\\')) {
      throw store.notFound(`${url} (only archives directly in the ${store.label} can be registered)`);
    }
  } else if (!isAbsolute(path)) {
    throw store.notFound(`${url} (no ${store.label} configured)`);
  }
  try {
    await access(full);
  } catch {
    throw store.notFound(`${url} (no such archive in the ${store.label})`);
  }
  return { name, path: full, downloaded: undefined };
}

/**
 * The one reading of a registration's `url` for models and workflows alike: a store name, a file://
 * URL or an absolute path (local), or an http(s) URL matching `allowed_urls`, downloaded into the store
 * with the server's size and time limits (see downloadArchive).
 */
export async function archiveSource(url: string, store: ArchiveStore, allowed: AllowedUrls, config: ServerConfig): Promise<ArchiveSource> {
  const location = locateModel(url);
  if (location.kind !== 'http') return localArchive(store, url, location, allowed);
  if (!store.dir) throw new ModelServerError('BAD_REQUEST', { reason: `Registering from a URL needs a ${store.label} to download into (${store.flag})` });
  const file = await downloadArchive(location.url, {
    allowed,
    dir: store.dir,
    maxBytes: config.max_download_size,
    connectTimeout: config.download_connect_timeout,
    idleTimeout: config.download_idle_timeout,
    timeout: config.download_timeout,
    extensions: store.extensions,
  });
  const path = join(store.dir, file);
  return { name: file, path, downloaded: path };
}

/** The model store, as registrations from it see it. */
export function modelStore(config: ServerConfig): ArchiveStore {
  return {
    dir: config.model_store,
    label: 'model store',
    flag: '--model-store',
    extensions: ['mar', 'tar.gz', 'tgz'],
    notFound: (detail) => new ModelServerError('MODEL_NOT_FOUND', { model: detail }),
  };
}
