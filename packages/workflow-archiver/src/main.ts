#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ArchiverError } from '@model-server/model-archiver';
import { createWorkflowArchive } from './archiver.js';

const USAGE = `usage: workflow-archiver --workflow-name NAME --spec-file SPEC.yaml [--handler HANDLER.ts]
                         [--extra-files a.mar,b.mar,dir] [--export-path DIR] [-f|--force]

Builds NAME.war in DIR (default: the current folder): the spec, the handler module bundled (its
exported functions are the function nodes of the dag), and the extra files. The spec is checked as
the server checks it; a workflow it would refuse is not built.`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'workflow-name': { type: 'string' },
        'spec-file': { type: 'string' },
        handler: { type: 'string' },
        'extra-files': { type: 'string' },
        'export-path': { type: 'string', default: process.cwd() },
        force: { type: 'boolean', short: 'f', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`workflow-archiver: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const required of ['workflow-name', 'spec-file'] as const) {
    if (!values[required]) {
      process.stderr.write(`workflow-archiver: --${required} is required\n${USAGE}\n`);
      return 2;
    }
  }
  try {
    const out = await createWorkflowArchive({
      workflowName: values['workflow-name']!,
      specFile: values['spec-file']!,
      handler: values.handler,
      extraFiles: values['extra-files']?.split(',').filter((s) => s !== ''),
      exportPath: values['export-path']!,
      force: values.force,
    });
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`workflow-archiver: ${(err as Error).message}\n`);
    return err instanceof ArchiverError ? err.exitCode : 1;
  }
}

process.exitCode = await main();
