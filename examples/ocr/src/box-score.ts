import type { Quad } from './types.js';

/** Whether (x, y) lies inside the convex quad (or on its edge), whichever way its corners turn. */
function insideConvex(q: Quad, x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const a = q[i]!;
    const b = q[(i + 1) % 4]!;
    const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    if (c === 0) continue;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/**
 * DB's box score: the mean of the probability map over the pixels whose centres fall inside the box
 * (a `width`×`height` map, row-major). 0 when no pixel centre is inside.
 */
export function boxScore(prob: Float32Array, width: number, height: number, box: Quad): number {
  const xs = box.map((p) => p[0]);
  const ys = box.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideConvex(box, x, y)) continue;
      sum += prob[y * width + x]!;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}
