import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import * as tar from 'tar';
import { MANIFEST_PATH } from './names.js';

/**
 * TorchServe's forms: `default` a .mar (zip), `zip-store` a .mar with its entries stored uncompressed
 * (for models that do not compress), `tgz` a .tar.gz, `no-archive` a plain folder.
 */
export type ArchiveFormat = 'default' | 'tgz' | 'no-archive' | 'zip-store';

export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['default', 'tgz', 'no-archive', 'zip-store'];

/** A staged archive: a folder with the files at its root; the manifest is written by writeArchive. */
export interface ArchiveLayout {
  staging: string;
  manifest: Record<string, unknown>;
  /** Where the manifest goes: MAR-INF/MANIFEST.json (a model archive, the default) or WAR-INF/MANIFEST.json (a workflow). */
  manifestPath?: string;
}

/** The file or folder name an archive of `name` gets in `format`. */
export function archiveFileName(name: string, format: ArchiveFormat): string {
  return format === 'default' || format === 'zip-store' ? `${name}.mar` : format === 'tgz' ? `${name}.tar.gz` : name;
}

async function collect(dir: string, root: string, out: Zippable): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await collect(full, root, out);
    else if (entry.isFile()) out[relative(root, full).split('\\').join('/')] = await readFile(full);
  }
}

/**
 * Writes the manifest into a staged folder and packs it at `out` in `format`, replacing what is there.
 * Archive entries are relative, portable paths, so what openArchive accepts, this writes.
 */
export async function writeArchive(layout: ArchiveLayout, out: string, format: ArchiveFormat): Promise<void> {
  const { staging } = layout;
  const manifest = join(staging, layout.manifestPath ?? MANIFEST_PATH);
  await mkdir(dirname(manifest), { recursive: true });
  await writeFile(manifest, `${JSON.stringify(layout.manifest, null, 2)}\n`);
  await rm(out, { recursive: true, force: true });
  if (format === 'no-archive') {
    await cp(staging, out, { recursive: true });
  } else if (format === 'tgz') {
    await tar.c({ gzip: true, file: out, cwd: staging, portable: true }, await readdir(staging));
  } else {
    const files: Zippable = {};
    await collect(staging, staging, files);
    await writeFile(out, zipSync(files, { level: format === 'zip-store' ? 0 : 6 }));
  }
}
