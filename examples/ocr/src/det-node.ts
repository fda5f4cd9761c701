import { dbBoxes } from './db-postprocess.js';
import { detInputSize, detTensor } from './det-input.js';
import { checkImage, decodeRgb } from './image-source.js';
import type { DetOptions } from './options.js';
import { readingOrder } from './reading-order.js';
import type { TextBox } from './types.js';

/** One image made ready for the detector. */
export interface DetInput {
  /** The source image's size: boxes are reported in its coordinates. */
  readonly width: number;
  readonly height: number;
  /** `[1, 3, h, w]`: the detector's input size (multiples of 32). */
  readonly dims: readonly [1, 3, number, number];
  readonly tensor: Float32Array;
}

/** Checks and decodes a PNG or JPEG and builds the detector's input for it (decoded and resized in one step). */
export async function prepareDetection(bytes: Uint8Array, options: DetOptions): Promise<DetInput> {
  const { width, height } = checkImage(bytes, options.maxImagePixels);
  const size = detInputSize(width, height, options.maxSide);
  const resized = await decodeRgb(bytes, options.engine, size);
  return { width, height, dims: [1, 3, size.height, size.width], tensor: detTensor(resized) };
}

/** The text boxes in reading order, from the detector's probability map for `input` (`[h, w]` floats). */
export function detectionBoxes(prob: Float32Array, input: DetInput, options: DetOptions): TextBox[] {
  const map = { data: prob, width: input.dims[3], height: input.dims[2] };
  return readingOrder(dbBoxes(map, input.width, input.height, options));
}
