import { decodeImage, imageSize, PredictionError } from '@model-server/sdk';
import { resizeRgb } from './resize.js';
import type { RgbImage } from './types.js';

type Sharp = (typeof import('sharp'))['default'];

/** Where image decoding and resizing run: libvips through sharp, or the SDK's pure-JS decoders and {@link resizeRgb}. */
export type ImageEngine = 'sharp' | 'js';

let sharpLoad: Promise<Sharp | undefined> | undefined;

function importSharp(): Promise<Sharp | undefined> {
  sharpLoad ??= import('sharp').then(
    (m) => {
      // Each request's image is new: libvips' operation cache would only hold memory.
      m.default.cache(false);
      return m.default;
    },
    () => undefined,
  );
  return sharpLoad;
}

/**
 * Makes sure the engine can run, loading sharp for `sharp`. sharp is a dependency of this example
 * but optional for the SDK, so a server installed without it is told how to go on: a node set to
 * `sharp` fails to load rather than quietly taking the slower path.
 */
export async function ensureEngine(engine: ImageEngine): Promise<void> {
  if (engine === 'sharp' && !(await importSharp())) {
    throw new Error('sharp is not installed: install it beside the server, or set handler.engine: js in model-config.yaml');
  }
}

/**
 * Checks that `bytes` are a PNG or JPEG of at most `maxPixels` pixels, from the header alone (before
 * any decoding): 400 for anything else, 413 for an image over the limit.
 */
export function checkImage(bytes: Uint8Array, maxPixels: number): { width: number; height: number } {
  const { width, height, format } = imageSize(bytes);
  if (width === 0 || height === 0) throw new PredictionError(`${format.toUpperCase()} image has no pixels (${width}x${height})`, 400);
  if (width * height > maxPixels) {
    throw new PredictionError(`Image of ${width}x${height} pixels is over the limit of ${maxPixels} pixels (maxImagePixels)`, 413);
  }
  return { width, height };
}

/** RGBA to RGB over a white page: transparent pixels are background, not black ink. */
function overWhite(rgba: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, s = 0, o = 0; p < width * height; p++, s += 4, o += 3) {
    const a = rgba[s + 3]!;
    const white = 255 * (255 - a);
    data[o] = Math.round((rgba[s]! * a + white) / 255);
    data[o + 1] = Math.round((rgba[s + 1]! * a + white) / 255);
    data[o + 2] = Math.round((rgba[s + 2]! * a + white) / 255);
  }
  return { width, height, data };
}

async function sharpRgb(bytes: Uint8Array, resize?: { width: number; height: number }): Promise<RgbImage> {
  await ensureEngine('sharp');
  const sharp = (await importSharp())!;
  let pipeline = sharp(bytes, { limitInputPixels: false }).flatten({ background: '#ffffff' });
  if (resize) pipeline = pipeline.resize(resize.width, resize.height, { fit: 'fill' });
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw new PredictionError(`Cannot decode image: ${(cause as Error).message}`, 400);
  }
  const { data, info } = out;
  if (info.channels !== 3) throw new Error(`sharp gave ${info.channels} channels for an sRGB image without alpha, not 3`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * The image's pixels as RGB (alpha composited over white), at its own size or resized to `resize`.
 * Orientation tags (EXIF) are not applied, on either engine, so both agree on the image's size.
 */
export async function decodeRgb(bytes: Uint8Array, engine: ImageEngine, resize?: { width: number; height: number }): Promise<RgbImage> {
  if (engine === 'sharp') return sharpRgb(bytes, resize);
  const rgba = decodeImage(bytes);
  const rgb = overWhite(rgba.data, rgba.width, rgba.height);
  if (!resize) return rgb;
  return resizeRgb(rgb, resize.width, resize.height);
}
