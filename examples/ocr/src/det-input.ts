import type { RgbImage } from './types.js';

/** ImageNet statistics, per model input channel (the model takes B, G, R: PaddleOCR feeds OpenCV's BGR). */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** The stride of the detector's feature pyramid: both input sides must be multiples of it. */
export const DET_STRIDE = 32;

/**
 * The detector's input size for a source image: scaled down (never up) so the longer side is at
 * most `maxSide`, then each side rounded to a multiple of 32 (at least 32).
 */
export function detInputSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  const round = (side: number): number => Math.max(DET_STRIDE, Math.round((side * ratio) / DET_STRIDE) * DET_STRIDE);
  return { width: round(width), height: round(height) };
}

/** The detector's input for one image already at its input size: CHW float32, BGR, ImageNet-normalised. */
export function detTensor(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  // Channel c of the model reads source channel 2 - c (RGB to BGR).
  const scale = MEAN.map((_, c) => 1 / (255 * STD[c]!));
  const shift = MEAN.map((m, c) => m / STD[c]!);
  const { data } = image;
  for (let p = 0, s = 0; p < plane; p++, s += 3) {
    out[p] = data[s + 2]! * scale[0]! - shift[0]!;
    out[plane + p] = data[s + 1]! * scale[1]! - shift[1]!;
    out[2 * plane + p] = data[s]! * scale[2]! - shift[2]!;
  }
  return out;
}
