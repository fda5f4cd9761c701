/**
 * Times each image step of the OCR on both engines, sharp (libvips) and pure JS, to choose between
 * them; the README states the results.
 *
 *     node examples/ocr/dist/measure-images.js [image.png ...]
 *
 * Without arguments: the sample image, and the same page scaled 3x and saved as PNG and JPEG.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { cropLine } from './src/crop-line.js';
import { detectionBoxes, prepareDetection } from './src/det-node.js';
import { detInputSize } from './src/det-input.js';
import { decodeRgb, type ImageEngine } from './src/image-source.js';
import { DET_MODEL_FILE, exampleDir, modelAsset } from './src/model-files.js';
import { DET_DEFAULTS } from './src/options.js';
import { resizeRgb } from './src/resize.js';
import { scaledWidth } from './src/rec-input.js';
import { openSession, Tensor } from '@model-server/sdk';

const ROUNDS = 15;

/** Median wall time of `fn` in ms, after two warm-up calls. */
async function time(fn: () => unknown): Promise<number> {
  await fn();
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return Math.round(ms.sort((a, b) => a - b)[ROUNDS >> 1]! * 100) / 100;
}

async function measure(name: string, bytes: Uint8Array): Promise<void> {
  const full = await decodeRgb(bytes, 'sharp');
  const size = detInputSize(full.width, full.height, DET_DEFAULTS.maxSide);
  const session = await openSession(modelAsset(DET_MODEL_FILE));
  const input = await prepareDetection(bytes, DET_DEFAULTS);
  const fetched = await session.run({ x: new Tensor('float32', input.tensor, [...input.dims]) });
  const boxes = detectionBoxes(fetched[session.outputNames[0]!]!.data as Float32Array, input, DET_DEFAULTS);
  await session.release();
  const crops = boxes.map((b) => cropLine(full, b.box));
  const raw = { raw: { width: full.width, height: full.height, channels: 3 as const } };
  const row: Record<string, number | string> = { image: `${name} ${full.width}x${full.height}`, boxes: boxes.length };
  for (const engine of ['sharp', 'js'] as ImageEngine[]) {
    row[`decode+resize to ${size.width}x${size.height} (${engine})`] = await time(() => decodeRgb(bytes, engine, size));
    row[`decode full (${engine})`] = await time(() => decodeRgb(bytes, engine));
  }
  row['crops (js: row copy or perspective warp)'] = await time(() => boxes.map((b) => cropLine(full, b.box)));
  // sharp has no perspective warp: an upright extract per box is the least it could cost.
  row['crops, extract only (sharp)'] = await time(() =>
    Promise.all(boxes.map((b) => {
      const xs = b.box.map((p) => p[0]);
      const ys = b.box.map((p) => p[1]);
      const left = Math.min(...xs);
      const top = Math.min(...ys);
      return sharp(full.data, raw).extract({ left, top, width: Math.max(...xs) - left + 1, height: Math.max(...ys) - top + 1 }).raw().toBuffer();
    })),
  );
  row['crops to height 48 (js)'] = await time(() => crops.map((c) => resizeRgb(c, scaledWidth(c, 48), 48)));
  row['crops to height 48 (sharp)'] = await time(() =>
    Promise.all(crops.map((c) => sharp(c.data, { raw: { width: c.width, height: c.height, channels: 3 } }).resize(scaledWidth(c, 48), 48, { fit: 'fill' }).raw().toBuffer())),
  );
  console.log(JSON.stringify(row));
}

const files = process.argv.slice(2);
if (files.length > 0) {
  for (const f of files) await measure(f, await readFile(f));
} else {
  const sample = await readFile(join(exampleDir(), 'samples', 'invoice.png'));
  await measure('sample', sample);
  const big = sharp(sample).resize({ width: 560 * 3 });
  await measure('sample x3 png', await big.clone().png().toBuffer());
  await measure('sample x3 jpeg', await big.clone().jpeg({ quality: 90 }).toBuffer());
}
