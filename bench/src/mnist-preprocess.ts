import { imageToTensorSync } from '@model-server/sdk';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

/**
 * The mnist example handler's preprocessing (examples/mnist/handler.ts), line for line, so the
 * baselines spend exactly what our worker spends before the model runs: pure-JS PNG decode to 28x28
 * grayscale, then inversion of dark-on-light digits.
 */
export function mnistPixels(png: Uint8Array): Float32Array {
  const pixels = imageToTensorSync(png, { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1 });
  let mean = 0;
  for (const p of pixels) mean += p;
  if (mean / pixels.length > 0.5) for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i]!;
  return pixels;
}

/** Index of the largest logit: the digit. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Little-endian float32 bytes as an aligned Float32Array. Copies, as the heavy handler does: the bytes
 * may sit at any offset of a shared buffer (and Buffer#slice would not copy).
 */
export function floatsFromBytes(bytes: Uint8Array): Float32Array {
  return new Float32Array(new Uint8Array(bytes).buffer);
}
