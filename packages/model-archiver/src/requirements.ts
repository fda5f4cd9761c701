import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ArchiverError } from './archiver-error.js';

/** What `--requirements-file` asks for: npm dependencies the handler's bundle carries. */
export interface Requirements {
  file: string;
  text: string;
  /** Dependencies to bundle (those the worker provides are left out). */
  bundled: string[];
  /** Dependencies the worker provides (the SDK, onnxruntime-node): never bundled. */
  provided: string[];
}

function installedFrom(start: string, dep: string): boolean {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', dep, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/**
 * Reads a handler's package.json given as `--requirements-file`. TorchServe's requirements.txt lists
 * pip packages, which have no meaning here: refused with what to give instead. Every dependency must be
 * installed where the handler imports it from (nothing is downloaded at build or run time); esbuild
 * then bundles what the handler imports.
 */
export async function readRequirements(file: string, handler: string, provided: readonly string[]): Promise<Requirements> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ArchiverError(`requirements file not found: ${file}`);
  }
  const pythonAdvice = 'it lists Python packages (pip), which do not apply here; give the handler\'s package.json, whose dependencies are bundled into the archive';
  if (/\.txt$/i.test(file) || basename(file) !== 'package.json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ArchiverError(`--requirements-file ${file}: ${pythonAdvice}`);
    }
    if (typeof json !== 'object' || json === null) throw new ArchiverError(`--requirements-file ${file}: not a package.json`);
  }
  let pkg: { dependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch (err) {
    throw new ArchiverError(`--requirements-file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const deps = Object.keys(pkg.dependencies ?? {});
  const own = deps.filter((d) => !provided.includes(d));
  const missing = own.filter((d) => !installedFrom(dirname(handler), d) && !installedFrom(dirname(file), d));
  if (missing.length > 0) {
    throw new ArchiverError(
      `dependencies of ${file} are not installed where the handler imports them from: ${missing.join(', ')}; run "npm install" in ${dirname(resolve(file))} first`,
    );
  }
  return { file, text, bundled: own, provided: deps.filter((d) => provided.includes(d)) };
}
