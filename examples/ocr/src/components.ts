/** One connected region of a binary map: its pixel count, bounds, and each row's leftmost and rightmost pixel. */
export interface Component {
  readonly pixels: number;
  readonly top: number;
  readonly bottom: number;
  /** Per row from `top` to `bottom`: the leftmost and rightmost x of the region on that row (-1 if none). */
  readonly rowMin: Int32Array;
  readonly rowMax: Int32Array;
}

/**
 * The 8-connected regions of the pixels where `mask` is set (a `width`×`height` map, row-major), in
 * the order their first pixel is met scanning row by row. Row extremes are all a convex hull of a
 * region needs, and keep each region small however many pixels it has.
 */
export function connectedComponents(mask: Uint8Array, width: number, height: number): Component[] {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const found: { pixels: number; top: number; bottom: number; left: number; right: number }[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = found.length + 1;
    const region = { pixels: 0, top: height, bottom: -1, left: width, right: -1 };
    let sp = 0;
    stack[sp++] = start;
    labels[start] = label;
    while (sp > 0) {
      const p = stack[--sp]!;
      const x = p % width;
      const y = (p - x) / width;
      region.pixels++;
      if (y < region.top) region.top = y;
      if (y > region.bottom) region.bottom = y;
      if (x < region.left) region.left = x;
      if (x > region.right) region.right = x;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !labels[q]) {
            labels[q] = label;
            stack[sp++] = q;
          }
        }
      }
    }
    found.push(region);
  }
  return found.map((r, i) => {
    const label = i + 1;
    const rows = r.bottom - r.top + 1;
    const rowMin = new Int32Array(rows).fill(-1);
    const rowMax = new Int32Array(rows).fill(-1);
    for (let y = r.top; y <= r.bottom; y++) {
      const row = y * width;
      for (let x = r.left; x <= r.right; x++) {
        if (labels[row + x] !== label) continue;
        if (rowMin[y - r.top] === -1) rowMin[y - r.top] = x;
        rowMax[y - r.top] = x;
      }
    }
    return { pixels: r.pixels, top: r.top, bottom: r.bottom, rowMin, rowMax };
  });
}
