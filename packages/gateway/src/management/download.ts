import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelServerError } from '@model-server/protocol';
import type { AllowedUrls } from './allowed-urls.js';
import { redirectTarget, type NormalizedUrl } from './model-url.js';
import { timedGet, type TimedGet } from './timed-get.js';

const MAX_REDIRECTS = 5;
const MS_PER_S = 1000;
/** The file endings of model archives, which a download may have unless told otherwise. */
const MODEL_ARCHIVE_EXTENSIONS = ['mar', 'tar.gz', 'tgz'];

export interface DownloadOptions {
  allowed: AllowedUrls;
  /** Folder the archive is saved in (the model store). */
  dir: string;
  /** `max_download_size`. */
  maxBytes: number;
  /** `download_connect_timeout`, seconds. */
  connectTimeout: number;
  /** `download_idle_timeout`, seconds. */
  idleTimeout: number;
  /** `download_timeout`, seconds: the whole download, every redirect hop and the body included. */
  timeout: number;
  /** The endings the URL's file name may have (default: a model archive's, `mar`, `tar.gz`, `tgz`). */
  extensions?: readonly string[];
}

/**
 * Downloads a model archive into the model store and returns its file name. Every hop of a redirect
 * is normalized and checked against `allowed_urls` as the first URL was (otherwise an allowed host
 * could bounce the server anywhere), the size is capped while streaming (Content-Length may lie or be
 * absent), a peer that is slow to connect, falls silent or trickles bytes runs into one of three
 * time limits, and the file appears under its final name only once complete. An archive of the same
 * name already in the store is a conflict.
 */
/** `a, b or c`. */
function listOr(items: readonly string[]): string {
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}

export async function downloadArchive(url: NormalizedUrl, options: DownloadOptions): Promise<string> {
  const fail = (reason: string, cause?: unknown): ModelServerError => new ModelServerError('DOWNLOAD_FAILED', { url, reason }, { cause });
  const timedOut = (reason: string): ModelServerError => new ModelServerError('DOWNLOAD_TIMEOUT', { url, reason });
  options.allowed.check(url);
  const name = basename(new URL(url).pathname);
  const extensions = options.extensions ?? MODEL_ARCHIVE_EXTENSIONS;
  const pattern = new RegExp(`^[A-Za-z0-9][\\w.-]*\\.(${extensions.map((e) => e.replace('.', '\\.')).join('|')})$`);
  if (!pattern.test(name)) throw fail(`the URL must end in a ${listOr(extensions.map((e) => `.${e}`))} file name (got "${name}")`);
  const target = join(options.dir, name);
  if (await stat(target).then(() => true, () => false)) {
    throw new ModelServerError('CONFLICT', { reason: `Model file ${name} already exists in the model store` });
  }
  const limits = { connectTimeoutMs: options.connectTimeout * MS_PER_S, idleTimeoutMs: options.idleTimeout * MS_PER_S };
  const stalled = (which: 'connect' | 'idle'): ModelServerError =>
    which === 'connect'
      ? timedOut(`connecting took longer than download_connect_timeout (${options.connectTimeout} s)`)
      : timedOut(`no data arrived for download_idle_timeout (${options.idleTimeout} s)`);
  const overall = (): ModelServerError => timedOut(`the download took longer than download_timeout (${options.timeout} s)`);
  let active: TimedGet | undefined;
  let expired = false;
  const deadline = setTimeout(() => {
    expired = true;
    active?.abort(overall());
  }, options.timeout * MS_PER_S);
  try {
    let current = url;
    let exchange: TimedGet;
    let res: IncomingMessage;
    for (let hop = 0; ; hop++) {
      options.allowed.check(current);
      if (expired) throw overall();
      active = exchange = timedGet(current, limits, stalled);
      try {
        res = await exchange.response;
      } catch (cause) {
        throw cause instanceof ModelServerError ? cause : fail((cause as Error).message, cause);
      }
      const location = res.headers.location;
      const status = res.statusCode ?? 0;
      if (status < 300 || status >= 400 || !location) break;
      res.resume();
      exchange.abort(new Error('redirected'));
      if (hop >= MAX_REDIRECTS) throw fail(`more than ${MAX_REDIRECTS} redirects`);
      current = redirectTarget(location, current);
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      exchange.abort(new Error('refused'));
      throw fail(`HTTP ${status}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      exchange.abort(new Error('too large'));
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
      await pipeline(res, limit, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, target);
    } catch (cause) {
      await rm(partial, { force: true });
      throw cause instanceof ModelServerError ? cause : fail((cause as Error).message, cause);
    }
  } finally {
    clearTimeout(deadline);
    active?.dispose();
  }
  return name;
}
