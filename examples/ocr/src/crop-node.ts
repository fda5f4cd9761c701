import { PredictionError } from '@model-server/sdk';
import { cropLine } from './crop-line.js';
import { checkImage, decodeRgb } from './image-source.js';
import { decodeDetOutput, encodeCrops, type LineCrop } from './node-frames.js';
import type { CropOptions } from './options.js';
import { scaledWidth } from './rec-input.js';
import { resizeRgb } from './resize.js';
import type { RgbImage, TextBox } from './types.js';

/**
 * One straightened crop per box, in the boxes' order; crops taller than `maxLineHeight` (unless 0)
 * scaled down to it, to the width the recogniser would scale them to, so it has nothing left to do.
 */
export function cropBoxes(image: RgbImage, boxes: readonly TextBox[], maxLineHeight: number): LineCrop[] {
  return boxes.map((b) => {
    const crop = cropLine(image, b.box);
    const fits = maxLineHeight === 0 || crop.height <= maxLineHeight;
    return { box: b.box, score: b.score, image: fits ? crop : resizeRgb(crop, scaledWidth(crop, maxLineHeight), maxLineHeight) };
  });
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
  // The det node clips its boxes to the image; one outside it would make a crop of any size.
  det.boxes.forEach(({ box }, i) => {
    if (box.some(([x, y]) => x < 0 || y < 0 || x > width - 1 || y > height - 1)) {
      throw new PredictionError(`Input is not the OCR det node output (boxes[${i}] lies outside the ${width}x${height} image)`, 400);
    }
  });
  const image = await decodeRgb(det.image, options.engine);
  return encodeCrops(cropBoxes(image, det.boxes, options.maxLineHeight));
}
