import { PredictionError } from '@model-server/sdk';
import { resizeRgb } from './resize.js';
import type { RgbImage } from './types.js';

/**
 * How line images become the recogniser's batches. PaddleOCR pads every batch to at least 320 wide
 * and runs 6 lines at a time; the defaults here are what measured fastest on CPU at the same
 * accuracy (examples/ocr/README.md).
 */
export interface RecInputOptions {
  /** Input height of the model. */
  readonly height: number;
  /** Narrowest batch width. */
  readonly minWidth: number;
  /** Most lines in one session run. */
  readonly maxBatch: number;
}

export const REC_INPUT_DEFAULTS: RecInputOptions = { height: 48, minWidth: 48, maxBatch: 1 };

/** One session run: which lines (indices into the input), and the `[n, 3, height, width]` tensor data. */
export interface RecBatch {
  readonly indices: readonly number[];
  readonly width: number;
  readonly data: Float32Array;
}

/**
 * The widest a line may be once scaled to the model's height: 32768 columns (19 MB of input) is a
 * line some 680 times longer than high at 48, past any real text and short of exhausting memory.
 */
export const MAX_SCALED_WIDTH = 32_768;

/** Width of a line image scaled to `height`, aspect kept, at least 1. */
export function scaledWidth(image: RgbImage, height: number): number {
  return Math.max(1, Math.ceil((image.width * height) / image.height));
}

/**
 * The recogniser's batches for a set of line images: each scaled to the model's height (aspect
 * kept), normalised to [-1, 1] in BGR order (as PaddleOCR feeds OpenCV's images), and grouped by
 * width, narrowest first, so lines of like width share a batch and little of it is padding. A batch
 * is as wide as its widest line (at least `minWidth`); narrower lines are padded on the right with 0.
 */
export function recBatches(lines: readonly RgbImage[], options: RecInputOptions = REC_INPUT_DEFAULTS): RecBatch[] {
  const { height } = options;
  const widths = lines.map((line) => scaledWidth(line, height));
  const order = lines.map((_, i) => i).sort((a, b) => widths[a]! - widths[b]! || a - b);
  const batches: RecBatch[] = [];
  for (let at = 0; at < order.length; at += options.maxBatch) {
    const indices = order.slice(at, at + options.maxBatch);
    const width = Math.max(options.minWidth, ...indices.map((i) => widths[i]!));
    const plane = height * width;
    const data = new Float32Array(indices.length * 3 * plane);
    indices.forEach((index, n) => {
      const scaled = resizeRgb(lines[index]!, widths[index]!, height);
      const base = n * 3 * plane;
      const px = scaled.data;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < scaled.width; x++) {
          const s = (y * scaled.width + x) * 3;
          const p = base + y * width + x;
          data[p] = px[s + 2]! / 127.5 - 1;
          data[p + plane] = px[s + 1]! / 127.5 - 1;
          data[p + 2 * plane] = px[s]! / 127.5 - 1;
        }
      }
    });
    batches.push({ indices, width, data });
  }
  return batches;
}

/** Refuses (400) a line that would be wider than {@link MAX_SCALED_WIDTH} at the model's height. */
export function checkLineSizes(lines: readonly RgbImage[], height: number): void {
  lines.forEach((line, i) => {
    const width = scaledWidth(line, height);
    if (width > MAX_SCALED_WIDTH) {
      throw new PredictionError(`Line ${i} (${line.width}x${line.height}) would be ${width} pixels wide at height ${height}, over the limit of ${MAX_SCALED_WIDTH}`, 400);
    }
  });
}
