import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelServerError } from '@model-server/protocol/wire';
import type { OpenedArchive } from './archive.js';
import { MANIFEST_PATH, MODEL_NAME_PATTERN } from './names.js';
import { PbtxtError, list, messageField, parsePbtxt, type PbMessage } from './pbtxt.js';

/**
 * Models that come without an archive, as KServe and Triton users have them: a bare `model.onnx`, a
 * folder holding one (`/mnt/models`), KServe's `/mnt/models/<name>/<version>/model.onnx`, and Triton's
 * repository layout (`<model>/config.pbtxt`, `<model>/<version>/model.onnx`). Each is served by the
 * built-in onnx_generic handler, with a manifest made here. A folder holding exactly one .mar or
 * .tar.gz (what KServe's storage initializer leaves) stands for that archive.
 */

/** What a model path turned out to be: an archive (or archive folder) to open, or a ready-made raw model. */
export type ModelSource =
  | { kind: 'archive'; path: string }
  | { kind: 'raw'; opened: OpenedArchive; warnings: string[] };

const ARCHIVE_FILE = /\.(mar|tar\.gz|tgz)$/i;
const ONNX_FILE = /\.onnx$/i;
const VERSION_DIR = /^\d+$/;
/** The version a bare .onnx file gets (Triton numbers versions from 1). */
export const RAW_MODEL_VERSION = '1';
/** Triton's model file name when config.pbtxt names none. */
const DEFAULT_MODEL_FILE = 'model.onnx';
/** config.pbtxt fields acted on, or known to need nothing (the session reports inputs and outputs). */
const PBTXT_FIELDS = new Set(['name', 'platform', 'backend', 'max_batch_size', 'dynamic_batching', 'instance_group', 'version_policy', 'default_model_filename', 'input', 'output']);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function invalid(path: string, reason: string): ModelServerError {
  return new ModelServerError('INVALID_MODEL_ARCHIVE', { archive: path, reason });
}

function checkName(name: string, path: string): string {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw invalid(path, `model name "${name}" must match ${MODEL_NAME_PATTERN.source}; give one with --models NAME=${path}`);
  }
  return name;
}

function rawModel(modelDir: string, file: string, name: string, version: string, modelConfig: Record<string, unknown>, warnings: string[]): ModelSource {
  const manifest = { runtime: 'node', model: { modelName: name, modelVersion: version, serializedFile: file, handler: 'onnx_generic' } };
  return { kind: 'raw', opened: { modelDir, manifest, modelConfig, unpacked: false }, warnings };
}

interface TritonSettings {
  modelConfig: Record<string, unknown>;
  modelFile: string;
  versionPolicy: PbMessage | undefined;
  warnings: string[];
}

/** config.pbtxt's batching, instances and versions as model-config keys (Triton's vocabulary, which the settings read). */
function tritonSettings(config: PbMessage, path: string): TritonSettings {
  const platform = config['platform'];
  const backend = config['backend'];
  if ((platform !== undefined && platform !== 'onnxruntime_onnx') || (backend !== undefined && backend !== 'onnxruntime')) {
    throw invalid(path, `only ONNX models are served (platform "onnxruntime_onnx" / backend "onnxruntime"), not ${String(platform ?? backend)}`);
  }
  const modelConfig: Record<string, unknown> = {};
  const warnings: string[] = [];
  const batching = messageField(config['dynamic_batching']);
  const maxBatch = typeof config['max_batch_size'] === 'number' ? config['max_batch_size'] : 0;
  // As Triton: without dynamic_batching a model takes one request at a time, whatever max_batch_size says.
  if (batching && maxBatch > 0) {
    modelConfig['max_batch_size'] = maxBatch;
    modelConfig['max_queue_delay_microseconds'] = typeof batching['max_queue_delay_microseconds'] === 'number' ? batching['max_queue_delay_microseconds'] : 0;
    const preferred = list(batching['preferred_batch_size']).filter((n): n is number => typeof n === 'number');
    if (preferred.length > 0) modelConfig['preferred_batch_size'] = preferred;
    const queue = messageField(batching['default_queue_policy'])?.['max_queue_size'];
    if (typeof queue === 'number') modelConfig['max_queue_size'] = queue;
  }
  const groups = list(config['instance_group']).map((g) => messageField(g) ?? {});
  if (groups.length > 0) {
    const count = groups.reduce((n, g) => n + (typeof g['count'] === 'number' ? g['count'] : 1), 0);
    modelConfig['minWorkers'] = count;
    modelConfig['maxWorkers'] = count;
    if (groups.some((g) => g['kind'] === 'KIND_GPU')) warnings.push('instance_group kind KIND_GPU: models run on the CPU here');
  }
  const ignored = Object.keys(config).filter((k) => !PBTXT_FIELDS.has(k));
  if (ignored.length > 0) warnings.push(`config.pbtxt fields not acted on: ${ignored.join(', ')}`);
  const modelFile = typeof config['default_model_filename'] === 'string' ? config['default_model_filename'] : DEFAULT_MODEL_FILE;
  return { modelConfig, modelFile, versionPolicy: messageField(config['version_policy']), warnings };
}

/** Triton's version policy: `latest { num_versions: n }` (default, n = 1), `all {}` or `specific { versions: [...] }`. */
function pickVersions(available: string[], policy: PbMessage | undefined, path: string): string[] {
  const sorted = [...available].sort((a, b) => Number(a) - Number(b));
  if (policy && messageField(policy['all'])) return sorted;
  const specific = messageField(policy?.['specific']);
  if (specific) {
    const wanted = list(specific['versions']).map(String);
    const missing = wanted.filter((v) => !sorted.includes(v));
    if (missing.length > 0) throw invalid(path, `version_policy names version(s) ${missing.join(', ')}, which have no folder`);
    return sorted.filter((v) => wanted.includes(v));
  }
  const latest = messageField(policy?.['latest']);
  const n = typeof latest?.['num_versions'] === 'number' ? latest['num_versions'] : 1;
  return sorted.slice(-n);
}

async function readTritonConfig(dir: string): Promise<PbMessage | undefined> {
  const file = join(dir, 'config.pbtxt');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parsePbtxt(text);
  } catch (err) {
    if (err instanceof PbtxtError) throw new ModelServerError('CONFIG_INVALID', { file, reason: err.message });
    throw err;
  }
}

/** A model folder in Triton's or KServe's versioned layout: one source per version the policy serves. */
async function versionedModel(dir: string, versionDirs: string[], nameHint: string | undefined, config: PbMessage | undefined): Promise<ModelSource[]> {
  const settings = config ? tritonSettings(config, dir) : { modelConfig: {}, modelFile: DEFAULT_MODEL_FILE, versionPolicy: undefined, warnings: [] };
  const name = checkName(nameHint ?? basename(dir), dir);
  if (config && typeof config['name'] === 'string' && config['name'] !== basename(dir)) {
    settings.warnings.push(`config.pbtxt names the model "${config['name']}", its folder is "${basename(dir)}"; served as "${name}"`);
  }
  const withModel: string[] = [];
  for (const v of versionDirs) if (await exists(join(dir, v, settings.modelFile))) withModel.push(v);
  if (withModel.length === 0) {
    throw invalid(dir, `Triton/KServe layout, but no version folder holds ${settings.modelFile} (expected ${dir}/<version>/${settings.modelFile}, e.g. ${dir}/1/${settings.modelFile})`);
  }
  return pickVersions(withModel, settings.versionPolicy, dir).map((v) =>
    rawModel(join(dir, v), settings.modelFile, name, v, settings.modelConfig, settings.warnings),
  );
}

function describeEntries(names: readonly string[]): string {
  if (names.length === 0) return 'it is empty';
  const shown = names.slice(0, 8).join(', ');
  return `found: ${shown}${names.length > 8 ? `, and ${names.length - 8} more` : ''}`;
}

/**
 * What `path` holds, as model sources (several for a folder serving several versions). `nameHint` is
 * the name given with `--models NAME=path`; raw models are otherwise named after their folder (for
 * model.onnx) or file.
 */
export async function resolveModelSources(path: string, nameHint: string | undefined): Promise<ModelSource[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return [{ kind: 'archive', path }];
  if (info.isFile()) {
    if (!ONNX_FILE.test(path)) return [{ kind: 'archive', path }];
    return [rawModel(dirname(path), basename(path), checkName(nameHint ?? basename(path).replace(ONNX_FILE, ''), path), RAW_MODEL_VERSION, {}, [])];
  }
  if (await exists(join(path, MANIFEST_PATH))) return [{ kind: 'archive', path }];
  const entries = await readdir(path, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => e.name).sort();
  const versionDirs = entries.filter((e) => e.isDirectory() && VERSION_DIR.test(e.name)).map((e) => e.name);
  const config = await readTritonConfig(path);
  if (config || versionDirs.length > 0) return versionedModel(path, versionDirs, nameHint, config);
  const onnx = files.filter((f) => ONNX_FILE.test(f));
  const archives = files.filter((f) => ARCHIVE_FILE.test(f));
  if (onnx.length === 0 && archives.length === 1) return [{ kind: 'archive', path: join(path, archives[0]!) }];
  const modelFile = onnx.includes(DEFAULT_MODEL_FILE) ? DEFAULT_MODEL_FILE : onnx.length === 1 ? onnx[0] : undefined;
  if (modelFile) {
    const name = nameHint ?? (modelFile === DEFAULT_MODEL_FILE ? basename(path) : modelFile.replace(ONNX_FILE, ''));
    return [rawModel(path, modelFile, checkName(name, path), RAW_MODEL_VERSION, {}, [])];
  }
  const several = archives.length > 1 ? `it holds several archives (${archives.join(', ')}): name one of them. ` : onnx.length > 1 ? `it holds several .onnx files and none is model.onnx (${onnx.join(', ')}): name one of them. ` : '';
  throw invalid(
    path,
    `${several}No ${MANIFEST_PATH} in this folder. Expected one of: a model archive folder (${MANIFEST_PATH}, from model-archiver --archive-format no-archive); ` +
      `an ONNX model (model.onnx); Triton's or KServe's layout (config.pbtxt and/or <version>/model.onnx); a folder holding one .mar or .tar.gz. ` +
      (several ? '' : describeEntries(entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)))),
  );
}

/** Whether a model store entry is a model without an archive (for `--models all`). */
export async function isRawModelEntry(path: string, isDirectory: boolean): Promise<boolean> {
  if (!isDirectory) return ONNX_FILE.test(path);
  if (await exists(join(path, 'config.pbtxt'))) return true;
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  if (entries.some((e) => e.isFile() && ONNX_FILE.test(e.name))) return true;
  for (const e of entries) {
    if (e.isDirectory() && VERSION_DIR.test(e.name) && (await exists(join(path, e.name, DEFAULT_MODEL_FILE)))) return true;
  }
  return false;
}
