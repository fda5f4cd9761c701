import { boxScore } from './box-score.js';
import { connectedComponents } from './components.js';
import { minAreaRect } from './min-area-rect.js';
import { edge, mapQuad } from './quad.js';
import { rectCorners } from './rotated-rect.js';
import type { Point, TextBox } from './types.js';
import { unclip } from './unclip.js';

/** DB post-processing settings; the defaults are PaddleOCR's for PP-OCRv4 detection. */
export interface DbOptions {
  /** Probability above which a pixel counts as text. */
  readonly threshold: number;
  /** Mean probability a box needs to be kept. */
  readonly boxThreshold: number;
  /** How far a found region is grown back (see {@link unclip}). */
  readonly unclipRatio: number;
  /** Boxes whose shorter side is under this many map pixels are noise. */
  readonly minSize: number;
  /** At most this many regions are looked at (the largest first would be better, but text maps rarely get near). */
  readonly maxCandidates: number;
}

export const DB_DEFAULTS: DbOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 };

/** The probability map of one image and the size of the source image its boxes are reported in. */
export interface ProbabilityMap {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Text boxes from DB's probability map: threshold, connected regions, the smallest rectangle around
 * each, its score, unclip, and the corners scaled to the source image (rounded, clipped to it). The
 * boxes come in the order the regions were found (top first); reading order is a separate step.
 */
export function dbBoxes(map: ProbabilityMap, sourceWidth: number, sourceHeight: number, options: DbOptions = DB_DEFAULTS): TextBox[] {
  const { data, width, height } = map;
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = data[i]! > options.threshold ? 1 : 0;
  const scaleX = sourceWidth / width;
  const scaleY = sourceHeight / height;
  const out: TextBox[] = [];
  for (const region of connectedComponents(mask, width, height).slice(0, options.maxCandidates)) {
    const points: Point[] = [];
    for (let r = 0; r < region.rowMin.length; r++) {
      if (region.rowMin[r]! < 0) continue;
      points.push([region.rowMin[r]!, region.top + r], [region.rowMax[r]!, region.top + r]);
    }
    const rect = minAreaRect(points);
    if (Math.min(rect.width, rect.height) < options.minSize) continue;
    const score = boxScore(data, width, height, rectCorners(rect));
    if (score < options.boxThreshold) continue;
    const grown = unclip(rect, options.unclipRatio);
    if (Math.min(grown.width, grown.height) < options.minSize + 2) continue;
    const box = mapQuad(rectCorners(grown), ([x, y]): Point => [
      Math.min(Math.max(Math.round(x * scaleX), 0), sourceWidth - 1),
      Math.min(Math.max(Math.round(y * scaleY), 0), sourceHeight - 1),
    ]);
    // Clipping to the image can squash a box at its edge into a sliver.
    if (edge(box, 0, 1) <= 3 || edge(box, 0, 3) <= 3) continue;
    out.push({ box, score });
  }
  return out;
}
