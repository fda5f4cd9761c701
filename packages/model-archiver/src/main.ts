#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ARCHIVE_FORMATS, ArchiverError, createArchive, type ArchiveFormat } from './archiver.js';

interface Flag {
  short?: string;
  type: 'string' | 'boolean';
  arg?: string;
  help: string;
  /** TorchServe flags with no meaning here: refused with this. */
  refused?: string;
}

/** The flags, TorchServe's torch-model-archiver names first; one help line each. */
const FLAGS: Readonly<Record<string, Flag>> = {
  'model-name': { type: 'string', arg: 'NAME', help: 'model name (required; letters, digits, _ - .)' },
  version: { short: 'v', type: 'string', arg: 'VERSION', help: 'model version (required)' },
  handler: { type: 'string', arg: 'FILE[:FN]', help: 'handler.ts (or .js), handler.ts:functionName, or a built-in: onnx_generic (required)' },
  'serialized-file': { type: 'string', arg: 'FILE', help: 'the model file, e.g. model.onnx' },
  'extra-files': { type: 'string', arg: 'a,b,dir', help: 'more files or folders, comma-separated, placed at the archive root' },
  'config-file': { short: 'c', type: 'string', arg: 'FILE', help: 'model-config.yaml' },
  'requirements-file': { short: 'r', type: 'string', arg: 'package.json', help: "the handler's package.json: its dependencies must be installed, and are bundled" },
  runtime: { type: 'string', arg: 'node', help: 'the runtime the manifest names; only node' },
  'export-path': { type: 'string', arg: 'DIR', help: 'where the archive is written (default: this folder)' },
  'archive-format': { type: 'string', arg: ARCHIVE_FORMATS.join('|'), help: '.mar zip (default), .tar.gz, a plain folder, or an uncompressed .mar' },
  force: { short: 'f', type: 'boolean', help: 'overwrite an existing archive' },
  'skip-type-check': { type: 'boolean', help: 'archive a TypeScript handler without type-checking it against the SDK first' },
  help: { short: 'h', type: 'boolean', help: 'this help' },
  'model-file': { type: 'string', help: '', refused: "it names a Python model class; an ONNX model needs none (give the .onnx as --serialized-file)" },
  convert: { type: 'boolean', help: '', refused: 'it converts Python archives; write the handler in TypeScript' },
};

function flagHead(name: string, f: Flag): string {
  return `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}`;
}

const shown = Object.entries(FLAGS).filter(([, f]) => !f.refused);
const width = Math.max(...shown.map(([n, f]) => flagHead(n, f).length));
const USAGE = `usage: model-archiver --model-name NAME --version VERSION --handler HANDLER.ts[:fn]|onnx_generic [flags]

Packages a model and its handler into an archive model-server loads (TorchServe's layout, runtime node).
A TypeScript handler is type-checked against @model-server/sdk, then bundled into handler.js with esbuild
(the SDK and onnxruntime-node are left to the worker) with a source map, so its stack traces name its own lines.

flags:
${shown.map(([n, f]) => `  ${flagHead(n, f).padEnd(width)}  ${f.help}`).join('\n')}
TorchServe flags refused with a reason: ${Object.entries(FLAGS)
  .filter(([, f]) => f.refused)
  .map(([n]) => `--${n}`)
  .join(', ')}

environment: none.`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: Object.fromEntries(Object.entries(FLAGS).map(([n, f]) => [n, f.short ? { type: f.type, short: f.short } : { type: f.type }])),
    }));
  } catch (err) {
    process.stderr.write(`model-archiver: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const [name, flag] of Object.entries(FLAGS)) {
    if (flag.refused && values[name] !== undefined) {
      process.stderr.write(`model-archiver: --${name} is not supported: ${flag.refused}\n`);
      return 2;
    }
  }
  for (const required of ['model-name', 'version', 'handler'] as const) {
    if (!values[required]) {
      process.stderr.write(`model-archiver: --${required} is required\n${USAGE}\n`);
      return 2;
    }
  }
  const str = (name: string): string | undefined => values[name] as string | undefined;
  try {
    const out = await createArchive({
      modelName: str('model-name')!,
      version: str('version')!,
      handler: str('handler')!,
      serializedFile: str('serialized-file'),
      extraFiles: str('extra-files')?.split(',').filter((s) => s !== ''),
      configFile: str('config-file'),
      requirementsFile: str('requirements-file'),
      runtime: str('runtime'),
      exportPath: str('export-path') ?? process.cwd(),
      archiveFormat: (str('archive-format') ?? 'default') as ArchiveFormat,
      force: values['force'] === true,
      typeCheck: values['skip-type-check'] !== true,
      note: (m) => process.stderr.write(`model-archiver: ${m}\n`),
    });
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`model-archiver: ${(err as Error).message}\n`);
    return err instanceof ArchiverError ? err.exitCode : 1;
  }
}

process.exitCode = await main();
