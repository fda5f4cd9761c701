import { cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import {
  ARCHIVE_FORMATS,
  BUILTIN_HANDLER_NAMES,
  HANDLER_BUNDLE,
  MODEL_NAME_PATTERN,
  MODEL_VERSION_PATTERN,
  archiveFileName,
  isBuiltinHandler,
  writeArchive,
  type ArchiveFormat,
} from '@model-server/archive';

export { MODEL_NAME_PATTERN, type ArchiveFormat };
export const ARCHIVER_VERSION = '0.1.0';
/** Packages the worker provides to every handler; never bundled into an archive. */
export const PROVIDED_PACKAGES = ['@model-server/sdk', 'onnxruntime-node', 'onnxruntime-common', 'sharp'];

/** Handlers the worker provides, named instead of a file: `--handler onnx_generic` archives a plain ONNX model. */
export const BUILTIN_HANDLERS: readonly string[] = BUILTIN_HANDLER_NAMES;

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
}

/** A refusal with the exit code the CLI should use (2 = bad arguments, 3 = output exists). */
export class ArchiverError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'ArchiverError';
  }
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

/**
 * Bundles a handler (TypeScript or JS) into one ESM file, leaving what the worker provides external.
 * Returns the names the bundle exports (a workflow's function nodes are looked up among them).
 */
export async function bundleHandler(entry: string, outfile: string): Promise<string[]> {
  try {
    const result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: PROVIDED_PACKAGES,
      // Bundled CommonJS dependencies may `require` Node built-ins, which ESM lacks.
      banner: { js: "import { createRequire as __msCreateRequire } from 'node:module'; const require = __msCreateRequire(import.meta.url);" },
      logLevel: 'silent',
      sourcemap: 'inline',
      metafile: true,
    });
    return Object.values(result.metafile.outputs).flatMap((o) => o.exports);
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new ArchiverError(`cannot bundle handler ${entry}: ${first?.text ?? (err as Error).message}${where}`);
  }
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
    throw new ArchiverError(`invalid --archive-format "${format}": expected default, tgz or no-archive`);
  }
  const builtin = isBuiltinHandler(opts.handler);
  if (!builtin) await mustExist(opts.handler, 'handler');
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
    if (!builtin) await bundleHandler(opts.handler, join(staging, HANDLER_BUNDLE));
    const model: Record<string, string> = {
      modelName: opts.modelName,
      modelVersion: opts.version,
      handler: builtin ? opts.handler : HANDLER_BUNDLE,
    };
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
      runtime: 'node',
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
