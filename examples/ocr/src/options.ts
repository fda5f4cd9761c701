import { DB_DEFAULTS, type DbOptions } from './db-postprocess.js';
import type { ImageEngine } from './image-source.js';
import { REC_INPUT_DEFAULTS, type RecInputOptions } from './rec-input.js';

/** The det node's settings (model-config.yaml `handler:` section of the det model). */
export interface DetOptions extends DbOptions {
  /** The longer side of the detector's input is scaled down to at most this (a multiple of 32). */
  readonly maxSide: number;
  /** Larger images are refused with 413 before they are decoded. */
  readonly maxImagePixels: number;
  /** Where images are decoded and resized. */
  readonly engine: ImageEngine;
}

/** The crop node's settings. */
export interface CropOptions {
  readonly maxImagePixels: number;
  readonly engine: ImageEngine;
  /**
   * Taller crops are scaled down to this height (aspect kept) before they are sent on: the
   * recogniser's input height, so that it gets no more rows than it reads (0 keeps every crop as cut).
   */
  readonly maxLineHeight: number;
}

/** The rec node's settings (model-config.yaml `handler:` section of the rec model). */
export interface RecOptions extends RecInputOptions {
  /** Lines recognised with a lower confidence are left out of the answer (PaddleOCR's drop_score). */
  readonly minConfidence: number;
  /** The dictionary file in the model's folder (an extra file of the archive). */
  readonly dictionary: string;
}

/** 40 megapixels: an A4 page scanned at 600 dpi is 35. */
const MAX_IMAGE_PIXELS = 40_000_000;

export const DET_DEFAULTS: DetOptions = { ...DB_DEFAULTS, maxSide: 960, maxImagePixels: MAX_IMAGE_PIXELS, engine: 'sharp' };
export const CROP_DEFAULTS: CropOptions = { maxImagePixels: MAX_IMAGE_PIXELS, engine: 'sharp', maxLineHeight: 48 };
export const REC_DEFAULTS: RecOptions = { ...REC_INPUT_DEFAULTS, minConfidence: 0.5, dictionary: 'ppocr_keys_v1.txt' };

type Check = (value: unknown) => boolean;
const positiveInt: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v > 0;
const fraction: Check = (v) => typeof v === 'number' && v >= 0 && v <= 1;
const positive: Check = (v) => typeof v === 'number' && v > 0;
const count: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const engine: Check = (v) => v === 'sharp' || v === 'js';
const fileName: Check = (v) => typeof v === 'string' && /^[^/\\]+$/.test(v) && v !== '..';

const RULES: Record<string, [Check, string]> = {
  threshold: [fraction, 'a number from 0 to 1'],
  boxThreshold: [fraction, 'a number from 0 to 1'],
  unclipRatio: [positive, 'a positive number'],
  minSize: [positive, 'a positive number'],
  maxCandidates: [positiveInt, 'a positive integer'],
  maxSide: [(v) => positiveInt(v) && (v as number) % 32 === 0, 'a positive multiple of 32'],
  maxImagePixels: [positiveInt, 'a positive integer'],
  engine: [engine, '"sharp" or "js"'],
  height: [positiveInt, 'a positive integer'],
  minWidth: [positiveInt, 'a positive integer'],
  maxBatch: [positiveInt, 'a positive integer'],
  minConfidence: [fraction, 'a number from 0 to 1'],
  maxLineHeight: [count, 'a non-negative integer'],
  dictionary: [fileName, 'a file name in the model folder'],
};

/**
 * The defaults with the `handler:` section's values laid over them, each checked; an unknown key
 * or a wrong value fails the model's load with the key's name, rather than OCR quietly going wrong.
 */
export function readOptions<T extends object>(defaults: T, section: Readonly<Record<string, unknown>>): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(section)) {
    if (!(key in defaults)) throw new TypeError(`handler.${key} is not a setting of this model (known: ${Object.keys(defaults).join(', ')})`);
    const [check, expected] = RULES[key]!;
    if (!check(value)) throw new TypeError(`handler.${key} must be ${expected} (got ${JSON.stringify(value)})`);
    out[key] = value;
  }
  return out as T;
}
