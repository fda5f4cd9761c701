import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ArchiverError } from './archiver-error.js';

/** Diagnostics shown before the rest are counted. */
const MAX_SHOWN = 10;

/** Where this archiver's own copy of the SDK's types is, for a handler folder that cannot resolve the SDK. */
function sdkTypesFallback(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@model-server/sdk')), 'index.d.ts');
  } catch {
    return undefined;
  }
}

/**
 * Type-checks a TypeScript handler against the SDK before it is bundled (esbuild strips types without
 * checking them, so a handler that would misuse the SDK otherwise fails only at run time). The handler's
 * own tsconfig.json is used when there is one; otherwise strict checking with bundler resolution. A
 * handler folder without the SDK installed is checked against this archiver's copy of it.
 */
export async function typeCheckHandler(handler: string): Promise<void> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new ArchiverError('cannot type-check the handler: the typescript package is not installed (install it, or pass --skip-type-check)');
  }
  const file = resolve(handler);
  const dir = dirname(file);
  const configPath = ts.findConfigFile(dir, ts.sys.fileExists, 'tsconfig.json');
  let options: import('typescript').CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    esModuleInterop: true,
    skipLibCheck: true,
  };
  if (configPath) {
    const read = ts.readConfigFile(configPath, ts.sys.readFile);
    if (!read.error) options = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configPath)).options;
  }
  options = { ...options, noEmit: true, composite: false, incremental: false, declaration: false, declarationMap: false, skipLibCheck: true };
  const host = ts.createCompilerHost(options);
  const resolved = ts.resolveModuleName('@model-server/sdk', file, options, host).resolvedModule;
  const fallback = resolved ? undefined : sdkTypesFallback();
  if (fallback) options = { ...options, baseUrl: dir, paths: { ...(options.paths ?? {}), '@model-server/sdk': [fallback] } };
  const program = ts.createProgram({ rootNames: [file], options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (diagnostics.length === 0) return;
  const shown = ts.formatDiagnostics(diagnostics.slice(0, MAX_SHOWN), {
    getCanonicalFileName: (f) => f,
    // Paths relative to the handler's folder: the message names the handler in full already.
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  });
  const more = diagnostics.length > MAX_SHOWN ? `... and ${diagnostics.length - MAX_SHOWN} more\n` : '';
  throw new ArchiverError(`the handler ${handler} has type errors (--skip-type-check archives it anyway):\n${shown}${more}`.trimEnd());
}
