import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PredictionError } from '@model-server/sdk';
import { connectedComponents } from '../examples/ocr/src/components.js';
import sharp from 'sharp';
import { cropLine, warpQuad } from '../examples/ocr/src/crop-line.js';
import { cropBoxes, cropNode } from '../examples/ocr/src/crop-node.js';
import { ctcGreedyDecode } from '../examples/ocr/src/ctc-decode.js';
import { dbBoxes, DB_DEFAULTS } from '../examples/ocr/src/db-postprocess.js';
import { detInputSize, detTensor } from '../examples/ocr/src/det-input.js';
import { charsetFromDictionary } from '../examples/ocr/src/dictionary.js';
import { encodeFrame } from '../examples/ocr/src/frame.js';
import { minAreaRect } from '../examples/ocr/src/min-area-rect.js';
import { DICTIONARY_FILE, modelAsset } from '../examples/ocr/src/model-files.js';
import { decodeCrops, decodeDetOutput, encodeCrops, encodeDetOutput } from '../examples/ocr/src/node-frames.js';
import { CROP_DEFAULTS, DET_DEFAULTS, readOptions, REC_DEFAULTS } from '../examples/ocr/src/options.js';
import { readingOrder } from '../examples/ocr/src/reading-order.js';
import { checkLineSizes, MAX_SCALED_WIDTH, recBatches } from '../examples/ocr/src/rec-input.js';
import { resizeRgb } from '../examples/ocr/src/resize.js';
import { rectCorners } from '../examples/ocr/src/rotated-rect.js';
import type { Quad, RgbImage } from '../examples/ocr/src/types.js';
import { unclip } from '../examples/ocr/src/unclip.js';

/** Scores for a sequence of chosen classes: `p` for the chosen one, the rest shared out. */
function scores(chosen: number[], classes: number, p = 0.9): Float32Array {
  const out = new Float32Array(chosen.length * classes).fill((1 - p) / (classes - 1));
  chosen.forEach((c, t) => (out[t * classes + c] = p));
  return out;
}

/** An image whose pixel (x, y) is (x, y, 7): easy to tell where a sample came from. */
function coordinateImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  return { width, height, data };
}
const pixel = (img: RgbImage, x: number, y: number): number[] => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];

const box = (x0: number, y0: number, x1: number, y1: number): Quad => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];

describe('CTC greedy decoding', () => {
  const charset = ['', 'a', 'b', ' '];

  it('collapses repeats, drops blanks, and keeps a letter doubled across a blank', () => {
    expect(ctcGreedyDecode(scores([1, 1, 0, 1, 2, 2, 0, 3, 2], 4), 9, 4, charset).text).toBe('aab b');
  });

  it('gives the mean probability of the characters it kept as the confidence', () => {
    const s = scores([1, 1, 0, 2], 4);
    s[1 * 4 + 1] = 0.5; // the repeat is not counted; only the first of a run is
    s[3 * 4 + 2] = 0.7;
    const r = ctcGreedyDecode(s, 4, 4, charset);
    expect(r.text).toBe('ab');
    expect(r.confidence).toBeCloseTo((0.9 + 0.7) / 2, 6);
  });

  it('reads an all-blank sequence as empty text with confidence 0', () => {
    expect(ctcGreedyDecode(scores([0, 0, 0], 4), 3, 4, charset)).toEqual({ text: '', confidence: 0 });
  });

  it('decodes the n-th sequence of a batch from its offset', () => {
    const batch = new Float32Array([...scores([1, 0], 4), ...scores([2, 3, 1], 4).subarray(0, 8)]);
    expect(ctcGreedyDecode(batch, 2, 4, charset, 8).text).toBe('b ');
  });
});

describe('dictionary', () => {
  it('puts the blank first and the space last, and drops only line endings', () => {
    expect(charsetFromDictionary('a\nb\r\n c\n')).toEqual(['', 'a', 'b', ' c', ' ']);
  });

  it("gives PaddleOCR's 6625 classes for ppocr_keys_v1.txt, the recogniser's output size", async () => {
    const charset = charsetFromDictionary(await readFile(modelAsset(DICTIONARY_FILE), 'utf8'));
    expect(charset.length).toBe(6625);
    expect(charset).toContain('A');
    expect(charset.indexOf(' ')).toBe(6624);
  });
});

describe('reading order', () => {
  it('reads rows top to bottom and each row left to right, whatever the input order and jitter of tops', () => {
    const items = [
      { id: 'row2-right', box: box(200, 52, 260, 70) },
      { id: 'row1-right', box: box(150, 12, 220, 30) },
      { id: 'row3', box: box(10, 90, 100, 110) },
      { id: 'row1-left', box: box(10, 10, 120, 31) },
      { id: 'row2-left', box: box(12, 50, 90, 71) },
      { id: 'row1-middle', box: box(125, 14, 145, 29) },
    ];
    expect(readingOrder(items).map((i) => i.id)).toEqual(['row1-left', 'row1-middle', 'row1-right', 'row2-left', 'row2-right', 'row3']);
  });

  it('keeps a line that only touches the row above in a row of its own', () => {
    const items = [{ id: 'b', box: box(0, 28, 50, 48) }, { id: 'a', box: box(60, 10, 120, 30) }];
    expect(readingOrder(items).map((i) => i.id)).toEqual(['a', 'b']);
  });
});

describe('rectangles', () => {
  it('unclip grows each side by area * ratio / perimeter', () => {
    const square = { center: [5, 5] as const, width: 10, height: 10, angle: 0 };
    expect(unclip(square, 1.5)).toEqual({ ...square, width: 17.5, height: 17.5 });
    const line = { center: [50, 10] as const, width: 100, height: 20, angle: 0.1 };
    const grown = unclip(line, 1.5); // d = 2000 * 1.5 / 240 = 12.5
    expect(grown.width).toBeCloseTo(125, 9);
    expect(grown.height).toBeCloseTo(45, 9);
    expect(grown.center).toEqual(line.center);
    expect(grown.angle).toBe(0.1);
    expect(unclip({ center: [1, 1], width: 0, height: 0, angle: 0 }, 1.5).width).toBe(0);
  });

  it('minAreaRect finds a turned rectangle from its corners and inner points', () => {
    const turned = rectCorners({ center: [50, 40], width: 40, height: 10, angle: Math.PI / 6 });
    const rect = minAreaRect([...turned, [50, 40], [55, 42]]);
    expect(rect.width).toBeCloseTo(40, 6);
    expect(rect.height).toBeCloseTo(10, 6);
    expect(rect.angle).toBeCloseTo(Math.PI / 6, 6);
    expect(rect.center[0]).toBeCloseTo(50, 6);
    expect(rect.center[1]).toBeCloseTo(40, 6);
  });

  it('keeps the width axis nearest the horizontal, so a tall box stays tall', () => {
    const rect = minAreaRect([[0, 0], [4, 0], [4, 30], [0, 30]]);
    expect(rect).toMatchObject({ width: 4, height: 30, angle: 0 });
    expect(rectCorners(rect)).toEqual([[0, 0], [4, 0], [4, 30], [0, 30]]);
  });
});

describe('detection input', () => {
  it('scales down to the long-side cap and rounds each side to a multiple of 32', () => {
    expect(detInputSize(560, 300, 960)).toEqual({ width: 576, height: 288 });
    expect(detInputSize(1600, 166, 960)).toEqual({ width: 960, height: 96 });
    expect(detInputSize(3000, 4000, 960)).toEqual({ width: 736, height: 960 }); // 720 rounds up
    expect(detInputSize(10, 10, 960)).toEqual({ width: 32, height: 32 });
  });

  it('normalises with the ImageNet mean and std, channels in BGR order, CHW', () => {
    const t = detTensor({ width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 255, 255]) });
    // Pixel 0 is red: channel 0 (blue) is 0, channel 2 (red) is 255.
    expect(t[0]).toBeCloseTo((0 - 0.485) / 0.229, 5);
    expect(t[4]).toBeCloseTo((1 - 0.406) / 0.225, 5);
    expect(t[1]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(t[3]).toBeCloseTo((1 - 0.456) / 0.224, 5);
  });
});

describe('DB post-processing', () => {
  it('labels 8-connected regions with their row extents', () => {
    const mask = new Uint8Array([
      1, 1, 0, 0, 0,
      0, 0, 1, 0, 1,
      0, 0, 0, 0, 1,
    ]);
    const found = connectedComponents(mask, 5, 3);
    expect(found.map((c) => c.pixels)).toEqual([3, 2]);
    expect([...found[0]!.rowMin]).toEqual([0, 2]);
    expect([...found[0]!.rowMax]).toEqual([1, 2]);
    expect(found[1]).toMatchObject({ top: 1, bottom: 2 });
  });

  it('turns a text region into an unclipped box in source coordinates and drops specks and weak regions', () => {
    const width = 40;
    const height = 20;
    const data = new Float32Array(width * height);
    const fill = (x0: number, y0: number, x1: number, y1: number, p: number): void => {
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = p;
    };
    fill(5, 5, 24, 9, 0.9); // text: 20 x 5 pixels
    fill(30, 2, 31, 3, 0.95); // a speck under minSize
    fill(28, 12, 38, 17, 0.4); // over the threshold, under boxThreshold
    const boxes = dbBoxes({ data, width, height }, 80, 40, DB_DEFAULTS);
    // Region 19 x 4 between pixel centres; d = 76 * 1.5 / 46; corners scaled by 2 and rounded.
    expect(boxes).toEqual([{ box: [[5, 5], [53, 5], [53, 23], [5, 23]], score: expect.closeTo(0.9, 6) }]);
  });
});

describe('cropping', () => {
  it('cuts an upright box out pixel for pixel', () => {
    const img = coordinateImage(20, 10);
    const crop = cropLine(img, box(2, 3, 12, 8));
    expect([crop.width, crop.height]).toEqual([10, 5]);
    expect(pixel(crop, 0, 0)).toEqual([2, 3, 7]);
    expect(pixel(crop, 9, 4)).toEqual([11, 7, 7]);
  });

  it('turns a tall crop a quarter counter-clockwise, so its right edge becomes the top', () => {
    const img = coordinateImage(20, 12);
    const crop = cropLine(img, box(2, 0, 5, 9));
    expect([crop.width, crop.height]).toEqual([9, 3]);
    // Output column i walks down the source's right edge.
    expect(pixel(crop, 0, 0)).toEqual([5, 0, 7]);
    expect(pixel(crop, 4, 0)).toEqual([5, 4, 7]);
    expect(pixel(crop, 0, 2)).toEqual([3, 0, 7]);
  });

  it('copies an upright box on whole pixels row by row, exactly as the warp samples it', () => {
    const img = coordinateImage(50, 30);
    for (const q of [box(0, 0, 50, 30), box(3, 4, 40, 11), box(7, 2, 30, 20)]) expect(cropLine(img, q)).toEqual(warpQuad(img, q));
  });

  it('scales crops taller than the line height down to it, at the width the recogniser would choose', () => {
    const img = coordinateImage(200, 120);
    const [tall, short] = cropBoxes(img, [{ box: box(0, 0, 150, 96), score: 1 }, { box: box(0, 100, 60, 120), score: 1 }], 48);
    expect([tall!.image.width, tall!.image.height]).toEqual([75, 48]);
    expect([short!.image.width, short!.image.height]).toEqual([60, 20]);
    expect(cropBoxes(img, [{ box: box(0, 0, 150, 96), score: 1 }], 0)[0]!.image.height).toBe(96);
  });

  it('refuses a det frame whose box lies outside its image, which could ask for a crop of any size', async () => {
    const png = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const frame = (b: Quad) => encodeDetOutput({ width: 40, height: 20, boxes: [{ box: b, score: 1 }], image: png });
    const crops = decodeCrops(await cropNode(frame(box(1, 1, 39, 19)), CROP_DEFAULTS));
    expect(crops.map((c) => [c.image.width, c.image.height])).toEqual([[38, 18]]);
    await expect(cropNode(frame(box(1, 1, 1e9, 19)), CROP_DEFAULTS)).rejects.toMatchObject({ status: 400, message: 'Input is not the OCR det node output (boxes[0] lies outside the 40x20 image)' });
    const lying = encodeDetOutput({ width: 80, height: 20, boxes: [{ box: box(1, 1, 39, 19), score: 1 }], image: png });
    await expect(cropNode(lying, CROP_DEFAULTS)).rejects.toMatchObject({ status: 400, message: 'Input is not the OCR det node output (boxes are for 80x20, the image is 40x20)' });
  });

  it('straightens a turned line: its crop is as long as the line and reads along it', () => {
    const img = coordinateImage(100, 100);
    const turned = rectCorners({ center: [50, 50], width: 40, height: 8, angle: Math.PI / 8 });
    const crop = cropLine(img, turned);
    expect([crop.width, crop.height]).toEqual([40, 8]);
    const [x0, y0] = pixel(crop, 0, 4);
    const [x1, y1] = pixel(crop, 39, 4);
    expect(Math.atan2(y1! - y0!, x1! - x0!)).toBeCloseTo(Math.PI / 8, 1);
  });
});

describe('recognition input', () => {
  it('scales lines to height 48, sorts them by width into batches, pads with 0 and normalises BGR to [-1, 1]', () => {
    const line = (w: number, h: number, rgb: number[]): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3).map((_, i) => rgb[i % 3]!) });
    const lines = [line(40, 24, [255, 255, 255]), line(10, 24, [255, 0, 0]), line(20, 48, [0, 0, 0])];
    const batches = recBatches(lines, { height: 48, minWidth: 16, maxBatch: 2 });
    expect(batches.map((b) => [b.indices, b.width])).toEqual([[[1, 2], 20], [[0], 80]]);
    const [first] = batches;
    const plane = 48 * 20;
    // Line 1 (red, scaled to 20 wide) fills its batch: blue -1, red +1.
    expect(first!.data[0]).toBe(-1);
    expect(first!.data[2 * plane]).toBe(1);
    // Line 2 (black, 20 wide) is -1 everywhere.
    expect(first!.data[3 * plane + 19]).toBe(-1);
    const padded = recBatches([line(10, 48, [255, 255, 255])], { height: 48, minWidth: 32, maxBatch: 8 })[0]!;
    expect(padded.width).toBe(32);
    expect(padded.data[9]).toBe(1);
    expect(padded.data[10]).toBe(0);
  });

  it('refuses a line that would be too wide at the model height', () => {
    const line = (w: number, h: number): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3) });
    expect(() => checkLineSizes([line(4000, 40), line(MAX_SCALED_WIDTH, 48)], 48)).not.toThrow();
    expect(() => checkLineSizes([line(10, 10), line(1000, 1)], 48)).toThrow('Line 1 (1000x1) would be 48000 pixels wide at height 48, over the limit of 32768');
  });

  it('resizes without aliasing: halving alternate black and white columns gives grey', () => {
    const stripes: RgbImage = { width: 8, height: 2, data: new Uint8Array(8 * 2 * 3).map((_, i) => (Math.floor(i / 3) % 2 === 0 ? 0 : 255)) };
    const half = resizeRgb(stripes, 4, 1);
    for (const v of half.data) expect(Math.abs(v - 127.5)).toBeLessThan(40);
    const flat = resizeRgb({ width: 3, height: 3, data: new Uint8Array(27).fill(200) }, 7, 5);
    expect(new Set(flat.data)).toEqual(new Set([200]));
  });
});

describe('frames between nodes', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

  it('carries the det output: boxes, size and the source image bytes', () => {
    const det = { width: 640, height: 480, boxes: [{ box: box(1, 2, 30, 12), score: 0.75 }], image: png };
    const bytes = encodeDetOutput(det);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('OCR1');
    expect(decodeDetOutput(bytes)).toEqual(det);
  });

  it('carries the crops: one RGB image per line, in order', () => {
    const crops = [
      { box: box(0, 0, 3, 2), score: 0.9, image: { width: 3, height: 2, data: new Uint8Array(18).fill(1) } },
      { box: box(5, 5, 6, 6), score: 0.8, image: { width: 1, height: 1, data: new Uint8Array([9, 8, 7]) } },
    ];
    const back = decodeCrops(encodeCrops(crops));
    expect(back.map((c) => [c.box, c.score, c.image.width, c.image.height, [...c.image.data]])).toEqual(
      crops.map((c) => [c.box, c.score, c.image.width, c.image.height, [...c.image.data]]),
    );
    expect(decodeCrops(encodeCrops([]))).toEqual([]);
  });

  it('refuses what is not the expected frame with a 400 that says why', () => {
    const refusal = (f: () => unknown): PredictionError => {
      try {
        f();
      } catch (err) {
        return err as PredictionError;
      }
      throw new Error('was not refused');
    };
    expect(refusal(() => decodeDetOutput(png))).toMatchObject({ status: 400, message: 'Input is not the OCR det node output (no OCR1 frame)' });
    expect(refusal(() => decodeCrops(encodeDetOutput({ width: 1, height: 1, boxes: [], image: png }))).message).toMatch(/kind is "ocr.det", expected "ocr.crops"/);
    const short = encodeFrame({ kind: 'ocr.crops', lines: [{ box: box(0, 0, 1, 1), score: 1, width: 2, height: 2 }] }, [new Uint8Array(11)]);
    expect(refusal(() => decodeCrops(short)).message).toMatch(/lines\[0\] needs 12 bytes of pixels past byte 0 of 11/);
    const overrun = encodeFrame({}, []);
    new DataView(overrun.buffer).setUint32(4, 1000);
    expect(refusal(() => decodeDetOutput(overrun)).message).toMatch(/header of 1000 bytes overruns/);
    expect(refusal(() => decodeDetOutput(encodeFrame({ kind: 'ocr.det', width: 1, height: 1, boxes: [{ box: [[0, 0]], score: 1 }] }, []))).message).toMatch(/boxes\[0\]/);
  });
});

describe('settings', () => {
  it('lays model-config values over the defaults and refuses unknown keys and bad values by name', () => {
    expect(readOptions(DET_DEFAULTS, { maxSide: 640 })).toEqual({ ...DET_DEFAULTS, maxSide: 640 });
    expect(() => readOptions(DET_DEFAULTS, { maxSide: 1000 })).toThrow('handler.maxSide must be a positive multiple of 32 (got 1000)');
    expect(() => readOptions(REC_DEFAULTS, { maxSide: 960 })).toThrow(/handler.maxSide is not a setting of this model/);
    expect(() => readOptions(REC_DEFAULTS, { dictionary: '../keys.txt' })).toThrow(/handler.dictionary must be a file name/);
  });
});
