import { cropLine } from './crop-line.js';
import { checkImage, decodeRgb } from './image-source.js';
import { decodeDetOutput, encodeCrops, type LineCrop } from './node-frames.js';
import type { CropOptions } from './options.js';
import type { RgbImage, TextBox } from './types.js';
import { PredictionError } from '@model-server/sdk';

/** One straightened crop per box, in the boxes' order. */
export function cropBoxes(image: RgbImage, boxes: readonly TextBox[]): LineCrop[] {
  return boxes.map((b) => ({ box: b.box, score: b.score, image: cropLine(image, b.box) }));
}

/**
 * The crop node: the det node's output (boxes and the source image) in, the crops frame out. The
 * image is decoded again here; the det node only ever held it scaled down.
 */
export async function cropNode(detOutput: Uint8Array, options: CropOptions): Promise<Uint8Array> {
  const det = decodeDetOutput(detOutput);
  if (det.boxes.length === 0) return encodeCrops([]);
  const { width, height } = checkImage(det.image, options.maxImagePixels);
  if (width !== det.width || height !== det.height) {
    throw new PredictionError(`Input is not the OCR det node output (boxes are for ${det.width}x${det.height}, the image is ${width}x${height})`, 400);
  }
  const image = await decodeRgb(det.image, options.engine);
  return encodeCrops(cropBoxes(image, det.boxes));
}
