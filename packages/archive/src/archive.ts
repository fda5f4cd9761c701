import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';
import { parse as parseYaml } from 'yaml';
import { ModelServerError } from '@model-server/protocol/wire';
import type { Manifest } from '@model-server/sdk';
import { isBuiltinHandler } from './builtin-names.js';
import { parseManifest } from './manifest.js';
import { MANIFEST_PATH } from './names.js';
import { safeEntryPath } from './safe-entry-path.js';

/** Default cap on the unpacked size of one archive. */
export const DEFAULT_MAX_UNPACKED_BYTES = 4 * 1024 ** 3;

export interface OpenedArchive {
  /** Folder with the archive's files (the original folder, or where it was unpacked). */
  modelDir: string;
  manifest: Manifest;
  /** Parsed model-config.yaml (empty when the archive has none). */
  modelConfig: Record<string, unknown>;
  /** Whether modelDir was unpacked by us (and may be removed on unregister). */
  unpacked: boolean;
}

export interface OpenArchiveOptions {
  /** Where .mar / .tar.gz archives are unpacked; one sub-folder per archive content hash. */
  workDir: string;
  /** `max_unpacked_size`; DEFAULT_MAX_UNPACKED_BYTES when absent. */
  maxUnpackedBytes?: number;
}

async function readManifestAndConfig(dir: string, archive: string): Promise<Omit<OpenedArchive, 'unpacked'>> {
  let rawManifest: unknown;
  try {
    rawManifest = JSON.parse(await readFile(join(dir, MANIFEST_PATH), 'utf8'));
  } catch (cause) {
    throw new ModelServerError(
      'INVALID_MODEL_ARCHIVE',
      { archive, reason: `cannot read ${MANIFEST_PATH}: ${(cause as Error).message}` },
      { cause },
    );
  }
  const manifest = parseManifest(rawManifest, archive);
  await checkHandlerFile(dir, manifest, archive);
  await checkSerializedFile(dir, manifest, archive);
  let modelConfig: Record<string, unknown> = {};
  const configFile = manifest.model.configFile;
  if (configFile) {
    const path = safeEntryPath(dir, configFile, archive);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive, reason: `config file ${configFile} is missing` }, { cause });
    }
    try {
      const doc: unknown = parseYaml(text) ?? {};
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('top level must be a mapping');
      modelConfig = doc as Record<string, unknown>;
    } catch (cause) {
      throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive, reason: `${configFile}: ${(cause as Error).message}` }, { cause });
    }
  }
  return { modelDir: dir, manifest, modelConfig };
}

/**
 * The handler file the manifest names (unless it is a built-in name) must be a file inside the archive,
 * found here when the archive is opened: a worker that cannot find it would fail to load and the
 * registration would end in a 500 for what is the archive's fault.
 */
async function checkHandlerFile(dir: string, manifest: Manifest, archive: string): Promise<void> {
  const spec = manifest.model.handler;
  if (isBuiltinHandler(spec)) return;
  const file = spec.split(':', 1)[0]!;
  const real = await fileInArchive(dir, file, archive, 'handler');
  if (real === undefined || !(await stat(real)).isFile()) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive, reason: `handler "${file}" is not a file in the archive` });
  }
}

/**
 * A file the manifest names, kept inside the archive as entry paths are: no absolute path, no `..`,
 * and (in a folder archive, which may hold symbolic links) no link leading out. Its real path, or
 * undefined when there is no such file. Shared by model and workflow archives.
 */
export async function fileInArchive(dir: string, name: string, archive: string, what: string): Promise<string | undefined> {
  const path = safeEntryPath(dir, name, archive, what);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return undefined;
  }
  const root = await realpath(dir);
  if (real !== root && !real.startsWith(root + sep)) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive, reason: `${what} "${name}" leads outside the archive folder` });
  }
  return real;
}

/**
 * The model file the manifest names must stay inside the archive, as entry and handler paths must: no
 * absolute path, no `..`, and (in a folder archive, which may hold symbolic links) no link leading out.
 */
async function checkSerializedFile(dir: string, manifest: Manifest, archive: string): Promise<void> {
  const file = manifest.model.serializedFile;
  // Missing: the handler that needs it says so when it loads.
  if (file !== undefined) await fileInArchive(dir, file, archive, 'serializedFile');
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex').slice(0, 16);
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** `versionMadeBy` host byte of archives whose external attributes carry a Unix mode. */
const ZIP_HOST_UNIX = 3;
/** More entries than any model needs; bounds the work a crafted central directory can cause. */
export const MAX_ARCHIVE_ENTRIES = 100_000;

// tar and yauzl are loaded only to unpack: a worker opens an already unpacked folder and never needs
// them, and their code would stay resident in every worker (docs/benchmarks.md, memory).
async function openZip(file: string): Promise<yauzl.ZipFile> {
  const { default: yauzl } = await import('yauzl');
  return new Promise((resolve, reject) => {
    // validateEntrySizes makes a stream fail when an entry inflates to more than its declared size,
    // so the declared sizes that the cap is checked against cannot lie.
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

function zipEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      if (entries.length > MAX_ARCHIVE_ENTRIES) reject(new Error(`more than ${MAX_ARCHIVE_ENTRIES} entries`));
      else zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));
}

/**
 * Unpacks a .mar (zip) with yauzl, streaming each entry to disk. The whole central directory is
 * checked first (names, types, declared sizes), so a bad archive writes nothing; then each entry
 * is streamed and may not inflate beyond what it declared.
 */
async function unpackZip(file: string, target: string, maxBytes: number): Promise<void> {
  const bad = (reason: string, cause?: unknown): ModelServerError =>
    new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason }, cause === undefined ? undefined : { cause });
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (cause) {
    throw bad((cause as Error).message, cause);
  }
  try {
    let entries: yauzl.Entry[];
    try {
      entries = await zipEntries(zip);
    } catch (cause) {
      // yauzl refuses absolute paths and ".." itself ("invalid relative path", "absolute path").
      throw bad((cause as Error).message, cause);
    }
    let total = 0;
    const seen = new Set<string>();
    const planned: { entry: yauzl.Entry; path: string; dir: boolean }[] = [];
    for (const entry of entries) {
      const name = entry.fileName;
      const path = safeEntryPath(target, name, file);
      const mode = entry.versionMadeBy >> 8 === ZIP_HOST_UNIX ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0;
      const dir = name.endsWith('/');
      if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
        throw bad(`entry "${name}" is ${mode === 0o120000 ? 'a symbolic link' : 'not a regular file or folder'}`);
      }
      if (seen.has(path)) throw bad(`entry "${name}" appears twice`);
      seen.add(path);
      total += entry.uncompressedSize;
      if (total > maxBytes) throw bad(`unpacked size exceeds ${maxBytes} bytes (max_unpacked_size)`);
      planned.push({ entry, path, dir });
    }
    for (const { entry, path, dir } of planned) {
      if (dir) {
        await mkdir(path, { recursive: true });
        continue;
      }
      await mkdir(dirname(path), { recursive: true });
      try {
        await pipeline(await entryStream(zip, entry), createWriteStream(path, { flags: 'wx' }));
      } catch (cause) {
        throw bad(`entry "${entry.fileName}": ${(cause as Error).message}`, cause);
      }
    }
  } finally {
    zip.close();
  }
}

async function unpackTgz(file: string, target: string, maxBytes: number): Promise<void> {
  // First pass lists and validates every entry; nothing is written unless all of them are safe.
  const tar = await import('tar');
  let total = 0;
  const problems: string[] = [];
  await tar.t({
    file,
    onReadEntry: (entry) => {
      total += entry.size ?? 0;
      if (entry.type !== 'File' && entry.type !== 'Directory') problems.push(`entry "${entry.path}" is a ${entry.type}`);
      try {
        safeEntryPath(target, entry.path, file);
      } catch (err) {
        problems.push((err as Error).message);
      }
    },
  });
  if (problems.length > 0) throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: problems[0] });
  if (total > maxBytes) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: `unpacked size exceeds ${maxBytes} bytes (max_unpacked_size)` });
  }
  await mkdir(target, { recursive: true });
  await tar.x({ file, cwd: target, strict: true, preservePaths: false, filter: (_p, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'Directory') });
}

/**
 * The folder of an archive: a folder is used in place; a zip (`.mar`, `.war`) or `.tar.gz`/`.tgz` is
 * unpacked once under workDir, keyed by content hash, so workers share one copy. `manifestPath` marks
 * a complete earlier unpack.
 */
export async function archiveFolder(path: string, options: OpenArchiveOptions, manifestPath: string = MANIFEST_PATH): Promise<{ dir: string; unpacked: boolean }> {
  const maxBytes = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: path, reason: 'no such file or folder' }, { cause });
  }
  if (info.isDirectory()) return { dir: path, unpacked: false };

  const isTgz = /\.(tar\.gz|tgz)$/i.test(path);
  const target = join(options.workDir, `${basename(path).replace(/[^\w.-]/g, '_')}-${await hashFile(path)}`);
  try {
    await stat(join(target, manifestPath));
  } catch {
    // Unpack into a temporary sibling and rename, so a crash mid-way never leaves a half folder in use.
    const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
    try {
      await mkdir(staging, { recursive: true });
      if (isTgz) await unpackTgz(path, staging, maxBytes);
      else await unpackZip(path, staging, maxBytes);
      await rm(target, { recursive: true, force: true });
      await rename(staging, target);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return { dir: target, unpacked: true };
}

/**
 * Opens a model archive: a folder with MAR-INF/MANIFEST.json (used in place), a `.mar` zip, or a
 * `.tar.gz`/`.tgz` (unpacked once under workDir, keyed by content hash, so workers share one copy).
 */
export async function openArchive(path: string, options: OpenArchiveOptions): Promise<OpenedArchive> {
  const { dir, unpacked } = await archiveFolder(path, options);
  return { ...(await readManifestAndConfig(dir, path)), unpacked };
}
