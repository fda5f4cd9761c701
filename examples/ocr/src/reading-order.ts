import type { Quad } from './types.js';

function span(box: Quad): { top: number; bottom: number; left: number } {
  const ys = box.map((p) => p[1]);
  return { top: Math.min(...ys), bottom: Math.max(...ys), left: Math.min(...box.map((p) => p[0])) };
}

/**
 * Sorts boxes as a page is read: rows from top to bottom, each row from left to right. A box joins
 * the row above it when its vertical middle falls within that row's first box, or that box's middle
 * within it; so words of one line stay together however their tops jitter.
 */
export function readingOrder<T extends { readonly box: Quad }>(items: readonly T[]): T[] {
  const spans = items.map((item) => ({ item, ...span(item.box) }));
  spans.sort((a, b) => a.top - b.top || a.left - b.left);
  const rows: (typeof spans)[] = [];
  for (const s of spans) {
    const row = rows[rows.length - 1];
    const first = row?.[0];
    const middle = (s.top + s.bottom) / 2;
    const firstMiddle = first ? (first.top + first.bottom) / 2 : NaN;
    if (row && first && ((middle >= first.top && middle <= first.bottom) || (firstMiddle >= s.top && firstMiddle <= s.bottom))) row.push(s);
    else rows.push([s]);
  }
  return rows.flatMap((row) => row.sort((a, b) => a.left - b.left).map((s) => s.item));
}
