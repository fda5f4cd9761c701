import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelServerError } from '@model-server/protocol';
import type { AllowedUrls } from './allowed-urls.js';

const MAX_REDIRECTS = 5;
/** A download that makes no progress for this long is abandoned. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const ARCHIVE_NAME = /^[A-Za-z0-9][\w.-]*\.(mar|tar\.gz|tgz)$/;

export interface DownloadOptions {
  allowed: AllowedUrls;
  /** Folder the archive is saved in (the model store). */
  dir: string;
  maxBytes: number;
}

/**
 * Downloads a model archive into the model store and returns its file name. Every hop of a redirect
 * must match `allowed_urls` too (otherwise an allowed host could bounce the server anywhere), the size
 * is capped while streaming (Content-Length may lie or be absent), and the file appears under its
 * final name only once complete. An archive of the same name already in the store is a conflict.
 */
export async function downloadArchive(url: string, options: DownloadOptions): Promise<string> {
  const fail = (reason: string, cause?: unknown): ModelServerError => new ModelServerError('DOWNLOAD_FAILED', { url, reason }, { cause });
  const name = basename(new URL(url).pathname);
  if (!ARCHIVE_NAME.test(name)) throw fail(`the URL must end in a .mar, .tar.gz or .tgz file name (got "${name}")`);
  const target = join(options.dir, name);
  if (await stat(target).then(() => true, () => false)) {
    throw new ModelServerError('CONFLICT', { reason: `Model file ${name} already exists in the model store` });
  }
  let current = url;
  let res: Response | undefined;
  const signal = AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS);
  for (let hop = 0; ; hop++) {
    options.allowed.check(current);
    try {
      res = await fetch(current, { redirect: 'manual', signal });
    } catch (cause) {
      throw fail((cause as Error).message, cause);
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) break;
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw fail(`more than ${MAX_REDIRECTS} redirects`);
    current = new URL(location, current).toString();
  }
  if (!res.ok || !res.body) throw fail(`HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await res.body.cancel();
    throw fail(`archive of ${declared} bytes exceeds max_download_size (${options.maxBytes} bytes)`);
  }
  let received = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.byteLength;
      if (received > options.maxBytes) done(fail(`archive exceeds max_download_size (${options.maxBytes} bytes)`));
      else done(null, chunk);
    },
  });
  const partial = `${target}.download-${process.pid}-${Date.now()}`;
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), limit, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, target);
  } catch (cause) {
    await rm(partial, { force: true });
    throw cause instanceof ModelServerError ? cause : fail((cause as Error).message, cause);
  }
  return name;
}
