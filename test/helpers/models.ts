import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArchive, type ArchiveFormat } from '@model-server/model-archiver';

export const ROOT = join(import.meta.dirname, '..', '..');
export const PROBE_HANDLER = join(ROOT, 'test', 'fixtures', 'probe', 'handler.ts');

const made: string[] = [];

/** A fresh temporary folder for one test file; removed after the file's tests (test/setup.ts). */
export async function tempDir(prefix = 'ms-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface FixtureModel {
  name: string;
  version?: string;
  handler?: string;
  serializedFile?: string;
  /** model-config.yaml contents as YAML text. */
  config?: string;
  format?: ArchiveFormat;
}

/** Builds a model archive with the real model-archiver into `store`; returns the archive's file name. */
export async function buildModel(store: string, model: FixtureModel): Promise<string> {
  await mkdir(store, { recursive: true });
  let configFile: string | undefined;
  if (model.config !== undefined) {
    const dir = await tempDir('ms-config-');
    configFile = join(dir, 'model-config.yaml');
    await writeFile(configFile, model.config);
  }
  const out = await createArchive({
    modelName: model.name,
    version: model.version ?? '1.0',
    handler: model.handler ?? PROBE_HANDLER,
    serializedFile: model.serializedFile,
    configFile,
    exportPath: store,
    archiveFormat: model.format ?? 'default',
    force: true,
  });
  return out.slice(store.length + 1);
}
