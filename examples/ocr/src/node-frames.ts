import { PredictionError } from '@model-server/sdk';
import { decodeFrame, encodeFrame } from './frame.js';
import type { Quad, RgbImage, TextBox } from './types.js';

/**
 * The det node's output, the crop node's input. Header `{kind: "ocr.det", width, height, boxes}`
 * (the source image's size and its text boxes in reading order); payload: the source image's bytes
 * (PNG or JPEG) exactly as the client sent them. The encoded image is smaller than its pixels and
 * so always fits where the request did.
 */
export interface DetOutput {
  readonly width: number;
  readonly height: number;
  readonly boxes: readonly TextBox[];
  readonly image: Uint8Array;
}

/** One straightened line image and where it came from. */
export interface LineCrop {
  readonly box: Quad;
  readonly score: number;
  readonly image: RgbImage;
}

/**
 * The crop node's output, the rec node's input. Header `{kind: "ocr.crops", lines: [{box, score,
 * width, height}]}` in reading order; payload: each line's RGB pixels (`width·height·3` bytes, row
 * by row), one after another in the order of `lines`.
 */
export type CropOutput = readonly LineCrop[];

/** The content type the nodes answer their frames with. */
export const FRAME_CONTENT_TYPE = 'application/octet-stream';

const DET_KIND = 'ocr.det';
const CROPS_KIND = 'ocr.crops';

function bad(what: string, why: string): never {
  throw new PredictionError(`Input is not ${what} (${why})`, 400);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isQuad = (v: unknown): v is Quad =>
  Array.isArray(v) && v.length === 4 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((c) => typeof c === 'number' && Number.isFinite(c)));
const isScore = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function encodeDetOutput(out: DetOutput): Uint8Array {
  const boxes = out.boxes.map((b) => ({ box: b.box, score: b.score }));
  return encodeFrame({ kind: DET_KIND, width: out.width, height: out.height, boxes }, [out.image]);
}

export function decodeDetOutput(bytes: Uint8Array): DetOutput {
  const what = 'the OCR det node output';
  const { header, payload } = decodeFrame(bytes, what);
  const h = header as { kind?: unknown; width?: unknown; height?: unknown; boxes?: unknown };
  if (h?.kind !== DET_KIND) bad(what, `kind is ${JSON.stringify(h?.kind)}, expected "${DET_KIND}"`);
  if (!isCount(h.width) || !isCount(h.height)) bad(what, 'width and height must be non-negative integers');
  if (!Array.isArray(h.boxes)) bad(what, 'boxes must be an array');
  const boxes = h.boxes.map((b: { box?: unknown; score?: unknown }, i): TextBox => {
    if (!isQuad(b?.box) || !isScore(b.score)) bad(what, `boxes[${i}] must be {box: [[x, y] x4], score}`);
    return { box: b.box, score: b.score };
  });
  return { width: h.width, height: h.height, boxes, image: payload };
}

export function encodeCrops(lines: CropOutput): Uint8Array {
  const header = { kind: CROPS_KIND, lines: lines.map((l) => ({ box: l.box, score: l.score, width: l.image.width, height: l.image.height })) };
  return encodeFrame(header, lines.map((l) => l.image.data));
}

export function decodeCrops(bytes: Uint8Array): CropOutput {
  const what = 'the OCR crop node output';
  const { header, payload } = decodeFrame(bytes, what);
  const h = header as { kind?: unknown; lines?: unknown };
  if (h?.kind !== CROPS_KIND) bad(what, `kind is ${JSON.stringify(h?.kind)}, expected "${CROPS_KIND}"`);
  if (!Array.isArray(h.lines)) bad(what, 'lines must be an array');
  let at = 0;
  const lines = h.lines.map((l: { box?: unknown; score?: unknown; width?: unknown; height?: unknown }, i): LineCrop => {
    if (!isQuad(l?.box) || !isScore(l.score) || !isCount(l.width) || !isCount(l.height) || l.width === 0 || l.height === 0) {
      bad(what, `lines[${i}] must be {box, score, width, height} with positive sizes`);
    }
    const size = l.width * l.height * 3;
    if (at + size > payload.length) bad(what, `lines[${i}] needs ${size} bytes of pixels past byte ${at} of ${payload.length}`);
    const image = { width: l.width, height: l.height, data: payload.subarray(at, at + size) };
    at += size;
    return { box: l.box, score: l.score, image };
  });
  if (at !== payload.length) bad(what, `${payload.length - at} bytes of pixels left over`);
  return lines;
}
