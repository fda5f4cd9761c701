import { cp, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ARCHIVE_FORMATS,
  BUILTIN_HANDLER_NAMES,
  HANDLER_BUNDLE,
  MODEL_NAME_PATTERN,
  MODEL_VERSION_PATTERN,
  SUPPORTED_RUNTIMES,
  archiveFileName,
  writeArchive,
  type ArchiveFormat,
} from '@model-server/archive';
import { ArchiverError } from './archiver-error.js';
import { bundleHandler } from './bundle.js';
import { HANDLER_GUIDE, parseHandlerSpec } from './handler-spec.js';
import { readRequirements } from './requirements.js';
import { typeCheckHandler } from './type-check.js';

export { ArchiverError, ARCHIVE_FORMATS, MODEL_NAME_PATTERN, type ArchiveFormat };
export const ARCHIVER_VERSION = '0.1.0';
/** Packages the worker provides to every handler; never bundled into an archive. */
export const PROVIDED_PACKAGES = ['@model-server/sdk', 'onnxruntime-node', 'onnxruntime-common', 'sharp'];

/** Handlers the worker provides, named instead of a file: `--handler onnx_generic` archives a plain ONNX model. */
export const BUILTIN_HANDLERS: readonly string[] = BUILTIN_HANDLER_NAMES;

/** Runtimes an archive may declare; TorchServe's `python` has no worker here. */
export const RUNTIMES: readonly string[] = SUPPORTED_RUNTIMES;

export interface ArchiveOptions {
  modelName: string;
  version: string;
  handler: string;
  serializedFile?: string | undefined;
  extraFiles?: string[] | undefined;
  configFile?: string | undefined;
  exportPath: string;
  archiveFormat?: ArchiveFormat | undefined;
  force?: boolean | undefined;
  /** `--runtime`: only `node`. */
  runtime?: string | undefined;
  /** `--requirements-file`: the handler's package.json; its dependencies must be installed, and are bundled. */
  requirementsFile?: string | undefined;
  /** Type-check a TypeScript handler against the SDK first (the CLI's default; `--skip-type-check`). */
  typeCheck?: boolean | undefined;
  /** Receives notes (packages bundled, dependencies not imported). */
  note?: ((message: string) => void) | undefined;
}

/**
 * Everything lands flat at the archive root: two inputs with one name would silently overwrite each
 * other, so a clash is refused, naming both. `reserved` are the names the archiver writes itself.
 */
export function claimRootNames(reserved: readonly [string, string][], inputs: readonly [string | undefined, string][]): void {
  const names = new Map<string, string>(reserved);
  for (const [path, flag] of inputs) {
    if (!path) continue;
    const name = basename(path);
    const taken = names.get(name);
    if (taken) throw new ArchiverError(`${flag} ${path}: the name "${name}" is already used by ${taken} in the archive`);
    names.set(name, `${flag} ${path}`);
  }
}

export async function mustExist(path: string, what: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new ArchiverError(`${what} not found: ${path}`);
  }
}

function outputPath(opts: ArchiveOptions): string {
  return join(opts.exportPath, archiveFileName(opts.modelName, opts.archiveFormat ?? 'default'));
}

/** Builds a model archive and returns its path. */
export async function createArchive(opts: ArchiveOptions): Promise<string> {
  if (!MODEL_NAME_PATTERN.test(opts.modelName)) {
    throw new ArchiverError(`invalid --model-name "${opts.modelName}": must match ${MODEL_NAME_PATTERN.source}`);
  }
  if (!MODEL_VERSION_PATTERN.test(opts.version)) {
    throw new ArchiverError(`invalid --version "${opts.version}": must match ${MODEL_VERSION_PATTERN.source}`);
  }
  const format = opts.archiveFormat ?? 'default';
  if (!ARCHIVE_FORMATS.includes(format)) {
    throw new ArchiverError(`invalid --archive-format "${format}": expected ${ARCHIVE_FORMATS.join(', ')}`);
  }
  const runtime = opts.runtime ?? 'node';
  if (!RUNTIMES.includes(runtime)) {
    throw new ArchiverError(`--runtime ${runtime} is not supported: handlers run on node (write it in TypeScript, see ${HANDLER_GUIDE}), and --runtime may only be node`);
  }
  const handler = parseHandlerSpec(opts.handler, BUILTIN_HANDLERS);
  const builtin = handler.kind === 'builtin';
  if (handler.kind === 'file') await mustExist(handler.file, 'handler');
  const requirements = opts.requirementsFile && handler.kind === 'file' ? await readRequirements(opts.requirementsFile, handler.file, PROVIDED_PACKAGES) : undefined;
  if (opts.requirementsFile && builtin) throw new ArchiverError(`--requirements-file needs a handler of your own; the built-in ${opts.handler} has no dependencies`);
  if (opts.serializedFile) await mustExist(opts.serializedFile, 'serialized file');
  if (opts.configFile) await mustExist(opts.configFile, 'config file');
  for (const extra of opts.extraFiles ?? []) await mustExist(extra, 'extra file');
  claimRootNames(
    [
      [HANDLER_BUNDLE, 'the bundled handler'],
      ['MAR-INF', 'the manifest folder'],
    ],
    [
      [opts.serializedFile, '--serialized-file'],
      [opts.configFile, '--config-file'],
      ...(opts.extraFiles ?? []).map((f): [string, string] => [f, '--extra-files']),
    ],
  );
  const out = outputPath(opts);
  const exists = await stat(out).then(
    () => true,
    () => false,
  );
  if (exists && !opts.force) throw new ArchiverError(`${out} already exists; use --force to overwrite it`, 3);

  const staging = await mkdtemp(join(tmpdir(), 'model-archiver-'));
  try {
    await mkdir(join(staging, 'MAR-INF'));
    let entry = opts.handler;
    if (handler.kind === 'file') {
      if (opts.typeCheck && /\.[cm]?tsx?$/i.test(handler.file)) await typeCheckHandler(handler.file);
      const bundle = await bundleHandler(handler.file, join(staging, HANDLER_BUNDLE), PROVIDED_PACKAGES);
      if (handler.exportName !== undefined && !bundle.exports.includes(handler.exportName)) {
        throw new ArchiverError(`--handler ${opts.handler}: ${handler.file} exports no "${handler.exportName}" (its exports: ${bundle.exports.join(', ') || 'none'})`);
      }
      entry = handler.exportName === undefined ? HANDLER_BUNDLE : `${HANDLER_BUNDLE}:${handler.exportName}`;
      if (requirements) {
        const unused = requirements.bundled.filter((d) => !bundle.bundledPackages.includes(d));
        opts.note?.(`bundled from ${requirements.file}: ${requirements.bundled.filter((d) => !unused.includes(d)).join(', ') || 'nothing'}`);
        if (unused.length > 0) opts.note?.(`listed in ${requirements.file} but not imported by the handler, so not bundled: ${unused.join(', ')}`);
        if (requirements.provided.length > 0) opts.note?.(`provided by the worker, not bundled: ${requirements.provided.join(', ')}`);
      }
    }
    const model: Record<string, string> = {
      modelName: opts.modelName,
      modelVersion: opts.version,
      handler: entry,
    };
    if (requirements) {
      // Kept for the record (nothing installs it): in MAR-INF, since a package.json beside handler.js would change how node loads it.
      model['requirementsFile'] = 'MAR-INF/package.json';
      await writeFile(join(staging, 'MAR-INF', 'package.json'), requirements.text);
    }
    if (opts.serializedFile) {
      model['serializedFile'] = basename(opts.serializedFile);
      await cp(opts.serializedFile, join(staging, model['serializedFile']));
    }
    if (opts.configFile) {
      model['configFile'] = basename(opts.configFile);
      await cp(opts.configFile, join(staging, model['configFile']));
    }
    for (const extra of opts.extraFiles ?? []) await cp(extra, join(staging, basename(extra)), { recursive: true });
    const manifest = {
      createdOn: formatCreatedOn(new Date()),
      runtime,
      model,
      archiverVersion: ARCHIVER_VERSION,
    };
    await mkdir(opts.exportPath, { recursive: true });
    await writeArchive({ staging, manifest }, out, format);
    return out;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** TorchServe's createdOn format, `%d/%m/%Y %H:%M:%S`. */
export function formatCreatedOn(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
