import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { unzipSync } from 'fflate';
import * as tar from 'tar';
import { parse as parseYaml } from 'yaml';
import { ModelServerError } from '@model-server/protocol';
import type { Manifest } from '@model-server/sdk';
import { parseManifest } from './manifest.js';

export const MANIFEST_PATH = 'MAR-INF/MANIFEST.json';
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
  maxUnpackedBytes?: number;
}

/** Rejects entry names that could land outside the target folder (zip-slip) or are otherwise odd. */
export function safeEntryPath(root: string, name: string, archive: string): string {
  const bad = (reason: string): never => {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive, reason: `entry "${name}" ${reason}` });
  };
  if (name.includes('\0')) bad('contains a NUL byte');
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name) || name.startsWith('\\')) bad('is an absolute path');
  const parts = name.split(/[\\/]+/);
  if (parts.includes('..')) bad('escapes the archive folder');
  const target = resolve(root, name);
  if (target !== root && !target.startsWith(root + sep)) bad('escapes the archive folder');
  return target;
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
      throw new ModelServerError('CONFIG_INVALID', { file: `${archive}/${configFile}`, reason: (cause as Error).message }, { cause });
    }
  }
  return { modelDir: dir, manifest, modelConfig };
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex').slice(0, 16);
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

async function unpackZip(file: string, target: string, maxBytes: number): Promise<void> {
  const bytes = await readFile(file);
  let total = 0;
  let entries: Record<string, Uint8Array>;
  const symlinks: string[] = [];
  try {
    entries = unzipSync(bytes, {
      filter: (entry) => {
        total += entry.originalSize;
        if (total > maxBytes) throw new Error(`unpacked size exceeds ${maxBytes} bytes`);
        return true;
      },
    });
  } catch (cause) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: (cause as Error).message }, { cause });
  }
  // fflate drops the external attributes, so symlinks are found from the central directory.
  for (const { name, mode } of zipEntryModes(bytes)) {
    if ((mode & S_IFMT) === S_IFLNK) symlinks.push(name);
  }
  if (symlinks.length > 0) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: `entry "${symlinks[0]}" is a symbolic link` });
  }
  // Validate every path before writing anything, so a bad archive leaves nothing behind.
  const planned = Object.entries(entries).map(([name, data]) => ({ name, data, path: safeEntryPath(target, name, file) }));
  for (const { name, data, path } of planned) {
    if (name.endsWith('/')) {
      await mkdir(path, { recursive: true });
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }
}

/** Reads (name, unix mode) of every entry from a zip's central directory. */
function zipEntryModes(bytes: Uint8Array): { name: string; mode: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return [];
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out: { name: string; mode: number }[] = [];
  const decoder = new TextDecoder();
  for (let n = 0; n < count && p + 46 <= bytes.length; n++) {
    if (view.getUint32(p, true) !== 0x02014b50) break;
    const madeBy = view.getUint16(p + 4, true) >> 8;
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const external = view.getUint32(p + 38, true);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    out.push({ name, mode: madeBy === 3 ? external >>> 16 : 0 });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

async function unpackTgz(file: string, target: string, maxBytes: number): Promise<void> {
  // First pass lists and validates every entry; nothing is written unless all of them are safe.
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
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: file, reason: `unpacked size exceeds ${maxBytes} bytes` });
  }
  await mkdir(target, { recursive: true });
  await tar.x({ file, cwd: target, strict: true, preservePaths: false, filter: (_p, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'Directory') });
}

/**
 * Opens a model archive: a folder with MAR-INF/MANIFEST.json (used in place), a `.mar` zip, or a
 * `.tar.gz`/`.tgz` (unpacked once under workDir, keyed by content hash, so workers share one copy).
 */
export async function openArchive(path: string, options: OpenArchiveOptions): Promise<OpenedArchive> {
  const maxBytes = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: path, reason: 'no such file or folder' }, { cause });
  }
  if (info.isDirectory()) return { ...(await readManifestAndConfig(path, path)), unpacked: false };

  const isTgz = /\.(tar\.gz|tgz)$/i.test(path);
  const target = join(options.workDir, `${basename(path).replace(/[^\w.-]/g, '_')}-${await hashFile(path)}`);
  try {
    await stat(join(target, MANIFEST_PATH));
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
  return { ...(await readManifestAndConfig(target, path)), unpacked: true };
}
