import { writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { ArchiverError } from './archiver-error.js';

export interface BundleResult {
  /** Export names of the bundle. */
  exports: string[];
  /** Packages from node_modules that went into the bundle. */
  bundledPackages: string[];
}

/** `node_modules/@scope/name/lib/x.js` -> `@scope/name`. */
function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/**
 * Bundles the handler (TypeScript or JS) into one ESM file, leaving what the worker provides external.
 * The source map is inline, its sources named relative to the handler's folder (`handler.ts`), so a
 * handler's stack trace in the gateway's log points at its own .ts line wherever the archive is unpacked.
 */
export async function bundleHandler(entry: string, outfile: string, external: readonly string[]): Promise<BundleResult> {
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: [...external],
      // Bundled CommonJS dependencies may `require` Node built-ins, which ESM lacks.
      banner: { js: "import { createRequire as __msCreateRequire } from 'node:module'; const require = __msCreateRequire(import.meta.url);" },
      logLevel: 'silent',
      sourcemap: 'external',
      sourcesContent: true,
      metafile: true,
      write: false,
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new ArchiverError(`cannot bundle handler ${entry}: ${first?.text ?? (err as Error).message}${where}`);
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!;
  const mapFile = result.outputFiles.find((f) => f.path.endsWith('.js.map'))!;
  const map = JSON.parse(mapFile.text) as { sources: string[] };
  const handlerDir = dirname(resolve(entry));
  map.sources = map.sources.map((s) => relative(handlerDir, resolve(dirname(outfile), s)).split('\\').join('/'));
  const inline = `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
  const code = js.text.replace(/\/\/# sourceMappingURL=\S+\s*$/, '');
  await writeFile(outfile, code + inline);
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  const bundledPackages = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter((p): p is string => p !== undefined))].sort();
  return { exports: output?.exports ?? [], bundledPackages };
}
