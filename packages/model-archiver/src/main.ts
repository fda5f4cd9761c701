#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ArchiverError, createArchive, type ArchiveFormat } from './archiver.js';

const USAGE = `usage: model-archiver --model-name NAME --version VERSION --handler HANDLER.ts|onnx_generic
                     [--serialized-file FILE] [--extra-files a,b,dir] [--config-file model-config.yaml]
                     [--export-path DIR] [--archive-format default|tgz|no-archive] [--force]`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'model-name': { type: 'string' },
        version: { type: 'string', short: 'v' },
        handler: { type: 'string' },
        'serialized-file': { type: 'string' },
        'extra-files': { type: 'string' },
        'config-file': { type: 'string', short: 'c' },
        'export-path': { type: 'string', default: process.cwd() },
        'archive-format': { type: 'string', default: 'default' },
        force: { type: 'boolean', short: 'f', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`model-archiver: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const required of ['model-name', 'version', 'handler'] as const) {
    if (!values[required]) {
      process.stderr.write(`model-archiver: --${required} is required\n${USAGE}\n`);
      return 2;
    }
  }
  try {
    const out = await createArchive({
      modelName: values['model-name']!,
      version: values.version!,
      handler: values.handler!,
      serializedFile: values['serialized-file'],
      extraFiles: values['extra-files']?.split(',').filter((s) => s !== ''),
      configFile: values['config-file'],
      exportPath: values['export-path']!,
      archiveFormat: values['archive-format'] as ArchiveFormat,
      force: values.force,
    });
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`model-archiver: ${(err as Error).message}\n`);
    return err instanceof ArchiverError ? err.exitCode : 1;
  }
}

process.exitCode = await main();
