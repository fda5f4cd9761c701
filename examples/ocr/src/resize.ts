import type { RgbImage } from './types.js';

/** For each output index: the first source index it reads, how many, and their weights (summing to 1). */
interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float32Array;
  readonly stride: number;
}

/**
 * Weights of a triangle filter widened by the scale factor when shrinking, so every source pixel
 * counts (plain bilinear would skip pixels and alias thin strokes of text). Edges are clamped.
 */
function taps(from: number, to: number): Taps {
  const scale = from / to;
  const support = Math.max(1, scale);
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(to);
  const count = new Int32Array(to);
  const weights = new Float32Array(to * stride);
  for (let i = 0; i < to; i++) {
    const centre = (i + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.floor(centre - support) + 1);
    const hi = Math.min(from - 1, Math.ceil(centre + support) - 1);
    let sum = 0;
    for (let s = lo; s <= hi; s++) {
      const w = Math.max(0, 1 - Math.abs(s - centre) / support);
      weights[i * stride + (s - lo)] = w;
      sum += w;
    }
    if (sum === 0) {
      // Past the edge (upscaling the border pixel): take the nearest source pixel.
      const nearest = Math.min(from - 1, Math.max(0, Math.round(centre)));
      start[i] = nearest;
      count[i] = 1;
      weights[i * stride] = 1;
      continue;
    }
    for (let k = 0; k <= hi - lo; k++) weights[i * stride + k]! /= sum;
    start[i] = lo;
    count[i] = hi - lo + 1;
  }
  return { start, count, weights, stride };
}

/** Resizes an RGB image to `width`×`height` (separable triangle filter, antialiased when shrinking). */
export function resizeRgb(src: RgbImage, width: number, height: number): RgbImage {
  if (src.width === width && src.height === height) return src;
  const h = taps(src.width, width);
  const v = taps(src.height, height);
  // Horizontal pass into floats, then vertical into bytes: one rounding, at the end.
  const mid = new Float32Array(width * src.height * 3);
  for (let y = 0; y < src.height; y++) {
    const row = y * src.width * 3;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = x * h.stride;
      for (let k = 0, s = row + h.start[x]! * 3; k < h.count[x]!; k++, s += 3) {
        const w = h.weights[base + k]!;
        r += src.data[s]! * w;
        g += src.data[s + 1]! * w;
        b += src.data[s + 2]! * w;
      }
      const o = (y * width + x) * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  const out = new Uint8Array(width * height * 3);
  const rowLen = width * 3;
  const acc = new Float32Array(rowLen);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    const base = y * v.stride;
    for (let k = 0; k < v.count[y]!; k++) {
      const w = v.weights[base + k]!;
      const s = (v.start[y]! + k) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i]! += mid[s + i]! * w;
    }
    // A Uint8Array store wraps instead of clamping, and filter rounding can pass 255.
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) out[o + i] = Math.min(255, Math.max(0, Math.round(acc[i]!)));
  }
  return { width, height, data: out };
}
